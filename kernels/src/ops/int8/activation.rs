//! int8 logistic and tanh (TFLM's integer kernels: the input offset and rescaled to Q4.27,
//! gemmlowp's fixed-point function, rescaled to the fixed output scale 1/256 resp. 1/128).

use super::fixed_point::{
    logistic, multiply_by_quantized_multiplier, rounding_divide_by_pot, tanh,
};

/// Shared input rescaling: inputs at or beyond `range_radius` from the zero point saturate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rescale {
    pub input_zero_point: i32,
    pub range_radius: i32,
    pub multiplier: i32,
    pub left_shift: i32,
}

impl Rescale {
    #[inline(always)]
    fn map(&self, x: &[i8], y: &mut [i8], f: impl Fn(i32) -> i32) {
        for (yv, &xv) in y.iter_mut().zip(x) {
            let v = i32::from(xv) - self.input_zero_point;
            *yv = if v <= -self.range_radius {
                i8::MIN
            } else if v >= self.range_radius {
                i8::MAX
            } else {
                f(multiply_by_quantized_multiplier(
                    v,
                    self.multiplier,
                    self.left_shift,
                ))
                .clamp(-128, 127) as i8
            };
        }
    }
}

/// Output scale 1/256, zero point -128.
pub fn sigmoid(p: &Rescale, x: &[i8], y: &mut [i8]) {
    p.map(x, y, |q4| rounding_divide_by_pot(logistic(q4), 23) - 128);
}

/// Output scale 1/128, zero point 0.
pub fn tanh_i8(p: &Rescale, x: &[i8], y: &mut [i8]) {
    p.map(x, y, |q4| rounding_divide_by_pot(tanh(q4), 24));
}

#[cfg(test)]
mod tests {
    use super::*;

    // Input scale 1/16: v * 2^24 * (2^30 / 2^31) = v * 2^23, which is v / 16 in Q4.27.
    const SIXTEENTHS: Rescale = Rescale {
        input_zero_point: 0,
        range_radius: 248,
        multiplier: 1 << 30,
        left_shift: 24,
    };

    #[test]
    fn sigmoid_and_tanh_follow_the_functions() {
        let x: [i8; 5] = [-128, -16, 0, 16, 127];
        let mut y = [0_i8; 5];
        sigmoid(&SIXTEENTHS, &x, &mut y);
        for (&xv, &yv) in x.iter().zip(&y) {
            let want = (256.0 / (1.0 + (-(xv as f64) / 16.0).exp())).round() - 128.0;
            assert!(
                (yv as f64 - want.min(127.0)).abs() <= 1.0,
                "sigmoid {xv}: {yv}"
            );
        }
        tanh_i8(&SIXTEENTHS, &x, &mut y);
        for (&xv, &yv) in x.iter().zip(&y) {
            let want = (128.0 * (xv as f64 / 16.0).tanh()).round().min(127.0);
            assert!((yv as f64 - want).abs() <= 1.0, "tanh {xv}: {yv}");
        }
    }
}
