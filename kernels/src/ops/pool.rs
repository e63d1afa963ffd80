//! Max and average pooling over NCHW planes (`planes` = batch x channels, the parallel axis).
//!
//! Each output visits only the taps `Axis::taps` returns (those inside the input), so padding
//! is never read; the build-time check guarantees every window has at least one such tap.

use core::ops::Range;

use super::window::{Taps, Window};

/// Folds `f` over the input values under one window of one plane.
#[inline(always)]
fn fold_window(
    win: &Window,
    xp: &[f32],
    rt: Taps,
    ct: Taps,
    init: f32,
    f: impl Fn(f32, f32) -> f32,
) -> f32 {
    let mut acc = init;
    for r in 0..rt.count {
        let xrow = &xp[(rt.start + r * win.dil_h) * win.in_w..];
        for c in 0..ct.count {
            acc = f(acc, xrow[ct.start + c * win.dil_w]);
        }
    }
    acc
}

/// Calls `out(plane input, taps, output slot)` for every output of planes `planes`.
#[inline(always)]
fn for_each_window(
    win: &Window,
    x: &[f32],
    y: &mut [f32],
    planes: Range<usize>,
    out: impl Fn(&[f32], usize, usize, Taps, Taps) -> f32,
) {
    let (rows, cols) = (win.rows(), win.cols());
    let (in_plane, out_plane) = (win.in_plane(), win.out_plane());
    for plane in planes {
        let xp = &x[plane * in_plane..(plane + 1) * in_plane];
        let yp = &mut y[plane * out_plane..(plane + 1) * out_plane];
        for (oh, yrow) in yp.chunks_exact_mut(win.out_w).enumerate() {
            let rt = rows.taps(oh);
            for (ow, yv) in yrow.iter_mut().enumerate() {
                *yv = out(xp, oh, ow, rt, cols.taps(ow));
            }
        }
    }
}

#[inline]
pub fn max_pool(win: &Window, x: &[f32], y: &mut [f32], planes: Range<usize>) {
    for_each_window(win, x, y, planes, |xp, _, _, rt, ct| {
        fold_window(win, xp, rt, ct, f32::NEG_INFINITY, f32::max)
    });
}

/// `count_include_pad`: divide by the taps inside the padded input, else by those inside the input.
#[inline]
pub fn average_pool(
    win: &Window,
    count_include_pad: bool,
    x: &[f32],
    y: &mut [f32],
    planes: Range<usize>,
) {
    let (rows, cols) = (win.rows(), win.cols());
    for_each_window(win, x, y, planes, |xp, oh, ow, rt, ct| {
        let sum = fold_window(win, xp, rt, ct, 0.0, |a, v| a + v);
        let count = if count_include_pad {
            rows.padded_count(oh) * cols.padded_count(ow)
        } else {
            rt.count * ct.count
        };
        sum / count as f32
    });
}

/// One output per plane of `plane_len` inputs.
#[inline]
pub fn global_max_pool(plane_len: usize, x: &[f32], y: &mut [f32], planes: Range<usize>) {
    for plane in planes {
        let xp = &x[plane * plane_len..(plane + 1) * plane_len];
        y[plane] = xp.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    }
}

#[inline]
pub fn global_average_pool(plane_len: usize, x: &[f32], y: &mut [f32], planes: Range<usize>) {
    for plane in planes {
        let xp = &x[plane * plane_len..(plane + 1) * plane_len];
        y[plane] = xp.iter().sum::<f32>() / plane_len as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window_1d(
        in_w: usize,
        out_w: usize,
        k: usize,
        stride: usize,
        dil: usize,
        pads: (usize, usize),
    ) -> Window {
        Window {
            in_h: 1,
            in_w,
            out_h: 1,
            out_w,
            k_h: 1,
            k_w: k,
            stride_h: 1,
            stride_w: stride,
            dil_h: 1,
            dil_w: dil,
            pad_top: 0,
            pad_left: pads.0,
            pad_bottom: 0,
            pad_right: pads.1,
        }
    }

    #[test]
    fn max_pool_skips_padding_and_honours_dilation() {
        let x = [3.0, -1.0, 4.0, -1.5, -5.0, 9.0];
        // k 2, dilation 2, stride 2, pads (1, 1): windows read {-1, 1}, {1, 3}, {3, 5}, {5, 7}.
        let win = window_1d(6, 4, 2, 2, 2, (1, 1));
        let mut y = [0.0; 4];
        max_pool(&win, &x, &mut y, 0..1);
        assert_eq!(y, [-1.0, -1.0, 9.0, 9.0]);
    }

    #[test]
    fn average_pool_divisors() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        // k 3, stride 2, pads (1, 1), ceil_mode: windows [-1, 2), [1, 4), [3, 6), [5, 8).
        let win = window_1d(6, 4, 3, 2, 1, (1, 1));
        let mut y = [0.0; 4];
        average_pool(&win, false, &x, &mut y, 0..1);
        assert_eq!(y, [1.5, 3.0, 5.0, 6.0]);
        // Including padding: the last window is clipped to the padded input [-1, 7).
        average_pool(&win, true, &x, &mut y, 0..1);
        assert_eq!(y, [1.0, 3.0, 5.0, 3.0]);
    }

    #[test]
    fn global_pools_write_only_their_planes() {
        let x = [1.0, 5.0, 3.0, -2.0, -4.0, 0.0];
        let mut y = [f32::NAN; 2];
        global_average_pool(3, &x, &mut y, 1..2);
        assert!(y[0].is_nan());
        assert_eq!(y[1], -2.0);
        global_max_pool(3, &x, &mut y, 0..2);
        assert_eq!(y, [5.0, 0.0]);
    }
}
