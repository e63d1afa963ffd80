//! int8 kernels with TensorFlow Lite Micro's arithmetic (bit-exact with its reference kernels).
//! Build-time code computes the multipliers and shifts; see docs/int8.md.
pub mod activation;
pub mod conv;
pub mod depthwise;
#[allow(unsafe_code)]
pub mod dsp;
pub mod elementwise;
pub mod fixed_point;
pub mod fully_connected;
pub mod gemm;
pub mod integer;
pub mod lstm;
pub mod mean;
pub mod pool;
pub mod quantize;
pub mod softmax;
pub mod svdf;

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
        ChannelRequant::new(
            self.multiplier[k],
            self.shift[k],
            self.output_offset,
            self.act_min,
            self.act_max,
        )
    }
}

/// The requantization of one output channel: `multiply_by_quantized_multiplier` (TFLM's two
/// roundings) as one 64-bit multiply-add and a shift, then offset and clamp. For multipliers in
/// [0, 2^31) (all that the build time makes). `new` is `const`: generated code builds these in
/// statics.
#[derive(Clone, Copy, Debug)]
pub struct ChannelRequant {
    multiplier: i32,
    /// `2^left` for a positive shift (a wrapping multiply is the wrapping left shift), else 1.
    left_factor: i32,
    /// The right shift (the negative shift) minus 1, applied when `rounds_twice`.
    right_minus_one: u32,
    rounds_twice: bool,
    /// Added to `x * multiplier` (x after the left shift) when the product plus 2^30 is
    /// non-negative, resp. negative (see `scale`).
    round: i64,
    round_negative: i64,
    /// The product plus 2^30 is negative exactly for x at or below this.
    last_negative: i32,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
}

impl ChannelRequant {
    pub const fn new(
        multiplier: i32,
        shift: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
    ) -> Self {
        let left = if shift > 0 { shift as u32 } else { 0 };
        let right = if shift < 0 { -shift as u32 } else { 0 };
        let round = if right == 0 {
            1 << 30
        } else {
            (1 << 30) + (1 << (30 + right))
        };
        ChannelRequant {
            multiplier,
            left_factor: 1_u32.wrapping_shl(left) as i32,
            right_minus_one: right.saturating_sub(1),
            rounds_twice: right > 0,
            round,
            round_negative: round - (1 << 31),
            // x * m < -2^30  <=>  x < -2^30 / m  <=>  x <= -floor(2^30 / m) - 1 (m > 0).
            last_negative: if multiplier > 0 {
                (-((1_i64 << 30) / multiplier as i64) - 1) as i32
            } else {
                i32::MIN
            },
            output_offset,
            act_min,
            act_max,
        }
    }

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
        // A left shift only comes with a single rounding (shift > 0).
        if !self.rounds_twice {
            let product =
                i64::from(acc.wrapping_mul(self.left_factor)) * i64::from(self.multiplier);
            return ((product + self.round) >> 31) as i32;
        }
        let product = i64::from(acc) * i64::from(self.multiplier);
        let round = if acc <= self.last_negative {
            self.round_negative
        } else {
            self.round
        };
        (((product + round) >> 32) as i32) >> self.right_minus_one
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
                let multiplier = match next() % 4 {
                    0 => 1 << 30,
                    1 => (next() >> 1) as i32,
                    _ => (1 << 30) + (next() >> 2) as i32,
                };
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
