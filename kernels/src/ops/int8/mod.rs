//! int8 kernels with TensorFlow Lite Micro's arithmetic (bit-exact with its reference kernels).
//! Build-time code computes the multipliers and shifts; see docs/int8.md.
pub mod activation;
pub mod conv;
pub mod elementwise;
pub mod fixed_point;
pub mod fully_connected;
pub mod mean;
pub mod pool;
pub mod quantize;
pub mod softmax;

/// Requantization of int32 accumulators to int8: per output channel (or one for all)
/// multiplier and shift, output zero point, and the clamp of the fused activation.
#[derive(Clone, Copy, Debug)]
pub struct Requant<'a> {
    pub multiplier: &'a [i32],
    pub shift: &'a [i32],
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
}

impl Requant<'_> {
    #[inline(always)]
    pub fn apply(&self, acc: i32, channel: usize) -> i8 {
        let k = if self.multiplier.len() == 1 {
            0
        } else {
            channel
        };
        let v =
            fixed_point::multiply_by_quantized_multiplier(acc, self.multiplier[k], self.shift[k]);
        fixed_point::clamp_i8(v + self.output_offset, self.act_min, self.act_max)
    }
}
