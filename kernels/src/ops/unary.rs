//! Elementwise functions y[i] = f(x[i]), applied by `map` / `map_inplace`. The generator passes
//! the scalar function as a closure with its attributes as constants, so rustc specialises it.

#[inline(always)]
pub fn map<T: Copy, U>(x: &[T], y: &mut [U], f: impl Fn(T) -> U) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

#[inline(always)]
pub fn map_inplace<T: Copy>(y: &mut [T], f: impl Fn(T) -> T) {
    for v in y.iter_mut() {
        *v = f(*v);
    }
}

/// Clamp that keeps NaN (ONNX Clip); `low > high` gives `high`, as onnxruntime does.
#[inline(always)]
pub fn clip<T: PartialOrd + Copy>(x: T, low: T, high: T) -> T {
    let x = if x < low { low } else { x };
    if x > high {
        high
    } else {
        x
    }
}

#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

#[inline(always)]
pub fn erf(x: f32) -> f32 {
    libm::erff(x)
}

#[inline(always)]
pub fn exp(x: f32) -> f32 {
    libm::expf(x)
}

#[inline(always)]
pub fn log(x: f32) -> f32 {
    libm::logf(x)
}

#[inline(always)]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

#[inline(always)]
pub fn reciprocal(x: f32) -> f32 {
    1.0 / x
}

#[inline(always)]
pub fn floor(x: f32) -> f32 {
    libm::floorf(x)
}

#[inline(always)]
pub fn ceil(x: f32) -> f32 {
    libm::ceilf(x)
}

/// Round half to even (ONNX Round).
#[inline(always)]
pub fn round(x: f32) -> f32 {
    libm::rintf(x)
}

/// -1, 0 or 1 (NaN stays NaN).
#[inline(always)]
pub fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

#[inline(always)]
pub fn sin(x: f32) -> f32 {
    libm::sinf(x)
}

#[inline(always)]
pub fn cos(x: f32) -> f32 {
    libm::cosf(x)
}

#[inline(always)]
pub fn tan(x: f32) -> f32 {
    libm::tanf(x)
}

#[inline(always)]
pub fn asin(x: f32) -> f32 {
    libm::asinf(x)
}

#[inline(always)]
pub fn acos(x: f32) -> f32 {
    libm::acosf(x)
}

#[inline(always)]
pub fn atan(x: f32) -> f32 {
    libm::atanf(x)
}

#[inline(always)]
pub fn sinh(x: f32) -> f32 {
    libm::sinhf(x)
}

#[inline(always)]
pub fn cosh(x: f32) -> f32 {
    libm::coshf(x)
}

#[inline(always)]
pub fn asinh(x: f32) -> f32 {
    libm::asinhf(x)
}

#[inline(always)]
pub fn acosh(x: f32) -> f32 {
    libm::acoshf(x)
}

#[inline(always)]
pub fn atanh(x: f32) -> f32 {
    libm::atanhf(x)
}

/// ln(1 + e^x) without overflow for large x.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    if x > 0.0 {
        x + libm::log1pf(libm::expf(-x))
    } else {
        libm::log1pf(libm::expf(x))
    }
}

#[inline(always)]
pub fn softsign(x: f32) -> f32 {
    x / (1.0 + libm::fabsf(x))
}

#[inline(always)]
pub fn hard_sigmoid(x: f32, alpha: f32, beta: f32) -> f32 {
    clip(alpha * x + beta, 0.0, 1.0)
}

#[inline(always)]
pub fn hard_swish(x: f32) -> f32 {
    x * hard_sigmoid(x, 1.0 / 6.0, 0.5)
}

#[inline(always)]
pub fn leaky_relu(x: f32, alpha: f32) -> f32 {
    if x < 0.0 {
        alpha * x
    } else {
        x
    }
}

#[inline(always)]
pub fn elu(x: f32, alpha: f32) -> f32 {
    if x < 0.0 {
        alpha * libm::expm1f(x)
    } else {
        x
    }
}

#[inline(always)]
pub fn selu(x: f32, alpha: f32, gamma: f32) -> f32 {
    if x <= 0.0 {
        gamma * alpha * libm::expm1f(x)
    } else {
        gamma * x
    }
}

#[inline(always)]
pub fn celu(x: f32, alpha: f32) -> f32 {
    if x < 0.0 {
        alpha * libm::expm1f(x / alpha)
    } else {
        x
    }
}

#[inline(always)]
pub fn thresholded_relu(x: f32, alpha: f32) -> f32 {
    if x > alpha {
        x
    } else {
        0.0
    }
}

#[inline(always)]
pub fn mish(x: f32) -> f32 {
    x * libm::tanhf(softplus(x))
}

/// x Φ(x) with the exact normal CDF.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2))
}

/// GELU's tanh approximation.
#[inline(always)]
pub fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + libm::tanhf(SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)))
}

#[inline(always)]
pub fn is_nan(x: f32) -> u8 {
    u8::from(x.is_nan())
}

#[inline(always)]
pub fn is_inf(x: f32, positive: bool, negative: bool) -> u8 {
    u8::from((positive && x == f32::INFINITY) || (negative && x == f32::NEG_INFINITY))
}

/// Logical not of a bool stored as 0/1.
#[inline(always)]
pub fn not(x: u8) -> u8 {
    u8::from(x == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_and_map_inplace_apply_the_closure() {
        let x = [-1.5_f32, 0.0, 2.0];
        let mut y = [0_u8; 3];
        map(&x, &mut y, |v| u8::from(v > 0.0));
        assert_eq!(y, [0, 0, 1]);
        let mut z = x;
        map_inplace(&mut z, |v| leaky_relu(v, 0.5));
        assert_eq!(z, [-0.75, 0.0, 2.0]);
    }

    #[test]
    fn clip_keeps_nan_and_handles_inverted_bounds() {
        assert!(clip(f32::NAN, 0.0, 6.0).is_nan());
        assert_eq!(clip(7.0, 0.0, 6.0), 6.0);
        assert_eq!(clip(-7_i8, -3, 6), -3);
        assert_eq!(clip(3.0, 5.0, 1.0), 1.0);
    }

    #[test]
    fn round_is_half_to_even() {
        let got = [0.5_f32, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(round);
        assert_eq!(got, [0.0, 2.0, 2.0, -0.0, -2.0, 2.0, -3.0]);
    }

    #[test]
    fn softplus_is_stable_at_the_extremes() {
        assert_eq!(softplus(100.0), 100.0);
        assert!(softplus(-100.0) > 0.0 && softplus(-100.0) < 1e-40);
        assert!((softplus(0.0) - core::f32::consts::LN_2).abs() < 1e-7);
    }

    #[test]
    fn erf_matches_known_values() {
        // erf(0.5) = 0.5204998778..., erf(2) = 0.9953222650...
        assert!((erf(0.5) - 0.520_499_9).abs() < 1e-7);
        assert!((erf(2.0) - 0.995_322_3).abs() < 1e-7);
        assert_eq!(erf(-10.0), -1.0);
    }

    #[test]
    fn gelu_variants_agree_near_zero_and_at_large_x() {
        assert_eq!(gelu(0.0), 0.0);
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu_tanh(1.0) - 0.841_192).abs() < 1e-5);
        assert_eq!(gelu(20.0), 20.0);
    }

    #[test]
    fn predicates_give_zero_or_one() {
        assert_eq!(is_nan(f32::NAN), 1);
        assert_eq!(is_nan(1.0), 0);
        assert_eq!(is_inf(f32::INFINITY, true, false), 1);
        assert_eq!(is_inf(f32::NEG_INFINITY, true, false), 0);
        assert_eq!(is_inf(f32::NEG_INFINITY, true, true), 1);
        assert_eq!([0_u8, 1].map(not), [1, 0]);
        assert_eq!([-2.0_f32, 0.0, 3.0].map(sign), [-1.0, 0.0, 1.0]);
    }
}
