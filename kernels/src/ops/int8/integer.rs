//! ONNX ConvInteger and MatMulInteger: int32 sums of products of zero-point-offset 8-bit values
//! (int8 or uint8), no requantization. Padding taps contribute nothing (as if they held the
//! input zero point). The build time checks that no sum can overflow i32.

use core::ops::Range;

use crate::ops::window::Window;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvInteger {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub win: Window,
}

/// Zero point of output channel (or column) `i`: one for all, or one each.
#[inline(always)]
fn zero_of(zero: &[i32], i: usize) -> i32 {
    if zero.len() == 1 {
        zero[0]
    } else {
        zero[i]
    }
}

/// `y[n, co, oh, ow] = sum (x - x_zero) * (w[co] - w_zero[co])` over the taps inside the input,
/// for output channels `channels`. NCHW input, OIHW weights (`[c_out, c_in / groups, k_h, k_w]`).
pub fn conv_integer<X: Copy + Into<i32>, W: Copy + Into<i32>>(
    p: &ConvInteger,
    x: &[X],
    x_zero: i32,
    w: &[W],
    w_zero: &[i32],
    y: &mut [i32],
    channels: Range<usize>,
) {
    let win = &p.win;
    let (rows, cols) = (win.rows(), win.cols());
    let in_per_group = p.c_in / p.groups;
    let out_per_group = p.c_out / p.groups;
    let taps = win.k_h * win.k_w;
    let (in_plane, out_plane) = (win.in_plane(), win.out_plane());
    for n in 0..p.batch {
        for co in channels.clone() {
            let wz = zero_of(w_zero, co);
            let first_in = n * p.c_in + co / out_per_group * in_per_group;
            let xs = &x[first_in * in_plane..(first_in + in_per_group) * in_plane];
            let ws = &w[co * in_per_group * taps..(co + 1) * in_per_group * taps];
            let ys = &mut y[(n * p.c_out + co) * out_plane..][..out_plane];
            for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
                let rt = rows.taps(oh);
                for (ow, yv) in yrow.iter_mut().enumerate() {
                    let ct = cols.taps(ow);
                    let mut acc = 0_i32;
                    for (xc, wc) in xs.chunks_exact(in_plane).zip(ws.chunks_exact(taps)) {
                        for r in 0..rt.count {
                            let xrow = &xc[(rt.start + r * win.dil_h) * win.in_w..];
                            let wrow = &wc[(rt.first + r) * win.k_w..][..win.k_w];
                            let xvals = xrow[ct.start..].iter().step_by(win.dil_w);
                            for (&xv, &wv) in xvals.zip(&wrow[ct.first..]).take(ct.count) {
                                acc += (xv.into() - x_zero) * (wv.into() - wz);
                            }
                        }
                    }
                    *yv = acc;
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatMulInteger {
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

/// `y[i, j] = sum_l (a[i, l] - a_zero) * (b[l, j] - b_zero[j])` for rows `rows`; A `[m, k]`,
/// B `[k, n]`, row-major.
pub fn matmul_integer<A: Copy + Into<i32>, B: Copy + Into<i32>>(
    p: &MatMulInteger,
    a: &[A],
    a_zero: i32,
    b: &[B],
    b_zero: &[i32],
    y: &mut [i32],
    rows: Range<usize>,
) {
    for i in rows {
        let arow = &a[i * p.k..][..p.k];
        let yrow = &mut y[i * p.n..][..p.n];
        yrow.fill(0);
        for (&av, brow) in arow.iter().zip(b.chunks_exact(p.n)) {
            let av = av.into() - a_zero;
            for (j, (yv, &bv)) in yrow.iter_mut().zip(brow).enumerate() {
                *yv += av * (bv.into() - zero_of(b_zero, j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_integer_offsets_both_operands_and_skips_padding() {
        // 1 input channel 2x2, 2x2 kernel, pads 1 on every side: 3x3 outputs.
        let win = Window {
            in_h: 2,
            in_w: 2,
            out_h: 3,
            out_w: 3,
            k_h: 2,
            k_w: 2,
            stride_h: 1,
            stride_w: 1,
            dil_h: 1,
            dil_w: 1,
            pad_top: 1,
            pad_left: 1,
            pad_bottom: 1,
            pad_right: 1,
        };
        let p = ConvInteger {
            batch: 1,
            c_in: 1,
            c_out: 1,
            groups: 1,
            win,
        };
        let x: [u8; 4] = [11, 12, 13, 14]; // minus zero point 10: 1 2 / 3 4
        let w: [i8; 4] = [3, 4, 5, 6]; // minus zero point 2: 1 2 / 3 4
        let mut y = [0_i32; 9];
        conv_integer(&p, &x, 10, &w, &[2], &mut y, 0..1);
        // Full correlation of [[1,2],[3,4]] with [[1,2],[3,4]].
        assert_eq!(y, [4, 11, 6, 14, 30, 14, 6, 11, 4]);
    }

    #[test]
    fn matmul_integer_per_column_zero_points() {
        let p = MatMulInteger { m: 2, k: 2, n: 2 };
        let a: [i8; 4] = [-1, 2, 3, -4];
        let b: [u8; 4] = [130, 0, 128, 255];
        let mut y = [0_i32; 4];
        matmul_integer(&p, &a, 1, &b, &[128, 1], &mut y, 0..2);
        // A - 1 = [[-2, 1], [2, -5]]; B - [128, 1] = [[2, -1], [0, 254]].
        assert_eq!(y, [-4, 256, 4, -1272]);
    }
}
