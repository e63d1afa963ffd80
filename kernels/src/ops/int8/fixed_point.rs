//! The integer arithmetic of TFLite Micro's int8 reference kernels: rounding fixed-point
//! multiplies, rounding power-of-two divides, and gemmlowp's fixed-point approximations of
//! exp, 1/(1+x), logistic and tanh. Values are raw `i32` of a Q-format with the stated number
//! of integer bits (`Q0` = 0 integer bits, 31 fractional).

/// `round(a * b / 2^31)` (positive ties away from zero, negative ties up); the one overflowing
/// case saturates.
#[inline(always)]
pub fn rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // TFLM adds 2^30 (or 1 - 2^30 when negative) and truncates toward zero; for negative
    // products that equals flooring after adding 2^30, so one arithmetic shift does both.
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// `round(x / 2^exponent)`, ties away from zero (`exponent` in 0..=31).
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    // floor((x + 2^(e-1) - [x < 0]) / 2^e), in 64 bits so that the addition cannot overflow.
    let half = (1_i64 << exponent) >> 1;
    ((x as i64 + half - i64::from(x < 0 && exponent > 0)) >> exponent) as i32
}

/// `x * multiplier * 2^shift / 2^31`, rounded: the requantization of an int32 accumulator.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    rounding_divide_by_pot(
        rounding_doubling_high_mul(x.wrapping_mul(1 << left), multiplier),
        right,
    )
}

/// `x * 2^exponent`: a saturating left shift for positive exponents, a rounding divide otherwise.
#[inline(always)]
fn multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return rounding_divide_by_pot(x, -exponent);
    }
    let threshold = (1_i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// `(a + b) / 2` rounded away from zero, without overflow.
#[inline(always)]
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

const Q0_ONE: i32 = i32::MAX;

/// exp(a) for a in [-1/4, 0), Q0 in and out: Taylor series around -1/8.
#[inline(always)]
fn exp_on_interval_minus_quarter_to_zero(a: i32) -> i32 {
    const EXP_MINUS_EIGHTH: i32 = 1_895_147_668; // exp(-1/8) in Q0
    const ONE_THIRD: i32 = 715_827_883;
    let x = a + (1 << 28);
    let x2 = rounding_doubling_high_mul(x, x);
    let x3 = rounding_doubling_high_mul(x2, x);
    let x4 = rounding_doubling_high_mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(
        rounding_doubling_high_mul(x4_over_4 + x3, ONE_THIRD) + x2,
        1,
    );
    EXP_MINUS_EIGHTH + rounding_doubling_high_mul(EXP_MINUS_EIGHTH, x + poly)
}

/// exp(a) for a <= 0 with `integer_bits` integer bits in, Q0 out.
#[inline(always)]
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    // exp(-2^k) in Q0, k = -2..=4.
    const FACTORS: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1_i32 << (fractional_bits - 2);
    let a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    let mut result = exp_on_interval_minus_quarter_to_zero(multiply_by_pot(
        a_mod_quarter_minus_quarter,
        integer_bits,
    ));
    let remainder = a_mod_quarter_minus_quarter.wrapping_sub(a);
    for (exponent, factor) in FACTORS {
        if integer_bits > exponent && remainder & (1 << (fractional_bits + exponent)) != 0 {
            result = rounding_doubling_high_mul(result, factor);
        }
    }
    if integer_bits > 5 && a < -(1 << (36 - integer_bits)) {
        result = 0;
    }
    if a == 0 {
        Q0_ONE
    } else {
        result
    }
}

/// Newton-Raphson estimate of 2 / (1 + a) for a in [0, 1) (Q0 in, two integer bits out).
#[inline(always)]
fn two_over_one_plus_x(a: i32) -> i32 {
    const FORTY_EIGHT_SEVENTEENTHS: i32 = 1_515_870_810; // Q2
    const MINUS_THIRTY_TWO_SEVENTEENTHS: i32 = -1_010_580_540; // Q2
    const Q2_ONE: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, Q0_ONE);
    let mut x = FORTY_EIGHT_SEVENTEENTHS
        + rounding_doubling_high_mul(half_denominator, MINUS_THIRTY_TWO_SEVENTEENTHS);
    for _ in 0..3 {
        let error = Q2_ONE - rounding_doubling_high_mul(half_denominator, x);
        x += multiply_by_pot(rounding_doubling_high_mul(x, error), 2);
    }
    x
}

/// 1 / (1 + a) for a in [0, 1), Q0 in and out.
#[inline(always)]
pub fn one_over_one_plus_x(a: i32) -> i32 {
    multiply_by_pot(two_over_one_plus_x(a), 1)
}

/// (1 - a) / (1 + a) for a in [0, 1), Q0 in and out.
#[inline(always)]
fn one_minus_x_over_one_plus_x(a: i32) -> i32 {
    multiply_by_pot(two_over_one_plus_x(a) - (1 << 29), 2)
}

/// 1 / (1 + exp(-a)), four integer bits in, Q0 out.
#[inline(always)]
pub fn logistic(a: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let positive = one_over_one_plus_x(exp_on_negative_values(-a.wrapping_abs(), 4));
    if a > 0 {
        positive
    } else {
        Q0_ONE - positive
    }
}

/// tanh(a), four integer bits in, Q0 out.
#[inline(always)]
pub fn tanh(a: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    // exp(2 * -|a|): the same raw value read with five integer bits.
    let magnitude = one_minus_x_over_one_plus_x(exp_on_negative_values(-a.wrapping_abs(), 5));
    if a < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// 1 / x for a positive `x` with `integer_bits` integer bits: (Q0 mantissa of 1/x, exponent),
/// 1/x = mantissa * 2^-exponent.
#[inline(always)]
pub fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let shifted_minus_one =
        ((x as u32).wrapping_shl(headroom_plus_one as u32)).wrapping_sub(1 << 31) as i32;
    (
        one_over_one_plus_x(shifted_minus_one),
        integer_bits - headroom_plus_one,
    )
}

/// `v` clamped to [lo, hi] as i8 (the bounds lie within i8).
#[inline(always)]
pub fn clamp_i8(v: i32, lo: i32, hi: i32) -> i8 {
    v.max(lo).min(hi) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: f64, integer_bits: i32) -> i32 {
        (v * (1_i64 << (31 - integer_bits)) as f64).round() as i32
    }

    fn real(raw: i32, integer_bits: i32) -> f64 {
        raw as f64 / (1_i64 << (31 - integer_bits)) as f64
    }

    #[test]
    fn high_mul_rounds_half_away_from_zero() {
        assert_eq!(rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
        assert_eq!(rounding_doubling_high_mul(3, 1 << 30), 2); // 1.5 -> 2
        assert_eq!(rounding_doubling_high_mul(-3, 1 << 30), -1); // negative ties round up
        assert_eq!(rounding_doubling_high_mul(-5, 1 << 29), -1); // -1.25
        assert_eq!(rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
    }

    #[test]
    fn divide_by_pot_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
    }

    /// The definitions as TFLM states them, for the equivalence tests.
    fn high_mul_definition(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let product = a as i64 * b as i64;
        let nudge = if product >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((product + nudge) / (1_i64 << 31)) as i32
    }

    fn divide_definition(x: i32, exponent: i32) -> i32 {
        let mask = ((1_i64 << exponent) - 1) as i32;
        let threshold = (mask >> 1) + i32::from(x < 0);
        (x >> exponent) + i32::from((x & mask) > threshold)
    }

    #[test]
    fn shortcuts_equal_the_definitions() {
        let mut seed = 0x1234_5678_u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 32) as i32
        };
        let edges = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            -3,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
            -(1 << 30),
        ];
        for k in 0..200_000 {
            let (a, b) = if k < edges.len() * edges.len() {
                (edges[k / edges.len()], edges[k % edges.len()])
            } else {
                (next() >> (k % 24), next())
            };
            assert_eq!(
                rounding_doubling_high_mul(a, b),
                high_mul_definition(a, b),
                "{a} * {b}"
            );
            let e = (k % 32) as i32;
            assert_eq!(
                rounding_divide_by_pot(a, e),
                divide_definition(a, e),
                "{a} / 2^{e}"
            );
        }
    }

    #[test]
    fn quantized_multiplier_scales() {
        // 0.75 = (0.75 * 2^31) * 2^0 / 2^31; 0.375 = same mantissa, shift -1; 3 = shift 2.
        let m = (0.75 * (1_i64 << 31) as f64) as i32;
        assert_eq!(multiply_by_quantized_multiplier(100, m, 0), 75);
        assert_eq!(multiply_by_quantized_multiplier(100, m, -1), 38); // 37.5 -> 38
        assert_eq!(multiply_by_quantized_multiplier(-100, m, -1), -38);
        assert_eq!(multiply_by_quantized_multiplier(100, m, 2), 300);
    }

    #[test]
    fn approximations_are_close_to_the_functions() {
        for k in 0..200 {
            let x = -(k as f64) * 0.1;
            let got = real(exp_on_negative_values(q(x, 5), 5), 0);
            assert!((got - x.exp()).abs() < 1e-6, "exp({x}) = {got}");
            let y = k as f64 / 200.0;
            let got = real(one_over_one_plus_x(q(y, 0)), 0);
            assert!((got - 1.0 / (1.0 + y)).abs() < 1e-6, "1/(1+{y}) = {got}");
            let z = (k as f64 - 100.0) * 0.07;
            let got = real(logistic(q(z, 4)), 0);
            assert!(
                (got - 1.0 / (1.0 + (-z).exp())).abs() < 1e-6,
                "logistic({z}) = {got}"
            );
            let got = real(tanh(q(z, 4)), 0);
            assert!((got - z.tanh()).abs() < 1e-6, "tanh({z}) = {got}");
        }
        let (mantissa, exponent) = reciprocal(q(6.0, 12), 12);
        assert!((real(mantissa, 0) * 2f64.powi(-exponent) - 1.0 / 6.0).abs() < 1e-7);
    }
}
