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
/// roundings), then offset and clamp. For multipliers in [0, 2^31) and int8 offset and bounds
/// (all that the build time makes). `new` is `const`: generated code builds these in statics,
/// 16 bytes per channel.
///
/// For shifts in -23..=-1 (what conv layers get) the two roundings and the offset reduce to one
/// 64-bit multiply-add onto a precomputed nudge chosen by the sign of the accumulator and one
/// shift ([`Rounding`], proof there). Shifts -31..=-24 (channels of tiny scale, common in deep
/// layers) take the same form with the offset added after the shift; the others (shifts >= 0,
/// rare) take `general` out of line, which derives its constants from multiplier and shift.
/// `repr(C)`: `dsp::dot_wide_pairs_store` loads an entry as 4 words.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct ChannelRequant {
    /// The nudge of [`Rounding`] (offset folded in) for shifts -23..=-1, the same without the
    /// offset for shifts -31..=-24, else 0.
    nudge: i64,
    multiplier: i32,
    /// `-shift - 1`: for a right shift r, r - 1 (the shift of [`Rounding`]).
    right_minus_one: i8,
    /// The output offset where the nudge does not hold it (shifts outside -23..=-1), else 0.
    late_offset: i8,
    act_min: i8,
    act_max: i8,
}

// Generated code holds one per output channel in flash.
const _: () = assert!(core::mem::size_of::<ChannelRequant>() == 16);

/// `right_minus_one` of [`Rounding`]: right shifts 1..=23 (beyond, the folded offset overflows
/// the high word).
const FOLDED: core::ops::RangeInclusive<i8> = 0..=22;
// `apply_pair` tests the range in one unsigned compare.
const _: () = assert!(*FOLDED.start() == 0);
/// `right_minus_one` of right shifts 24..=31: the nudge without the offset.
const UNFOLDED: core::ops::RangeInclusive<i8> = 23..=30;

impl ChannelRequant {
    pub const fn new(
        multiplier: i32,
        shift: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
    ) -> Self {
        // A zero multiplier (a channel of zero scale, e.g. all-zero weights) scales to 0 at any
        // shift: taken as shift -1, the single-multiply form.
        let shift = if multiplier == 0 { -1 } else { shift };
        let right_minus_one = (-shift - 1) as i8;
        let folded = *FOLDED.start() <= right_minus_one && right_minus_one <= *FOLDED.end();
        let unfolded = *UNFOLDED.start() <= right_minus_one && right_minus_one <= *UNFOLDED.end();
        let right = -shift;
        ChannelRequant {
            nudge: if folded {
                (1 << 30) + (1 << (30 + right)) + ((output_offset as i64) << (31 + right))
            } else if unfolded {
                (1 << 30) + (1 << (30 + right))
            } else {
                0
            },
            multiplier,
            right_minus_one,
            late_offset: if folded { 0 } else { output_offset as i8 },
            act_min: act_min as i8,
            act_max: act_max as i8,
        }
    }

    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        if let Some(r) = self.rounding() {
            return r.apply(acc);
        }
        if UNFOLDED.contains(&self.right_minus_one) {
            // As `Rounding::scale` (the proof holds without the offset), then the offset.
            let high = dsp::high_mul_add_signed(acc, self.multiplier, self.nudge);
            let v = (high >> self.right_minus_one) + i32::from(self.late_offset);
            return fixed_point::clamp_i8(v, self.act_min.into(), self.act_max.into());
        }
        self.apply_general(acc)
    }

    /// `apply` of two accumulators of this channel, the form chosen once.
    #[inline(always)]
    pub fn apply_pair(&self, acc: [i32; 2]) -> [i8; 2] {
        // `FOLDED.contains` in one unsigned compare (negative values wrap above the range):
        // 2-3 % fewer instructions on qemu-an386's wide layers than `rounding` alone.
        if self.right_minus_one as u8 <= *FOLDED.end() as u8 {
            let r = self.folded_rounding();
            return acc.map(|a| r.apply(a));
        }
        acc.map(|a| self.apply(a))
    }

    /// Whether `saturate_pair::<LATE>` applies: bounds of all of int8 and a right shift in
    /// 1..=23 (`LATE`: 1..=31).
    #[inline(always)]
    pub fn saturates<const LATE: bool>(&self) -> bool {
        let last = if LATE { UNFOLDED.end() } else { FOLDED.end() };
        let shift = *FOLDED.start() <= self.right_minus_one && self.right_minus_one <= *last;
        shift && self.act_min == -128 && self.act_max == 127
    }

    /// `apply_pair` where `saturates::<LATE>` holds: one multiply-add and shift (`LATE`: plus
    /// the offset the nudge does not hold), then SSAT.
    #[inline(always)]
    pub fn saturate_pair<const LATE: bool>(&self, acc: [i32; 2]) -> [i8; 2] {
        dsp::saturate_pair::<LATE>(acc, self.multiplier, self.nudge, self.shift_offset())
    }

    /// The entry as the 4 words `dsp`'s blocks load: nudge low and high, multiplier,
    /// `shift_offset`.
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    #[inline(always)]
    pub(super) fn words(&self) -> [u32; 4] {
        let nudge = self.nudge as u64;
        [
            nudge as u32,
            (nudge >> 32) as u32,
            self.multiplier as u32,
            self.shift_offset(),
        ]
    }

    /// `right_minus_one` and `late_offset` as the low bytes of the entry's last word (one load).
    #[inline(always)]
    fn shift_offset(&self) -> u32 {
        let bytes = [
            self.right_minus_one,
            self.late_offset,
            self.act_min,
            self.act_max,
        ];
        u32::from_le_bytes(bytes.map(|b| b as u8))
    }

    /// `apply` for shifts >= 0: out of line, so that loops calling `apply` keep no
    /// registers or set-up for it.
    #[cold]
    #[inline(never)]
    fn apply_general(&self, acc: i32) -> i8 {
        let v = self.general(acc).wrapping_add(self.late_offset.into());
        fixed_point::clamp_i8(v, self.act_min.into(), self.act_max.into())
    }

    /// TFLM's `MultiplyByQuantizedMultiplier(acc, multiplier, shift)` plus the output offset,
    /// before any clamp: the single-multiply form where the shift allows, else `general`.
    #[inline(always)]
    pub fn scale(&self, acc: i32) -> i32 {
        match self.rounding() {
            Some(r) => r.scale(acc),
            None => self.general(acc).wrapping_add(self.late_offset.into()),
        }
    }

    /// The single-multiply form, for shifts in -23..=-1.
    #[inline(always)]
    pub fn rounding(&self) -> Option<Rounding> {
        if !FOLDED.contains(&self.right_minus_one) {
            return None;
        }
        Some(self.folded_rounding())
    }

    /// `rounding` where the shift is known to be in -23..=-1.
    #[inline(always)]
    fn folded_rounding(&self) -> Rounding {
        Rounding {
            multiplier: self.multiplier,
            nudge: self.nudge,
            shift: self.right_minus_one as u32,
            act_min: self.act_min.into(),
            act_max: self.act_max.into(),
        }
    }

    /// `multiply_by_quantized_multiplier(acc, multiplier, shift)`.
    #[inline(always)]
    fn general(&self, acc: i32) -> i32 {
        // p = x * m + 2^30; the first rounding is floor(p / 2^31) =: v. The second,
        // floor((v + 2^(right-1) - [v < 0]) / 2^right), nests into one floor of
        // (p + 2^(30+right) - [p < 0] * 2^31) / 2^(31+right), as v < 0 exactly when p < 0.
        // A left shift only comes with a single rounding (shift >= 0); x * 2^left wraps.
        let shift = -1 - i32::from(self.right_minus_one);
        if shift >= 0 {
            let product = i64::from(acc.wrapping_shl(shift as u32)) * i64::from(self.multiplier);
            return ((product + (1 << 30)) >> 31) as i32;
        }
        let right = -shift;
        let p = i64::from(acc) * i64::from(self.multiplier) + (1 << 30);
        let second = (1_i64 << (30 + right)) - if p < 0 { 1 << 31 } else { 0 };
        (((p + second) >> 32) as i32) >> (right - 1)
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
/// Without z the same holds for r up to 31 (`ChannelRequant::apply` then adds z).
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
                // `scale` (the single-multiply form where the shift allows), as the LSTM uses it.
                let scaled = ChannelRequant::new(multiplier, shift, 0, -128, 127).scale(acc);
                assert_eq!(
                    scaled, want,
                    "scale: acc {acc} multiplier {multiplier} shift {shift}"
                );
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

    /// `saturate_pair` equals `apply` wherever `saturates` holds, and `saturates` holds exactly
    /// for right shifts 1..=23 (`LATE`: 1..=31) with bounds -128..=127.
    #[test]
    fn saturate_pair_equals_apply() {
        saturate_pair_equals_apply_with::<false>(23);
        saturate_pair_equals_apply_with::<true>(31);
    }

    fn saturate_pair_equals_apply_with<const LATE: bool>(last: i32) {
        let mut seed = 5_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        for shift in -31..=30 {
            for (lo, hi) in [(-128, 127), (-128, 126), (-127, 127), (0, 127)] {
                let m = (1 << 30) | (next() >> 2) as i32;
                let offset = (next() % 256) as i32 - 128;
                let rq = ChannelRequant::new(m, shift, offset, lo, hi);
                let want = (-last..=-1).contains(&shift) && (lo, hi) == (-128, 127);
                let zero = ChannelRequant::new(0, shift, offset, lo, hi);
                assert_eq!(zero.saturates::<LATE>(), (lo, hi) == (-128, 127));
                assert_eq!(
                    rq.saturates::<LATE>(),
                    want,
                    "shift {shift} bounds {lo}..={hi}"
                );
                if !want {
                    continue;
                }
                for _ in 0..2000 {
                    let acc = [0, 1].map(|_| (next() as i32) >> (next() % 32));
                    let got = rq.saturate_pair::<LATE>(acc);
                    assert_eq!(got, acc.map(|a| rq.apply(a)), "acc {acc:?} shift {shift}");
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
