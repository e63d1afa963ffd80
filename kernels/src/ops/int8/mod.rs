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
/// roundings), then offset and clamp. For multipliers in [0, 2^31) (all that the build time
/// makes). `new` is `const`: generated code builds these in statics.
///
/// For shifts in -23..=-1 (what conv layers get) the two roundings and the offset reduce to one
/// 64-bit multiply-add onto a constant chosen by the sign of the accumulator and one shift
/// ([`Rounding`], proof there); other shifts take `general`.
#[derive(Clone, Copy, Debug)]
pub struct ChannelRequant {
    multiplier: i32,
    /// `2^left` for a positive shift (a wrapping multiply is the wrapping left shift), else 1.
    left_factor: i32,
    /// The right shift (the negative shift) minus 1, applied when `rounds_twice`.
    right_minus_one: u32,
    rounds_twice: bool,
    /// Added to `x * multiplier` (x after the left shift) when the product plus 2^30 is
    /// non-negative, resp. negative (see `general`).
    round: i64,
    round_negative: i64,
    /// The product plus 2^30 is negative exactly for x at or below this.
    last_negative: i32,
    /// The nudge of [`Rounding`] (offset folded in), when the shift allows it.
    nudge: i64,
    folded: bool,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
}

/// Shifts of [`Rounding`]: 1..=23 to the right (beyond, the folded offset overflows the high
/// word).
const FOLDED_RIGHT: core::ops::RangeInclusive<u32> = 1..=23;

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
        let folded = *FOLDED_RIGHT.start() <= right && right <= *FOLDED_RIGHT.end();
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
            nudge: if folded {
                round + ((output_offset as i64) << (31 + right))
            } else {
                0
            },
            folded,
            output_offset,
            act_min,
            act_max,
        }
    }

    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        match self.rounding() {
            Some(r) => r.apply(acc),
            None => {
                let v = self.general(acc).wrapping_add(self.output_offset);
                fixed_point::clamp_i8(v, self.act_min, self.act_max)
            }
        }
    }

    /// The single-multiply form, for shifts in -23..=-1.
    #[inline(always)]
    pub fn rounding(&self) -> Option<Rounding> {
        if !self.folded {
            return None;
        }
        Some(Rounding {
            multiplier: self.multiplier,
            nudge: self.nudge,
            shift: self.right_minus_one,
            act_min: self.act_min,
            act_max: self.act_max,
        })
    }

    /// `multiply_by_quantized_multiplier(acc, multiplier, shift)`.
    #[inline(always)]
    fn general(&self, acc: i32) -> i32 {
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

/// A channel's requantization for a right shift r in 1..=23: with S = 31 + r, TFLM's result
/// plus the offset z is
///
/// `floor((x * m + 2^30 + 2^(S-1) + z * 2^S - [x < 0] * 2^31) / 2^S)`.
///
/// Why: the first rounding is floor(p / 2^31) with p = x * m + 2^30, the second adds
/// 2^(r-1) - [v < 0] and floors by 2^r; floor(floor(a / b) / c) = floor(a / (b c)) nests them
/// with [v < 0] = [p < 0]. [p < 0] may be replaced by [x < 0]: they differ only for x < 0 with
/// p in [0, 2^30], where both forms give 0 (the numerator stays in [0, 2^S) as S >= 32). With
/// |x * m| < 2^62 and |z| <= 2^7 nothing overflows 64 bits, and the high word (the floor by 2^32)
/// stays within 2^30 + 2^29: one SMLAL onto the nudge, then an arithmetic shift by r - 1.
#[derive(Clone, Copy, Debug)]
pub struct Rounding {
    multiplier: i32,
    /// 2^30 + 2^(S-1) + z * 2^S.
    nudge: i64,
    /// r - 1.
    shift: u32,
    act_min: i32,
    act_max: i32,
}

impl Rounding {
    /// TFLM's two roundings plus the output offset, before the clamp.
    #[inline(always)]
    pub fn scale(&self, acc: i32) -> i32 {
        dsp::high_mul_add_signed(acc, self.multiplier, self.nudge) >> self.shift
    }

    /// `scale` clamped to the activation bounds.
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        fixed_point::clamp_i8(self.scale(acc), self.act_min, self.act_max)
    }

    /// Whether the activation bounds are all of int8.
    #[inline(always)]
    pub fn full_range(&self) -> bool {
        self.act_min == -128 && self.act_max == 127
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
                let v = rq.channel(0).general(acc);
                let want = fixed_point::multiply_by_quantized_multiplier(acc, multiplier, shift);
                assert_eq!(v, want, "acc {acc} multiplier {multiplier} shift {shift}");
            }
        }
    }

    /// TFLM's MultiplyByQuantizedMultiplier as its reference code states it (saturating
    /// doubling high multiply, then the mask-and-threshold rounding divide), plus offset and
    /// clamp.
    fn tflm_requant(acc: i32, multiplier: i32, shift: i32, offset: i32, lo: i32, hi: i32) -> i8 {
        let (left, right) = (shift.max(0), (-shift).max(0));
        let a = acc.wrapping_mul(1 << left);
        let high = if a == i32::MIN && multiplier == i32::MIN {
            i32::MAX
        } else {
            let product = i64::from(a) * i64::from(multiplier);
            let nudge = if product >= 0 { 1 << 30 } else { 1 - (1 << 30) };
            ((product + nudge) / (1_i64 << 31)) as i32
        };
        let mask = ((1_i64 << right) - 1) as i32;
        let threshold = (mask >> 1) + i32::from(high < 0);
        let v = (high >> right) + i32::from((high & mask) > threshold);
        v.wrapping_add(offset).clamp(lo, hi) as i8
    }

    /// `apply` (either form) equals TFLM on edge and sampled accumulators, for every shift the
    /// converter makes (-31..=30) and multipliers across [2^30, 2^31) plus 0.
    #[test]
    fn apply_equals_tflm_on_edges() {
        let mut seed = 7_u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 32) as u32
        };
        // 0, ±1, ±2^k - 1, ±2^k, ±2^k + 1 (k = 1..=30), i32::MIN, i32::MAX and neighbours.
        let mut accs = [0_i32; 7 + 30 * 6];
        accs[..7].copy_from_slice(&[i32::MIN, i32::MAX, 0, 1, -1, i32::MIN + 1, i32::MAX - 1]);
        for (k, six) in (1..31).zip(accs[7..].chunks_exact_mut(6)) {
            let p: i32 = 1 << k;
            six.copy_from_slice(&[p - 1, p, p + 1, -p - 1, -p, -p + 1]);
        }
        let mut multipliers = [
            0,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
            i32::MAX - 1,
            0,
            0,
            0,
            0,
        ];
        for m in &mut multipliers[5..] {
            *m = (1 << 30) | (next() >> 2) as i32;
        }
        for shift in -31..=30 {
            for &m in &multipliers {
                for (offset, lo, hi) in [
                    (0, -128, 127),
                    (-128, -128, 127),
                    (5, -3, 90),
                    (127, 0, 127),
                ] {
                    let rq = ChannelRequant::new(m, shift, offset, lo, hi);
                    let sampled = (0..64).map(|k| (next() as i32) >> (k % 32));
                    for acc in accs.iter().copied().chain(sampled) {
                        assert_eq!(
                            rq.apply(acc),
                            tflm_requant(acc, m, shift, offset, lo, hi),
                            "acc {acc} multiplier {m} shift {shift} offset {offset}"
                        );
                    }
                }
            }
        }
    }

    /// The single-multiply form before the clamp equals the two roundings plus the offset on
    /// many random accumulators (no clamp hides a difference).
    #[test]
    fn rounding_equals_the_two_roundings() {
        let mut seed = 3_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        for shift in -23..=-1 {
            for _ in 0..20_000 {
                let m = match next() % 3 {
                    0 => 1 << 30,
                    _ => (1 << 30) | (next() >> 2) as i32,
                };
                let offset = (next() % 256) as i32 - 128;
                let acc = (next() as i32) >> (next() % 32);
                let r = ChannelRequant::new(m, shift, offset, -128, 127)
                    .rounding()
                    .unwrap();
                let want = fixed_point::multiply_by_quantized_multiplier(acc, m, shift) + offset;
                assert_eq!(r.scale(acc), want, "acc {acc} multiplier {m} shift {shift}");
            }
        }
    }
}
