//! int8 Add/Sub and Mul over broadcast operands (TFLM's integer Add, Sub and Mul).

use super::fixed_point::{clamp_i8, multiply_by_quantized_multiplier};
use crate::ops::binary::{binary, Broadcast};

/// Add/Sub: both inputs rescaled to a common scale with `left_shift` bits of headroom, summed
/// (or subtracted), then rescaled to the output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Add {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub input1_multiplier: i32,
    pub input1_shift: i32,
    pub input2_multiplier: i32,
    pub input2_shift: i32,
    pub left_shift: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
    pub subtract: bool,
}

impl Add {
    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        let a = (i32::from(a) + self.input1_offset) * (1 << self.left_shift);
        let b = (i32::from(b) + self.input2_offset) * (1 << self.left_shift);
        let a = multiply_by_quantized_multiplier(a, self.input1_multiplier, self.input1_shift);
        let b = multiply_by_quantized_multiplier(b, self.input2_multiplier, self.input2_shift);
        let raw = if self.subtract { a - b } else { a + b };
        let out = multiply_by_quantized_multiplier(raw, self.output_multiplier, self.output_shift);
        clamp_i8(out + self.output_offset, self.act_min, self.act_max)
    }
}

pub fn add<const R: usize>(p: &Add, shape: &Broadcast<R, 2>, a: &[i8], b: &[i8], y: &mut [i8]) {
    binary(shape, a, b, y, |a, b| p.apply(a, b));
}

/// Mul: the product of the offset inputs rescaled to the output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mul {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
}

impl Mul {
    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        let product = (i32::from(a) + self.input1_offset) * (i32::from(b) + self.input2_offset);
        let out =
            multiply_by_quantized_multiplier(product, self.output_multiplier, self.output_shift);
        clamp_i8(out + self.output_offset, self.act_min, self.act_max)
    }
}

pub fn mul<const R: usize>(p: &Mul, shape: &Broadcast<R, 2>, a: &[i8], b: &[i8], y: &mut [i8]) {
    binary(shape, a, b, y, |a, b| p.apply(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: i32 = 1 << 30;

    #[test]
    fn add_with_equal_scales_adds_offset_values() {
        // Each input x 2 (left_shift) x 1/2, the sum x 1/2 x 2: offset inputs are summed.
        let p = Add {
            input1_offset: 1,
            input2_offset: -1,
            input1_multiplier: HALF,
            input1_shift: 0,
            input2_multiplier: HALF,
            input2_shift: 0,
            left_shift: 1,
            output_multiplier: HALF,
            output_shift: 1,
            output_offset: 0,
            act_min: -128,
            act_max: 100,
            subtract: false,
        };
        assert_eq!(p.apply(3, 5), 8); // (4 + 4)
        assert_eq!(p.apply(90, 90), 100); // 91 + 89 = 180 -> clamp
        assert_eq!(
            Add {
                subtract: true,
                ..p
            }
            .apply(3, 5),
            0
        );
    }

    #[test]
    fn mul_rescales_the_product() {
        let p = Mul {
            input1_offset: 0,
            input2_offset: 2,
            output_multiplier: HALF,
            output_shift: 0,
            output_offset: -3,
            act_min: -128,
            act_max: 127,
        };
        assert_eq!(p.apply(3, 1), 2); // 3 * 3 / 2 = 4.5 -> 5, - 3
        assert_eq!(p.apply(-3, 1), -7); // -4.5 -> -4
    }
}
