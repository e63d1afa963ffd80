//! int8 depthwise convolution (`groups == c_in`, any channel multiplier), NCHW, OIHW weights
//! `[c_out, 1, k_h, k_w]`. Each input plane is first copied into `padded` with its padding filled
//! with the input zero point, and the zero point is folded into the bias at build time (`bias -
//! zx * sum(w)`), so every output sees whole kernel rows and padding adds nothing (TFLM's
//! DepthwiseConvPerChannel skips padding taps; the sums are equal).
//!
//! 3-wide kernels (dilation 1, stride 1 or 2) compute two outputs of a row from one word of
//! inputs: `sxtb16` splits it into taps (0, 2) and (1, 3), one `smlad` takes the outer weights,
//! a 16x16 multiply-add the middle one.

use super::conv::Conv;
use super::dsp::{smlad, sxtb16, sxtb16_odd};
use super::ChannelRequant;

/// Words of scratch: the padded plane (plus 4 bytes of slack for word reads) and one output row
/// of accumulators.
pub const fn scratch_words(p: &Conv) -> usize {
    let w = &p.win;
    let plane = (w.in_h + w.pad_top + w.pad_bottom) * (w.in_w + w.pad_left + w.pad_right);
    let acc = if w.out_w > BLOCK_POSITIONS {
        w.out_w
    } else {
        BLOCK_POSITIONS
    };
    plane.div_ceil(4) + 1 + acc
}

/// Accumulators of one block: with stride 1 several output rows run as one long row of the
/// padded plane (the positions between them, past the row's end, are computed and dropped), so
/// small planes pay the per-row set-up once per block.
pub const BLOCK_POSITIONS: usize = 128;

/// All output channels: `bias` the folded bias and `rq` the requantization per output channel,
/// `scratch` at least [`scratch_words`] words. Each block of output rows accumulates kernel row by
/// kernel row (few values live at once), then is requantized.
pub fn depthwise(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: &[i32],
    rq: &[ChannelRequant],
    y: &mut [i8],
    scratch: &mut [i32],
) {
    let win = &p.win;
    let (in_plane, out_plane, taps) = (win.in_plane(), win.out_plane(), win.k_h * win.k_w);
    let multiplier = p.c_out / p.c_in;
    let row = win.in_w + win.pad_left + win.pad_right;
    let plane_words = (row * (win.in_h + win.pad_top + win.pad_bottom)).div_ceil(4) + 1;
    let (padded, acc_all) = scratch[..scratch_words(p)].split_at_mut(plane_words);
    let padded: &mut [u8] = bytemuck::cast_slice_mut(padded);
    let three = win.k_w == 3 && win.dil_w == 1 && win.stride_w <= 2;
    let block_rows = if win.stride_h == 1 && win.stride_w == 1 {
        (BLOCK_POSITIONS.saturating_sub(win.out_w) / row + 1).min(win.out_h)
    } else {
        1
    };
    // Input bytes a block of `n` positions reads: its span and 4 bytes of word reads past it.
    let reach = |n: usize| (n - 1) * win.stride_w + (win.k_w - 1) * win.dil_w + 5;
    for n in 0..p.batch {
        for co in 0..p.c_out {
            if co % multiplier == 0 {
                let plane = n * p.c_in + co / multiplier;
                let xs: &[u8] = bytemuck::cast_slice(&x[plane * in_plane..][..in_plane]);
                pad_plane(p, xs, (-p.input_offset) as u8, padded);
            }
            let ws = &w[co * taps..][..taps];
            let ys = &mut y[(n * p.c_out + co) * out_plane..][..out_plane];
            let r = &rq[co];
            for (block, yrows) in ys.chunks_mut(block_rows * win.out_w).enumerate() {
                let rows = yrows.len() / win.out_w;
                let acc = &mut acc_all[..(rows - 1) * row + win.out_w];
                acc.fill(bias[co]);
                let top = block * block_rows * win.stride_h;
                for (kh, wrow) in ws.chunks_exact(win.k_w).enumerate() {
                    let xrow = &padded[(top + kh * win.dil_h) * row..][..reach(acc.len())];
                    match (three, win.stride_w) {
                        (true, 1) => row_stride1(xrow, wrow, acc),
                        (true, _) => row_stride2(xrow, wrow, acc),
                        _ => row_any(p, xrow, wrow, acc),
                    }
                }
                if rows == 1 {
                    for (yv, &a) in yrows.iter_mut().zip(acc.iter()) {
                        *yv = r.apply(a);
                    }
                    continue;
                }
                for (yrow, accs) in yrows.chunks_exact_mut(win.out_w).zip(acc.chunks(row)) {
                    for (yv, &a) in yrow.iter_mut().zip(accs) {
                        *yv = r.apply(a);
                    }
                }
            }
        }
    }
}

/// One kernel row of any width, stride and dilation into the row of accumulators.
fn row_any(p: &Conv, xrow: &[u8], wrow: &[i8], acc: &mut [i32]) {
    let win = &p.win;
    for (ow, a) in acc.iter_mut().enumerate() {
        let start = ow * win.stride_w;
        for (kw, &wv) in wrow.iter().enumerate() {
            *a += i32::from(xrow[start + kw * win.dil_w] as i8) * i32::from(wv);
        }
    }
}

/// A 3-wide kernel row, stride 1: outputs 2k, 2k + 1 from one word of inputs 2k..2k + 4.
#[inline(always)]
fn row_stride1(xrow: &[u8], w: &[i8], acc: &mut [i32]) {
    let (outer, middle) = outer_and_middle(w);
    let halves = xrow.as_chunks::<2>().0;
    let (pairs, last) = acc.as_chunks_mut::<2>();
    let n = pairs.len().min(halves.len().saturating_sub(1));
    let (first, second) = (&halves[..n], &halves[1..n + 1]);
    for ((a, h0), h1) in pairs.iter_mut().zip(first).zip(second) {
        let word = u32::from_le_bytes([h0[0], h0[1], h1[0], h1[1]]);
        let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
        a[0] = smlad(even, outer, a[0]) + low(odd) * middle;
        a[1] = smlad(odd, outer, a[1]) + high(even) * middle;
    }
    if let [a] = last {
        *a = three_taps(&xrow[2 * pairs.len()..], outer, middle, *a);
    }
}

/// A 3-wide kernel row, stride 2: outputs 2k, 2k + 1 from inputs 4k..4k + 5.
#[inline(always)]
fn row_stride2(xrow: &[u8], w: &[i8], acc: &mut [i32]) {
    let (outer, middle) = outer_and_middle(w);
    let (left, right) = (i32::from(w[0]), i32::from(w[2]));
    let words = xrow.as_chunks::<4>().0;
    let (pairs, last) = acc.as_chunks_mut::<2>();
    let n = pairs.len().min(words.len().saturating_sub(1));
    let (first, second) = (&words[..n], &words[1..n + 1]);
    for ((a, &x), next) in pairs.iter_mut().zip(first).zip(second) {
        let word = u32::from_le_bytes(x);
        let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
        a[0] = smlad(even, outer, a[0]) + low(odd) * middle;
        a[1] += high(even) * left + high(odd) * middle + i32::from(next[0] as i8) * right;
    }
    if let [a] = last {
        *a = three_taps(&xrow[4 * pairs.len()..], outer, middle, *a);
    }
}

/// `acc` plus 3 taps from the first 4 bytes of `x`.
#[inline(always)]
fn three_taps(x: &[u8], outer: u32, middle: i32, acc: i32) -> i32 {
    let word = u32::from_le_bytes([x[0], x[1], x[2], x[3]]);
    smlad(sxtb16(word), outer, acc) + low(sxtb16_odd(word)) * middle
}

/// The input plane with its padding (filled with the zero point) into `padded`.
fn pad_plane(p: &Conv, xs: &[u8], zero_point: u8, padded: &mut [u8]) {
    let win = &p.win;
    let row = win.in_w + win.pad_left + win.pad_right;
    let (top, body) = padded.split_at_mut(win.pad_top * row);
    let (body, bottom) = body.split_at_mut(win.in_h * row);
    top.fill(zero_point);
    bottom.fill(zero_point);
    for (dst, src) in body.chunks_exact_mut(row).zip(xs.chunks_exact(win.in_w)) {
        let (left, rest) = dst.split_at_mut(win.pad_left);
        let (middle, right) = rest.split_at_mut(win.in_w);
        left.fill(zero_point);
        middle.copy_from_slice(src);
        right.fill(zero_point);
    }
}

/// The 16-bit pair of the outer weights (0, 2) and the middle weight of a 3-wide kernel row.
#[inline(always)]
fn outer_and_middle(w: &[i8]) -> (u32, i32) {
    let outer = u32::from(w[0] as i16 as u16) | u32::from(w[2] as i16 as u16) << 16;
    (outer, i32::from(w[1]))
}

/// Low and high signed 16-bit halves.
#[inline(always)]
fn low(v: u32) -> i32 {
    i32::from(v as u16 as i16)
}

#[inline(always)]
fn high(v: u32) -> i32 {
    (v as i32) >> 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::int8::Requant;
    use crate::ops::window::Window;

    /// Equals the grouped kernel (unfolded bias, padding skipped) on many geometries.
    #[test]
    fn matches_the_grouped_kernel() {
        let mut seed = 11_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        // (in_h, in_w, k_h, k_w, stride, dilation, pad, multiplier)
        for &(in_h, in_w, k_h, k_w, stride, dil, pad, mult) in &[
            (7, 9, 3, 3, 1, 1, 1, 1),
            (8, 8, 3, 3, 2, 1, 1, 1),
            (9, 7, 3, 3, 2, 1, 0, 2),
            (6, 10, 3, 3, 1, 2, 2, 1),
            (10, 9, 5, 5, 1, 1, 2, 1),
            (5, 6, 1, 3, 1, 1, 0, 3),
            (11, 8, 3, 3, 1, 1, 0, 1),
        ] {
            let out = |d: usize, k: usize| (d + 2 * pad - (k - 1) * dil - 1) / stride + 1;
            let win = Window {
                in_h,
                in_w,
                out_h: out(in_h, k_h),
                out_w: out(in_w, k_w),
                k_h,
                k_w,
                stride_h: stride,
                stride_w: stride,
                dil_h: dil,
                dil_w: dil,
                pad_top: pad,
                pad_left: pad,
                pad_bottom: pad,
                pad_right: pad,
            };
            let c_in = 2;
            let c_out = c_in * mult;
            let p = Conv {
                batch: 2,
                c_in,
                c_out,
                groups: c_in,
                win,
                input_offset: 6,
            };
            let taps = k_h * k_w;
            let x: [i8; 2 * 2 * 110] = core::array::from_fn(|_| next());
            let w: [i8; 6 * 25] = core::array::from_fn(|_| next());
            let (x, w) = (&x[..2 * c_in * in_h * in_w], &w[..c_out * taps]);
            let bias: [i32; 6] = core::array::from_fn(|c| c as i32 * 70 - 200);
            let folded: [i32; 6] = core::array::from_fn(|c| {
                let sum: i32 = w[(c % c_out) * taps..][..taps]
                    .iter()
                    .map(|&v| i32::from(v))
                    .sum();
                bias[c] + p.input_offset * sum
            });
            let rq = Requant {
                multiplier: &[1 << 30, 1_300_000_000],
                shift: &[-5, -6],
                output_offset: 9,
                act_min: -128,
                act_max: 100,
            };
            let per_channel: [ChannelRequant; 6] = core::array::from_fn(|c| rq.channel(c % 2));
            let rq = Requant {
                multiplier: &[
                    1 << 30,
                    1_300_000_000,
                    1 << 30,
                    1_300_000_000,
                    1 << 30,
                    1_300_000_000,
                ],
                shift: &[-5, -6, -5, -6, -5, -6],
                ..rq
            };
            let len = 2 * c_out * win.out_plane();
            let (mut got, mut want) = ([0_i8; 2 * 6 * 110], [0_i8; 2 * 6 * 110]);
            let mut scratch = [0_i32; 14 * 14 / 4 + 1 + BLOCK_POSITIONS];
            depthwise(
                &p,
                x,
                w,
                &folded[..c_out],
                &per_channel[..c_out],
                &mut got[..len],
                &mut scratch,
            );
            super::super::conv::conv(
                &p,
                x,
                w,
                Some(&bias[..c_out]),
                &rq,
                &mut want[..len],
                0..c_out,
            );
            assert_eq!(
                got[..len],
                want[..len],
                "{in_h}x{in_w} k {k_h}x{k_w} stride {stride} dil {dil}"
            );
        }
    }
}
