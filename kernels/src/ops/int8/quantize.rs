//! Conversions at the edges of int8 graphs: f32 -> int8 (Quantize), int8 -> f32 (Dequantize),
//! and int8 -> int8 with a new scale (Requantize), as TFLM computes them.

use super::fixed_point::{clamp_i8, multiply_by_quantized_multiplier};

/// `round(x / scale) + zero_point`, saturated, in single precision; ties away from zero (TFLM)
/// or, with `ties_to_even`, to even (ONNX QuantizeLinear).
pub fn quantize(x: &[f32], y: &mut [i8], scale: f32, zero_point: i32, ties_to_even: bool) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        let q = if ties_to_even {
            libm::rintf(xv / scale)
        } else {
            libm::roundf(xv / scale)
        };
        // `as` saturates (NaN -> 0), like TFLM's clamp after the float->int conversion.
        *yv = clamp_i8((q as i32).saturating_add(zero_point), -128, 127);
    }
}

/// `scale * (x - zero_point)`.
pub fn dequantize(x: &[i8], y: &mut [f32], scale: f32, zero_point: i32) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv = scale * (i32::from(xv) - zero_point) as f32;
    }
}

/// int8 -> int8 with new parameters, clamped (Quantize; Relu and Relu6 with their bounds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requantize {
    pub input_zero_point: i32,
    pub multiplier: i32,
    pub shift: i32,
    pub output_zero_point: i32,
    pub min: i32,
    pub max: i32,
}

/// `(x - input_zero_point) * multiplier * 2^shift + output_zero_point`, clamped to [min, max].
pub fn requantize(p: &Requantize, x: &[i8], y: &mut [i8]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        let v = i32::from(xv) - p.input_zero_point;
        let v = multiply_by_quantized_multiplier(v, p.multiplier, p.shift);
        *yv = clamp_i8(v + p.output_zero_point, p.min, p.max);
    }
}

/// Requantization between integer types (TFLM QUANTIZE from int16, e.g. int16 -> int8 or
/// int32): as `requantize`, `min` and `max` being the output type's range.
pub fn requantize_to<X: Copy + Into<i32>, Y: Copy + TryFrom<i32> + Default>(
    p: &Requantize,
    x: &[X],
    y: &mut [Y],
) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        let v =
            multiply_by_quantized_multiplier(xv.into() - p.input_zero_point, p.multiplier, p.shift);
        let clamped = v.saturating_add(p.output_zero_point).clamp(p.min, p.max);
        *yv = Y::try_from(clamped).unwrap_or_default();
    }
}

/// TFLM's int8 LEAKY_RELU: `positive` requantizes inputs at or above its zero point, `negative`
/// (its multiplier carrying alpha) those below.
pub fn leaky_relu(positive: &Requantize, negative: &Requantize, x: &[i8], y: &mut [i8]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        let p = if i32::from(xv) >= positive.input_zero_point {
            positive
        } else {
            negative
        };
        let v = multiply_by_quantized_multiplier(
            i32::from(xv) - p.input_zero_point,
            p.multiplier,
            p.shift,
        );
        *yv = clamp_i8(v + p.output_zero_point, p.min, p.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_half_away_and_saturates() {
        let mut y = [0_i8; 5];
        quantize(&[0.25, -0.25, 100.0, -100.0, 0.0], &mut y, 0.5, 3, false);
        assert_eq!(y, [4, 2, 127, -128, 3]);
        quantize(&[0.25, -0.25, 0.75, -0.75, 1.0], &mut y, 0.5, 3, true);
        assert_eq!(y, [3, 3, 5, 1, 5]);
        let mut z = [0_f32; 2];
        dequantize(&[4, 2], &mut z, 0.5, 3);
        assert_eq!(z, [0.5, -0.5]);
        let p = Requantize {
            input_zero_point: 3,
            multiplier: 1 << 30,
            shift: 1, // x 1
            output_zero_point: 0,
            min: -128,
            max: 127,
        };
        requantize(&p, &[4, 2], &mut y[..2]);
        assert_eq!(y[..2], [1, -1]);
        requantize(&Requantize { min: 0, ..p }, &[4, 2], &mut y[..2]);
        assert_eq!(y[..2], [1, 0]);
        // alpha 1/4: multiplier 2^30 with shift -1 is x 1/4.
        let negative = Requantize { shift: -1, ..p };
        leaky_relu(&p, &negative, &[11, 3, -5, -6], &mut y[..4]);
        assert_eq!(y[..4], [8, 0, -2, -2]);
    }

    #[test]
    fn requantize_to_converts_between_integer_types() {
        // int16 -> int8 by x 1/4 (rounding half away from zero), zero point 10, saturating.
        let quarter = Requantize {
            input_zero_point: -2,
            multiplier: 1 << 30,
            shift: -1,
            output_zero_point: 10,
            min: -128,
            max: 127,
        };
        let mut y = [0_i8; 4];
        requantize_to(&quarter, &[-2_i16, 4, -8, 32_000], &mut y);
        assert_eq!(y, [10, 12, 8, 127]);
        // int16 -> int32 by x 2.
        let double = Requantize {
            input_zero_point: 0,
            multiplier: 1 << 30,
            shift: 2,
            output_zero_point: -1,
            min: i32::MIN,
            max: i32::MAX,
        };
        let mut z = [0_i32; 2];
        requantize_to(&double, &[i16::MIN, 7], &mut z);
        assert_eq!(z, [-65537, 13]);
    }
}
