//! int8 kernels with TensorFlow Lite Micro's arithmetic (bit-exact with its reference kernels).
//! Build-time code computes the multipliers and shifts; see docs/int8.md.
pub mod activation;
pub mod conv;
#[allow(unsafe_code)]
pub mod dsp;
pub mod elementwise;
pub mod fixed_point;
pub mod fully_connected;
pub mod gemm;
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
        self.channel(channel).apply(acc)
    }

    /// The requantization of output channel `channel`, its constants derived once.
    #[inline(always)]
    pub fn channel(&self, channel: usize) -> ChannelRequant {
        let k = if self.multiplier.len() == 1 {
            0
        } else {
            channel
        };
        let shift = self.shift[k];
        let right = (-shift).clamp(0, 31) as u32;
        ChannelRequant {
            multiplier: i64::from(self.multiplier[k]),
            left: shift.clamp(0, 31) as u32,
            right,
            round: if right == 0 { 0 } else { 1 << (30 + right) },
            output_offset: self.output_offset,
            act_min: self.act_min,
            act_max: self.act_max,
        }
    }
}

/// One channel of a [`Requant`]: `multiply_by_quantized_multiplier` (two roundings, TFLM's
/// definition) in 64-bit arithmetic without branches on the value, for multipliers other than
/// `i32::MIN` (build-time multipliers lie in [0, 2^31)).
#[derive(Clone, Copy, Debug)]
pub struct ChannelRequant {
    multiplier: i64,
    left: u32,
    right: u32,
    /// 2^(30 + right) when right > 0: the second rounding's half, scaled by 2^31.
    round: i64,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
}

impl ChannelRequant {
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        let v = self.scale(acc);
        fixed_point::clamp_i8(
            v.wrapping_add(self.output_offset),
            self.act_min,
            self.act_max,
        )
    }

    /// `multiply_by_quantized_multiplier(acc, multiplier, shift)`.
    #[inline(always)]
    fn scale(&self, acc: i32) -> i32 {
        // p = x * m + 2^30; the first rounding is floor(p / 2^31) =: v. The second,
        // floor((v + 2^(right-1) - [v < 0]) / 2^right), nests into one floor of
        // (p + 2^(30+right) - [p < 0] * 2^31) / 2^(31+right), as v < 0 exactly when p < 0.
        let p = i64::from(acc.wrapping_shl(self.left)) * self.multiplier + (1 << 30);
        if self.right == 0 {
            (p >> 31) as i32
        } else {
            let q = p + self.round - ((p >> 63) & (1 << 31));
            ((q >> 32) as i32) >> (self.right - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_requant_equals_the_two_roundings() {
        let mut seed = 99_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        for shift in -31..=30 {
            for _ in 0..2000 {
                let multiplier = (1 << 30) + (next() >> 2) as i32;
                let bits = next() % 32;
                let acc = (next() as i32) >> bits;
                let rq = Requant {
                    multiplier: &[multiplier],
                    shift: &[shift],
                    output_offset: 0,
                    act_min: i32::MIN,
                    act_max: i32::MAX,
                };
                let v = rq.channel(0).scale(acc);
                let want = fixed_point::multiply_by_quantized_multiplier(acc, multiplier, shift);
                assert_eq!(v, want, "acc {acc} multiplier {multiplier} shift {shift}");
            }
        }
    }
}
