//! int8 mean over any axes (TFLM's integer MEAN: the sum of the offset inputs times
//! `in_scale / out_scale / count` as one fixed-point multiplier, built at compile time).

use super::fixed_point::{clamp_i8, multiply_by_quantized_multiplier};

/// Up to four kept and four reduced axes, each as (size, input stride); unused axes have size 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mean {
    pub kept: [(usize, usize); 4],
    pub reduced: [(usize, usize); 4],
    pub input_zero_point: i32,
    pub multiplier: i32,
    pub shift: i32,
    pub output_zero_point: i32,
}

pub fn mean(p: &Mean, x: &[i8], y: &mut [i8]) {
    let count: i32 = p.reduced.iter().map(|&(d, _)| d as i32).product();
    let [k0, k1, k2, k3] = p.kept;
    let mut out = y.iter_mut();
    for i0 in 0..k0.0 {
        for i1 in 0..k1.0 {
            for i2 in 0..k2.0 {
                for i3 in 0..k3.0 {
                    let base = i0 * k0.1 + i1 * k1.1 + i2 * k2.1 + i3 * k3.1;
                    let sum = reduced_sum(p, x, base) - p.input_zero_point * count;
                    let v = multiply_by_quantized_multiplier(sum, p.multiplier, p.shift);
                    if let Some(yv) = out.next() {
                        *yv = clamp_i8(v + p.output_zero_point, -128, 127);
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn reduced_sum(p: &Mean, x: &[i8], base: usize) -> i32 {
    let [r0, r1, r2, r3] = p.reduced;
    let mut sum = 0_i32;
    for j0 in 0..r0.0 {
        for j1 in 0..r1.0 {
            for j2 in 0..r2.0 {
                let start = base + j0 * r0.1 + j1 * r1.1 + j2 * r2.1;
                for j3 in 0..r3.0 {
                    sum += i32::from(x[start + j3 * r3.1]);
                }
            }
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_rows_with_double_rounding() {
        // x: [2, 4]; mean over axis 1 with multiplier 1/4 = 2^30 * 2^-1 / 2^31.
        let p = Mean {
            kept: [(2, 4), (1, 0), (1, 0), (1, 0)],
            reduced: [(1, 0), (1, 0), (1, 0), (4, 1)],
            input_zero_point: 1,
            multiplier: 1 << 30,
            shift: -1,
            output_zero_point: -2,
        };
        let mut y = [0_i8; 2];
        mean(&p, &[10, 20, 30, 45, -3, -3, -3, -2], &mut y);
        // (105 - 4) / 4 = 25.25 -> 50.5 -> 51 -> 25.5 -> 26; (-11 - 4) / 4 = -3.75 -> -4.
        assert_eq!(y, [24, -6]);
    }
}
