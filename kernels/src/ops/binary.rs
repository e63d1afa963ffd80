//! Elementwise ops over numpy-broadcast operands: y = f(a, b), y = f(y, b) in place, and
//! y = f(c, a, b) (Where). The generator collapses the broadcast at build time (see `Broadcast`),
//! so a same-shape op is one row, a per-channel bias is rows of "slice op scalar".

/// The output shape collapsed to `R` dims (dims of size 1 dropped, neighbours with the same
/// broadcast pattern merged) and, per operand, the element stride of each dim (0 = broadcast).
/// The output is contiguous; the last dim is the innermost, where every stride is 0 or 1.
#[derive(Clone, Copy, Debug)]
pub struct Broadcast<const R: usize, const K: usize> {
    pub shape: [usize; R],
    pub strides: [[usize; R]; K],
}

impl<const R: usize, const K: usize> Broadcast<R, K> {
    /// Calls `row(out_offset, operand_offsets)` for every innermost row of `shape[R - 1]` elements.
    #[inline(always)]
    pub fn for_each_row(&self, mut row: impl FnMut(usize, [usize; K])) {
        let outer_dims = R - 1;
        let rows: usize = self.shape[..outer_dims].iter().product();
        let len = self.shape[outer_dims];
        let mut index = [0_usize; R];
        let mut offsets = [0_usize; K];
        for r in 0..rows {
            row(r * len, offsets);
            for d in (0..outer_dims).rev() {
                index[d] += 1;
                if index[d] < self.shape[d] {
                    for (o, s) in offsets.iter_mut().zip(&self.strides) {
                        *o += s[d];
                    }
                    break;
                }
                index[d] = 0;
                for (o, s) in offsets.iter_mut().zip(&self.strides) {
                    *o -= s[d] * (self.shape[d] - 1);
                }
            }
        }
    }

    #[inline(always)]
    fn inner_strides(&self) -> [usize; K] {
        self.strides.map(|s| s[R - 1])
    }
}

/// y = f(a, b) with both operands broadcast to y.
#[inline(always)]
pub fn binary<A: Copy, B: Copy, O, const R: usize>(
    p: &Broadcast<R, 2>,
    a: &[A],
    b: &[B],
    y: &mut [O],
    f: impl Fn(A, B) -> O,
) {
    let len = p.shape[R - 1];
    let [step_a, step_b] = p.inner_strides();
    p.for_each_row(|o, [ia, ib]| {
        let y = &mut y[o..o + len];
        match (step_a, step_b) {
            (1, 1) => {
                for ((y, &a), &b) in y.iter_mut().zip(&a[ia..ia + len]).zip(&b[ib..ib + len]) {
                    *y = f(a, b);
                }
            }
            (1, _) => {
                let b = b[ib];
                for (y, &a) in y.iter_mut().zip(&a[ia..ia + len]) {
                    *y = f(a, b);
                }
            }
            (_, 1) => {
                let a = a[ia];
                for (y, &b) in y.iter_mut().zip(&b[ib..ib + len]) {
                    *y = f(a, b);
                }
            }
            _ => {
                let (a, b) = (a[ia], b[ib]);
                for y in y.iter_mut() {
                    *y = f(a, b);
                }
            }
        }
    });
}

/// y = f(y, b) with b broadcast to y (in place, or folding further operands into y).
#[inline(always)]
pub fn binary_assign<T: Copy, B: Copy, const R: usize>(
    p: &Broadcast<R, 1>,
    y: &mut [T],
    b: &[B],
    f: impl Fn(T, B) -> T,
) {
    let len = p.shape[R - 1];
    let [step_b] = p.inner_strides();
    p.for_each_row(|o, [ib]| {
        let y = &mut y[o..o + len];
        if step_b == 1 {
            for (y, &b) in y.iter_mut().zip(&b[ib..ib + len]) {
                *y = f(*y, b);
            }
        } else {
            let b = b[ib];
            for y in y.iter_mut() {
                *y = f(*y, b);
            }
        }
    });
}

/// y = f(c, a, b) with all three operands broadcast to y.
#[inline(always)]
pub fn ternary<C: Copy, A: Copy, B: Copy, O, const R: usize>(
    p: &Broadcast<R, 3>,
    c: &[C],
    a: &[A],
    b: &[B],
    y: &mut [O],
    f: impl Fn(C, A, B) -> O,
) {
    let len = p.shape[R - 1];
    let [step_c, step_a, step_b] = p.inner_strides();
    p.for_each_row(|o, [ic, ia, ib]| {
        for (j, y) in y[o..o + len].iter_mut().enumerate() {
            *y = f(c[ic + j * step_c], a[ia + j * step_a], b[ib + j * step_b]);
        }
    });
}

/// Float remainder with the sign of the dividend (ONNX Mod, fmod = 1).
#[inline(always)]
pub fn fmod(a: f32, b: f32) -> f32 {
    libm::fmodf(a, b)
}

#[inline(always)]
pub fn fmod_f64(a: f64, b: f64) -> f64 {
    libm::fmod(a, b)
}

#[inline(always)]
pub fn pow(a: f32, b: f32) -> f32 {
    libm::powf(a, b)
}

#[inline(always)]
pub fn pow_f64(a: f64, b: f64) -> f64 {
    libm::pow(a, b)
}

/// Integer power, wrapping on overflow; a negative exponent truncates 1 / a^-e toward zero.
#[inline(always)]
pub fn pow_int(base: i64, exponent: i64) -> i64 {
    if exponent < 0 {
        return match base {
            1 => 1,
            -1 if exponent % 2 == 0 => 1,
            -1 => -1,
            _ => 0,
        };
    }
    let (mut result, mut base, mut e) = (1_i64, base, exponent);
    while e > 0 {
        if e & 1 == 1 {
            result = result.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    result
}

#[inline(always)]
fn is_nan<T: PartialOrd>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

/// The larger operand; NaN in either gives NaN (numpy maximum).
#[inline(always)]
pub fn max<T: PartialOrd + Copy>(a: T, b: T) -> T {
    if is_nan(a) || a > b {
        a
    } else {
        b
    }
}

/// The smaller operand; NaN in either gives NaN (numpy minimum).
#[inline(always)]
pub fn min<T: PartialOrd + Copy>(a: T, b: T) -> T {
    if is_nan(a) || a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // [2, 3] + [3]: rows of 3, b full in the inner dim and broadcast in the outer.
    const ROW: Broadcast<2, 2> = Broadcast {
        shape: [2, 3],
        strides: [[3, 1], [0, 1]],
    };

    #[test]
    fn row_broadcast() {
        let a = [1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut y = [0.0; 6];
        binary(&ROW, &a, &[10.0, 20.0, 30.0], &mut y, |a, b| a + b);
        assert_eq!(y, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn both_sides_broadcast_with_three_dims() {
        // a [2, 1, 3] * b [4, 1] -> [2, 4, 3]: a's dim 1 and b's dims 0, 2 broadcast.
        let p = Broadcast {
            shape: [2, 4, 3],
            strides: [[3, 0, 1], [0, 1, 0]],
        };
        let a: [i32; 6] = [1, 2, 3, 4, 5, 6];
        let b: [i32; 4] = [1, 10, 100, 1000];
        let mut y = [0_i32; 24];
        binary(&p, &a, &b, &mut y, |a, b| a * b);
        for i in 0..2 {
            for j in 0..4 {
                for k in 0..3 {
                    assert_eq!(y[i * 12 + j * 3 + k], a[i * 3 + k] * b[j]);
                }
            }
        }
    }

    #[test]
    fn scalar_on_the_left_and_comparison_to_bytes() {
        let p = Broadcast {
            shape: [4],
            strides: [[0], [1]],
        };
        let mut y = [9_u8; 4];
        binary(
            &p,
            &[2.0_f32],
            &[1.0, 2.0, 3.0, f32::NAN],
            &mut y,
            |a, b| u8::from(a < b),
        );
        assert_eq!(y, [0, 0, 1, 0]);
    }

    #[test]
    fn assign_folds_a_column_into_y() {
        // y [3, 2] -= b [3, 1]
        let p = Broadcast {
            shape: [3, 2],
            strides: [[1, 0]],
        };
        let mut y = [1, 2, 3, 4, 5, 6];
        binary_assign(&p, &mut y, &[1_i64, 2, 3], |y, b| y - b);
        assert_eq!(y, [0, 1, 1, 2, 2, 3]);
    }

    #[test]
    fn ternary_where_broadcasts_three_ways() {
        // c [2, 1], a [1, 3], b scalar -> [2, 3]
        let p = Broadcast {
            shape: [2, 3],
            strides: [[1, 0], [0, 1], [0, 0]],
        };
        let mut y = [0.0_f32; 6];
        ternary(
            &p,
            &[1_u8, 0],
            &[1.0, 2.0, 3.0],
            &[-1.0],
            &mut y,
            |c, a, b| {
                if c != 0 {
                    a
                } else {
                    b
                }
            },
        );
        assert_eq!(y, [1.0, 2.0, 3.0, -1.0, -1.0, -1.0]);
    }

    #[test]
    fn helpers() {
        assert_eq!(pow_int(3, 5), 243);
        assert_eq!(pow_int(2, -1), 0);
        assert_eq!(pow_int(-1, -3), -1);
        assert_eq!(fmod(-7.0, 3.0), -1.0);
        assert!(max(f32::NAN, 1.0).is_nan() && max(1.0, f32::NAN).is_nan());
        assert!(min(f32::NAN, 1.0).is_nan() && min(1.0, f32::NAN).is_nan());
        assert_eq!(max(3_u8, 7), 7);
        assert_eq!(min(-3_i16, 7), -3);
    }
}
