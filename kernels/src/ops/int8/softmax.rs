//! int8 softmax over the last axis (TFLM's quantized Softmax for int8 input, int8 or int16
//! output: input differences to the row maximum in Q5.26, gemmlowp exp, sum in Q12.19, fixed-point
//! reciprocal).

use super::fixed_point::{
    exp_on_negative_values, multiply_by_quantized_multiplier, reciprocal, rounding_divide_by_pot,
    rounding_doubling_high_mul,
};

const DIFF_INTEGER_BITS: i32 = 5;
const SUM_INTEGER_BITS: i32 = 12;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub rows: usize,
    pub depth: usize,
    /// beta * input scale as a multiplier with a left shift (Q5.26 result).
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    /// Differences below this contribute nothing.
    pub diff_min: i32,
}

pub fn softmax(p: &Softmax, x: &[i8], y: &mut [i8]) {
    softmax_rows(p, x, y, 8, |v| v.clamp(-128, 127) as i8);
}

/// int8 input, int16 output (scale 1/65536, zero point -32768), as TFLM.
pub fn softmax_i16(p: &Softmax, x: &[i8], y: &mut [i16]) {
    softmax_rows(p, x, y, 16, |v| {
        v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    });
}

/// Probabilities with `output_bits` bits, offset by the output type's minimum, then `narrow`ed.
fn softmax_rows<Y: Copy>(
    p: &Softmax,
    x: &[i8],
    y: &mut [Y],
    output_bits: i32,
    narrow: impl Fn(i32) -> Y,
) {
    let exp_of = |diff: i32| {
        let scaled = multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_left_shift);
        exp_on_negative_values(scaled, DIFF_INTEGER_BITS)
    };
    let lowest = -(1_i32 << (output_bits - 1));
    for (xs, ys) in x
        .chunks_exact(p.depth)
        .zip(y.chunks_exact_mut(p.depth))
        .take(p.rows)
    {
        let max = i32::from(xs.iter().copied().max().unwrap_or(0));
        let mut sum = 0_i32;
        for &v in xs {
            let diff = i32::from(v) - max;
            if diff >= p.diff_min {
                sum = sum.wrapping_add(rounding_divide_by_pot(exp_of(diff), SUM_INTEGER_BITS));
            }
        }
        let (scale, bits_over_unit) = reciprocal(sum, SUM_INTEGER_BITS);
        // Rows longer than 511 can ask for shifts past 31 (undefined in TFLM); cap them.
        let exponent = (bits_over_unit + 31 - output_bits).min(31);
        for (yv, &v) in ys.iter_mut().zip(xs) {
            let diff = i32::from(v) - max;
            *yv = if diff >= p.diff_min {
                let unscaled = rounding_doubling_high_mul(scale, exp_of(diff));
                narrow(rounding_divide_by_pot(unscaled, exponent) + lowest)
            } else {
                narrow(lowest)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_inputs_share_the_probability() {
        // Scale 1/16, beta 1: multiplier 0.5 * 2^31 with shift 23 (= 2^26 / 16).
        let p = Softmax {
            rows: 1,
            depth: 4,
            input_multiplier: 1 << 30,
            input_left_shift: 23,
            diff_min: -3968,
        };
        let mut y = [0_i8; 4];
        softmax(&p, &[7, 7, 7, 7], &mut y);
        assert_eq!(y, [-64; 4]); // 1/4 = 64/256, zero point -128
        softmax(&p, &[100, -128, -128, -128], &mut y);
        // exp(-228/16) ~ 6.6e-7: all mass on the first element (255/256 after rounding).
        assert_eq!(y, [127, -128, -128, -128]);
        let mut z = [0_i16; 4];
        softmax_i16(&p, &[7, 7, 7, 7], &mut z);
        assert_eq!(z, [-16384; 4]); // 1/4 = 16384/65536, zero point -32768
    }
}
