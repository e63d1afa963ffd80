//! int8 convolution with one group (1x1 included) and fully connected as products of the weight
//! rows with packed input columns: two output channels by `P` pixels (or batch rows) per pass,
//! two products per `smlad` (`dsp`: SMLAD on Arm cores with DSP, portable Rust elsewhere, same
//! results).
//!
//! The input zero point is folded into the bias at build time (`sum((x - zx) * w) = sum(x * w) -
//! zx * sum(w)`); padding taps are packed as `zx`, so they add nothing, as in TFLM. A column holds
//! the `depth` inputs (`c_in * k_h * k_w`, the weight order) of one output pixel; each group of 4
//! taps is stored as two words of sign-extended 16-bit pairs, taps (0, 2) and (1, 3): the order
//! in which `sxtb16`/`sxtb16_odd` split a word of 4 weights, so the weights need no repacking.

use super::conv::Conv;
use super::dsp::{smlad, sxtb16, sxtb16_odd};
use super::Requant;

/// Words of the column buffer for `depth` taps and `pixels` columns.
pub const fn pack_words(depth: usize, pixels: usize) -> usize {
    depth.div_ceil(4) * 2 * pixels
}

/// Convolution with `groups == 1`; `bias` is the folded bias (one per output channel) and
/// `pack` holds [`pack_words`]`(c_in * k_h * k_w, 2)` words.
pub fn conv(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: &[i32],
    rq: &Requant,
    y: &mut [i8],
    pack: &mut [u32],
) {
    let win = &p.win;
    let depth = p.c_in * win.k_h * win.k_w;
    let (in_size, out_plane) = (p.c_in * win.in_plane(), win.out_plane());
    let pointwise = win.k_h == 1
        && win.k_w == 1
        && win.stride_h == 1
        && win.stride_w == 1
        && win.pad_top + win.pad_left == 0;
    let w: &[u8] = bytemuck::cast_slice(w);
    let cols = &mut pack.as_chunks_mut::<4>().0[..depth.div_ceil(4)];
    for n in 0..p.batch {
        let xs: &[u8] = bytemuck::cast_slice(&x[n * in_size..][..in_size]);
        let ys = &mut y[n * p.c_out * out_plane..][..p.c_out * out_plane];
        for px in (0..out_plane).step_by(2) {
            if pointwise && px + 1 < out_plane {
                pack_pointwise_pair(xs, p.c_in, out_plane, px, cols);
            } else {
                // An odd last pixel is packed twice; its second result is dropped.
                pack_column(p, xs, px, 0, cols);
                pack_column(p, xs, (px + 1).min(out_plane - 1), 1, cols);
            }
            let pixels = (out_plane - px).min(2);
            channel_pairs(cols, w, depth, bias, rq, p.c_out, |co, k, v| {
                if k < pixels {
                    ys[co * out_plane + px + k] = v;
                }
            });
        }
    }
}

/// Packs one row of `x` (all taps of one output) into single-column `cols`.
pub(super) fn pack_row(xs: &[u8], cols: &mut [[u32; 2]]) {
    let (words, tail) = xs.as_chunks::<4>();
    for (col, &raw) in cols.iter_mut().zip(words) {
        *col = split(u32::from_le_bytes(raw));
    }
    if !tail.is_empty() {
        cols[words.len()] = split(tail_word(tail));
    }
}

/// Every output channel of the packed columns, two at a time (an odd last one computed twice),
/// handed to `store(channel, pixel, value)`.
#[inline(always)]
pub(super) fn channel_pairs<const W: usize>(
    cols: &[[u32; W]],
    w: &[u8],
    depth: usize,
    bias: &[i32],
    rq: &Requant,
    channels: usize,
    mut store: impl FnMut(usize, usize, i8),
) {
    for co in (0..channels).step_by(2) {
        let co1 = (co + 1).min(channels - 1);
        let acc = dot(
            cols,
            &w[co * depth..][..depth],
            &w[co1 * depth..][..depth],
            (bias[co], bias[co1]),
        );
        let (r0, r1) = (rq.channel(co), rq.channel(co1));
        for k in 0..W / 2 {
            store(co, k, r0.apply(acc[2 * k]));
            if co1 > co {
                store(co1, k, r1.apply(acc[2 * k + 1]));
            }
        }
    }
}

/// `[bias + w0 . column k, bias + w1 . column k]` for the `W / 2` packed columns, interleaved.
#[inline(always)]
fn dot<const W: usize>(cols: &[[u32; W]], w0: &[u8], w1: &[u8], bias: (i32, i32)) -> [i32; W] {
    let mut acc = [0; W];
    for k in 0..W / 2 {
        acc[2 * k] = bias.0;
        acc[2 * k + 1] = bias.1;
    }
    let (w0, tail0) = w0.as_chunks::<4>();
    let (w1, tail1) = w1.as_chunks::<4>();
    let n = w0.len();
    let (cols, tail_cols) = cols.split_at(n);
    let w1 = &w1[..n];
    for g in 0..n {
        step(
            &mut acc,
            &cols[g],
            u32::from_le_bytes(w0[g]),
            u32::from_le_bytes(w1[g]),
        );
    }
    if let Some(col) = tail_cols.first() {
        step(&mut acc, col, tail_word(tail0), tail_word(tail1));
    }
    acc
}

/// 4 taps of two weight rows (a word each) against the packed columns.
#[inline(always)]
fn step<const W: usize>(acc: &mut [i32; W], col: &[u32; W], w0: u32, w1: u32) {
    let (a_even, a_odd, b_even, b_odd) = (sxtb16(w0), sxtb16_odd(w0), sxtb16(w1), sxtb16_odd(w1));
    for k in 0..W / 2 {
        let (even, odd) = (col[2 * k], col[2 * k + 1]);
        acc[2 * k] = smlad(odd, a_odd, smlad(even, a_even, acc[2 * k]));
        acc[2 * k + 1] = smlad(odd, b_odd, smlad(even, b_even, acc[2 * k + 1]));
    }
}

/// A word of 4 int8 split into the (0, 2) and (1, 3) pairs.
#[inline(always)]
fn split(raw: u32) -> [u32; 2] {
    [sxtb16(raw), sxtb16_odd(raw)]
}

/// The last 1 to 3 bytes of a row as a word, zero-padded.
#[inline(always)]
fn tail_word(bytes: &[u8]) -> u32 {
    let mut word = [0; 4];
    word[..bytes.len()].copy_from_slice(bytes);
    u32::from_le_bytes(word)
}

/// Column `slot` (0 or 1) of the pair in `cols`: the taps of output pixel `px`, padding as the
/// input zero point.
fn pack_column(p: &Conv, xs: &[u8], px: usize, slot: usize, cols: &mut [[u32; 4]]) {
    let win = &p.win;
    let (oh, ow) = (px / win.out_w, px % win.out_w);
    let zero_point = (-p.input_offset) as u8;
    let plane = win.in_plane();
    let (mut raw, mut k) = (0_u32, 0_usize);
    let mut push = |v: u8, cols: &mut [[u32; 4]]| {
        raw |= u32::from(v) << (8 * (k & 3));
        k += 1;
        if k & 3 == 0 {
            [cols[k / 4 - 1][2 * slot], cols[k / 4 - 1][2 * slot + 1]] = split(raw);
            raw = 0;
        }
    };
    for ci in 0..p.c_in {
        let xc = &xs[ci * plane..][..plane];
        for kh in 0..win.k_h {
            // Above or below the input wraps around to a large index.
            let ih = (oh * win.stride_h + kh * win.dil_h).wrapping_sub(win.pad_top);
            for kw in 0..win.k_w {
                let iw = (ow * win.stride_w + kw * win.dil_w).wrapping_sub(win.pad_left);
                let inside = ih < win.in_h && iw < win.in_w;
                push(
                    if inside {
                        xc[ih * win.in_w + iw]
                    } else {
                        zero_point
                    },
                    cols,
                );
            }
        }
    }
    let depth = p.c_in * win.k_h * win.k_w;
    for _ in depth..depth.next_multiple_of(4) {
        push(0, cols);
    }
}

/// Both columns of a 1x1 convolution for the adjacent pixels `px`, `px + 1`: one halfword per
/// input channel, split by `sxtb16` into the two pixels' pairs.
fn pack_pointwise_pair(xs: &[u8], c_in: usize, plane: usize, px: usize, cols: &mut [[u32; 4]]) {
    let half = |ci: usize| -> u32 {
        if ci < c_in {
            let at = ci * plane + px;
            u32::from(xs[at]) | u32::from(xs[at + 1]) << 8
        } else {
            0
        }
    };
    for (g, col) in cols.iter_mut().enumerate() {
        let ci = 4 * g;
        let even = half(ci) | half(ci + 2) << 16;
        let odd = half(ci + 1) | half(ci + 3) << 16;
        *col = [sxtb16(even), sxtb16(odd), sxtb16_odd(even), sxtb16_odd(odd)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::window::Window;

    fn next(seed: &mut u32) -> i8 {
        *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (*seed >> 16) as i8
    }

    const RQ: Requant = Requant {
        multiplier: &[1 << 30, 1_500_000_000, 1 << 30],
        shift: &[-6, -7, -5],
        output_offset: 4,
        act_min: -128,
        act_max: 127,
    };

    /// Equals the windowed kernel (unfolded bias) on padded, strided, odd-sized geometries.
    #[test]
    fn conv_matches_the_windowed_kernel() {
        let mut seed = 7;
        // (in_h, in_w, k, stride, pad, c_in, c_out)
        for &(in_h, in_w, k, stride, pad, c_in, c_out) in &[
            (5, 7, 1, 1, 0, 9, 3),
            (4, 4, 1, 1, 0, 8, 2),
            (6, 5, 3, 1, 1, 3, 3),
            (7, 9, 3, 2, 1, 5, 2),
            (6, 6, 5, 2, 0, 2, 1),
            (3, 5, 1, 2, 0, 6, 3),
        ] {
            let out = |d: usize| (d + 2 * pad - k) / stride + 1;
            let win = Window {
                in_h,
                in_w,
                out_h: out(in_h),
                out_w: out(in_w),
                k_h: k,
                k_w: k,
                stride_h: stride,
                stride_w: stride,
                dil_h: 1,
                dil_w: 1,
                pad_top: pad,
                pad_left: pad,
                pad_bottom: pad,
                pad_right: pad,
            };
            let p = Conv {
                batch: 2,
                c_in,
                c_out,
                groups: 1,
                win,
                input_offset: -9,
            };
            let depth = c_in * k * k;
            let x: [i8; 2 * 9 * 63] = core::array::from_fn(|_| next(&mut seed));
            let w: [i8; 3 * 9 * 25] = core::array::from_fn(|_| next(&mut seed));
            let (x, w) = (&x[..2 * c_in * in_h * in_w], &w[..c_out * depth]);
            let bias = [300, -200, 50];
            let wsum = |co: usize| {
                w[co * depth..][..depth]
                    .iter()
                    .map(|&v| i32::from(v))
                    .sum::<i32>()
            };
            let folded: [i32; 3] =
                core::array::from_fn(|co| bias[co] + p.input_offset * wsum(co.min(c_out - 1)));
            let len = 2 * c_out * win.out_plane();
            let (mut got, mut want) = ([0_i8; 2 * 3 * 63], [0_i8; 2 * 3 * 63]);
            let mut pack = [0_u32; 4 * 57];
            conv(&p, x, w, &folded[..c_out], &RQ, &mut got[..len], &mut pack);
            super::super::conv::conv(
                &p,
                x,
                w,
                Some(&bias[..c_out]),
                &RQ,
                &mut want[..len],
                0..c_out,
            );
            assert_eq!(
                got[..len],
                want[..len],
                "{in_h}x{in_w} k {k} stride {stride}"
            );
        }
    }
}
