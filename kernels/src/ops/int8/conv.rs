//! int8 convolution, NCHW activations, OIHW weights (`[c_out, c_in / groups, k_h, k_w]`),
//! int32 bias, per-channel requantization (TFLM's ConvPerChannel / DepthwiseConvPerChannel:
//! `acc = bias + sum((x + input_offset) * w)` over the taps inside the input).

use core::ops::Range;

use super::Requant;
use crate::ops::window::{Taps, Window};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub win: Window,
    /// Minus the input zero point.
    pub input_offset: i32,
    /// gemm.rs only: the packed taps run by kernel position, then input channel (`c_in` a
    /// multiple of 4; chosen at build time, `ariel_build/ops/quantized/packing.py`).
    pub channels_last: bool,
}

impl Conv {
    #[inline(always)]
    fn in_per_group(&self) -> usize {
        self.c_in / self.groups
    }

    #[inline(always)]
    fn filter_len(&self) -> usize {
        self.in_per_group() * self.win.k_h * self.win.k_w
    }

    #[inline(always)]
    fn is_pointwise(&self) -> bool {
        self.win.is_pointwise()
    }

    #[inline(always)]
    fn group_input<'a>(&self, x: &'a [i8], n: usize, co: usize) -> &'a [i8] {
        let group = co / (self.c_out / self.groups);
        let plane = self.win.in_plane();
        let first = n * self.c_in + group * self.in_per_group();
        &x[first * plane..(first + self.in_per_group()) * plane]
    }
}

/// Computes output channels `channels` of every batch item. Inlined, so the generated code's
/// constant geometry specialises the loops.
#[inline]
pub fn conv(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    rq: &Requant,
    y: &mut [i8],
    channels: Range<usize>,
) {
    if p.is_pointwise() {
        pointwise(p, x, w, bias, rq, y, channels);
    } else if p.in_per_group() == 1 {
        // Monomorphised for the common kernel widths: `conv` is not always inlined into the
        // generated code, so the kernel's own copy must be fast without constant geometry.
        match (p.win.k_w, p.win.dil_w) {
            (3, 1) => single_plane::<3>(p, x, w, bias, rq, y, channels),
            (5, 1) => single_plane::<5>(p, x, w, bias, rq, y, channels),
            _ => single_plane::<0>(p, x, w, bias, rq, y, channels),
        }
    } else if p.win.k_w == 3 {
        windowed::<3>(p, x, w, bias, rq, y, channels);
    } else {
        windowed::<0>(p, x, w, bias, rq, y, channels);
    }
}

/// Output pixels accumulated together (independent sums sharing each weight load).
const BLOCK: usize = 8;
/// Output pixels of one pointwise block (their accumulators stay in registers).
const PIXEL_BLOCK: usize = 8;

#[inline(always)]
fn pointwise(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    rq: &Requant,
    y: &mut [i8],
    channels: Range<usize>,
) {
    let plane = p.win.in_plane();
    let depth = p.in_per_group();
    for n in 0..p.batch {
        for co in channels.clone() {
            let rq = rq.channel(co);
            let xs = p.group_input(x, n, co);
            let ws = &w[co * depth..][..depth];
            // sum((x + offset) * w) = sum(x * w) + offset * sum(w)
            let wsum: i32 = ws.iter().map(|&v| i32::from(v)).sum();
            let b = bias.map_or(0, |b| b[co]) + p.input_offset * wsum;
            let ys = &mut y[(n * p.c_out + co) * plane..][..plane];
            let (blocks, rest) = ys.as_chunks_mut::<PIXEL_BLOCK>();
            for (k, out) in blocks.iter_mut().enumerate() {
                let acc = pointwise_dots::<PIXEL_BLOCK>(xs, ws, b, plane, k * PIXEL_BLOCK);
                for (yv, &a) in out.iter_mut().zip(&acc) {
                    *yv = rq.apply(a);
                }
            }
            let first = plane - rest.len();
            for (k, yv) in rest.iter_mut().enumerate() {
                *yv = rq.apply(pointwise_dots::<1>(xs, ws, b, plane, first + k)[0]);
            }
        }
    }
}

/// `b + sum_ci x[ci, px + k] * w[ci]` for the P pixels from `px` on.
#[inline(always)]
fn pointwise_dots<const P: usize>(
    xs: &[i8],
    ws: &[i8],
    b: i32,
    plane: usize,
    px: usize,
) -> [i32; P] {
    let mut acc = [b; P];
    for (xc, &wv) in xs.chunks_exact(plane).zip(ws) {
        let wv = i32::from(wv);
        for (a, &xv) in acc.iter_mut().zip(&xc[px..px + P]) {
            *a += wv * i32::from(xv);
        }
    }
    acc
}

/// Convolutions whose output channels each read one input plane (depthwise, with any channel
/// multiplier): one output at a time, the taps of a kernel row as one contiguous run.
/// `KW` is the kernel width (dilation 1) when known at compile time, else 0.
#[inline(always)]
fn single_plane<const KW: usize>(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    rq: &Requant,
    y: &mut [i8],
    channels: Range<usize>,
) {
    let win = &p.win;
    let (rows, cols) = (win.rows(), win.cols());
    let inner = cols.interior();
    let taps = win.k_h * win.k_w;
    let (in_plane, out_plane) = (win.in_plane(), win.out_plane());
    let out_per_group = p.c_out / p.groups;
    for n in 0..p.batch {
        for co in channels.clone() {
            let rq = rq.channel(co);
            let xs = &x[(n * p.c_in + co / out_per_group) * in_plane..][..in_plane];
            let ws = &w[co * taps..][..taps];
            let b = bias.map_or(0, |b| b[co]);
            let ys = &mut y[(n * p.c_out + co) * out_plane..][..out_plane];
            for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
                let rt = rows.taps(oh);
                for ow in (0..inner.start).chain(inner.end..win.out_w) {
                    yrow[ow] = rq.apply(b + window_acc(p, xs, ws, rt, cols.taps(ow)));
                }
                // Interior columns see whole kernel rows: fold the input offset into the bias.
                let wrows = &ws[rt.first * win.k_w..(rt.first + rt.count) * win.k_w];
                let wsum: i32 = wrows.iter().map(|&v| i32::from(v)).sum();
                let b = b + p.input_offset * wsum;
                for ow in inner.clone() {
                    let start = ow * win.stride_w - win.pad_left;
                    let mut acc = b;
                    if KW > 0 {
                        for (r, wrow) in wrows.chunks_exact(KW).enumerate() {
                            let xrow = &xs[(rt.start + r * win.dil_h) * win.in_w + start..][..KW];
                            for (&xv, &wv) in xrow.iter().zip(wrow) {
                                acc += i32::from(xv) * i32::from(wv);
                            }
                        }
                        yrow[ow] = rq.apply(acc);
                        continue;
                    }
                    for (r, wrow) in wrows.chunks_exact(win.k_w).enumerate() {
                        let xrow = &xs[(rt.start + r * win.dil_h) * win.in_w + start..];
                        if win.dil_w == 1 {
                            for (&xv, &wv) in xrow[..win.k_w].iter().zip(wrow) {
                                acc += i32::from(xv) * i32::from(wv);
                            }
                        } else {
                            for (&xv, &wv) in xrow.iter().step_by(win.dil_w).zip(wrow) {
                                acc += i32::from(xv) * i32::from(wv);
                            }
                        }
                    }
                    yrow[ow] = rq.apply(acc);
                }
            }
        }
    }
}

/// Any grouped convolution; `KW` is the kernel width when known at compile time, else 0.
#[inline(always)]
fn windowed<const KW: usize>(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    rq: &Requant,
    y: &mut [i8],
    channels: Range<usize>,
) {
    let win = &p.win;
    let (rows, cols) = (win.rows(), win.cols());
    let inner = cols.interior();
    let out_plane = win.out_plane();
    for n in 0..p.batch {
        for co in channels.clone() {
            let rq = rq.channel(co);
            let xs = p.group_input(x, n, co);
            let ws = &w[co * p.filter_len()..(co + 1) * p.filter_len()];
            let b = bias.map_or(0, |b| b[co]);
            let ys = &mut y[(n * p.c_out + co) * out_plane..(n * p.c_out + co + 1) * out_plane];
            for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
                let rt = rows.taps(oh);
                for ow in (0..inner.start).chain(inner.end..win.out_w) {
                    yrow[ow] = rq.apply(b + window_acc(p, xs, ws, rt, cols.taps(ow)));
                }
                // Interior columns see every kernel column: the input offset adds
                // offset * (sum of the weights of the rows in view) to each of them.
                let b = b + p.input_offset * visible_weight_sum(p, ws, rt);
                let (blocks, rest) = yrow[inner.clone()].as_chunks_mut::<BLOCK>();
                for (k, out) in blocks.iter_mut().enumerate() {
                    let sums = interior_dots::<BLOCK, KW>(p, xs, ws, rt, inner.start + k * BLOCK);
                    for (yv, s) in out.iter_mut().zip(sums) {
                        *yv = rq.apply(b + s);
                    }
                }
                let first = inner.end - rest.len();
                for (k, yv) in rest.iter_mut().enumerate() {
                    *yv = rq.apply(b + interior_dots::<1, KW>(p, xs, ws, rt, first + k)[0]);
                }
            }
        }
    }
}

/// `sum((x + offset) * w)` over the taps `rt` x `ct` of every input channel of the group.
#[inline(always)]
fn window_acc(p: &Conv, xs: &[i8], ws: &[i8], rt: Taps, ct: Taps) -> i32 {
    let win = &p.win;
    let (plane, taps) = (win.in_plane(), win.k_h * win.k_w);
    let mut acc = 0;
    // Index loops, not zipped chunk iterators: `Zip::new` is not always inlined.
    for ci in 0..p.in_per_group() {
        let (xc, wc) = (&xs[ci * plane..][..plane], &ws[ci * taps..][..taps]);
        for r in 0..rt.count {
            let xrow = &xc[(rt.start + r * win.dil_h) * win.in_w..];
            let wrow = &wc[(rt.first + r) * win.k_w..][ct.first..ct.first + ct.count];
            for (c, &wv) in wrow.iter().enumerate() {
                let xv = i32::from(xrow[ct.start + c * win.dil_w]);
                acc += (xv + p.input_offset) * i32::from(wv);
            }
        }
    }
    acc
}

/// Sum of the filter weights in kernel rows `rt` (all columns, all input channels).
#[inline(always)]
fn visible_weight_sum(p: &Conv, ws: &[i8], rt: Taps) -> i32 {
    let (k_h, k_w) = (p.win.k_h, p.win.k_w);
    ws.chunks_exact(k_h * k_w)
        .map(|wc| {
            wc[rt.first * k_w..(rt.first + rt.count) * k_w]
                .iter()
                .map(|&v| i32::from(v))
                .sum::<i32>()
        })
        .sum()
}

/// `sum(x * w)` of the `N` interior columns from `ow` on (all their column taps are inside).
#[inline(always)]
fn interior_dots<const N: usize, const KW: usize>(
    p: &Conv,
    xs: &[i8],
    ws: &[i8],
    rt: Taps,
    ow: usize,
) -> [i32; N] {
    let win = &p.win;
    let start = ow * win.stride_w - win.pad_left;
    let (plane, taps) = (win.in_plane(), win.k_h * win.k_w);
    let mut acc = [0; N];
    for ci in 0..p.in_per_group() {
        let (xc, wc) = (&xs[ci * plane..][..plane], &ws[ci * taps..][..taps]);
        for r in 0..rt.count {
            let xrow = &xc[(rt.start + r * win.dil_h) * win.in_w + start..];
            let k_w = if KW > 0 { KW } else { win.k_w };
            let wrow = &wc[(rt.first + r) * k_w..][..k_w];
            for (c, &wv) in wrow.iter().enumerate() {
                let wv = i32::from(wv);
                let xs = &xrow[c * win.dil_w..][..(N - 1) * win.stride_w + 1];
                if win.stride_w == 1 {
                    for (a, &xv) in acc.iter_mut().zip(xs) {
                        *a += i32::from(xv) * wv;
                    }
                } else {
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a += i32::from(xs[j * win.stride_w]) * wv;
                    }
                }
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplier 2^30 with shift 0 halves (ties round up).
    const HALF: Requant = Requant {
        multiplier: &[1 << 30],
        shift: &[0],
        output_offset: 3,
        act_min: -128,
        act_max: 127,
    };

    #[test]
    fn padding_taps_count_as_the_zero_point() {
        // 3x3 all-ones filter over a 2x2 input of value zp + 1 (offset -zp), pad 1: every
        // output sees all 4 inputs, so acc = 4 + bias 2 = 6 -> 3, + output offset 3 = 6.
        let p = Conv {
            batch: 1,
            c_in: 1,
            c_out: 1,
            groups: 1,
            win: Window::symmetric((2, 2), 3, 1, 1, 1),
            input_offset: -5,
            channels_last: false,
        };
        let x = [6_i8; 4];
        let w = [1_i8; 9];
        let mut y = [0_i8; 4];
        conv(&p, &x, &w, Some(&[2]), &HALF, &mut y, 0..1);
        assert_eq!(y, [6; 4]);
    }

    #[test]
    fn pointwise_matches_windowed_definition() {
        // 1x1 conv, 2 input channels, 20 pixels (more than one block): hand-computed values.
        let p = Conv {
            batch: 1,
            c_in: 2,
            c_out: 2,
            groups: 1,
            win: Window {
                in_h: 4,
                in_w: 5,
                out_h: 4,
                out_w: 5,
                ..Window::symmetric((1, 1), 1, 1, 0, 1)
            },
            input_offset: 1,
            channels_last: false,
        };
        let x: [i8; 40] = core::array::from_fn(|i| i as i8 - 20);
        let w = [2_i8, -1, 3, 4];
        let mut y = [0_i8; 40];
        conv(&p, &x, &w, None, &HALF, &mut y, 0..2);
        for i in 0..20 {
            let (a, b) = (x[i] as i32 + 1, x[20 + i] as i32 + 1);
            for co in 0..2 {
                let acc = w[2 * co] as i32 * a + w[2 * co + 1] as i32 * b;
                let half = (acc + 1).div_euclid(2); // x 1/2, ties up
                assert_eq!(y[co * 20 + i] as i32, (half + 3).clamp(-128, 127));
            }
        }
    }

    /// The definition, tap by tap, padding as the zero point.
    fn reference(p: &Conv, x: &[i8], w: &[i8], bias: &[i32], rq: &Requant, y: &mut [i8]) {
        let win = &p.win;
        let cpg = p.c_in / p.groups;
        for co in 0..p.c_out {
            let g = co / (p.c_out / p.groups);
            for oh in 0..win.out_h {
                for ow in 0..win.out_w {
                    let mut acc = bias[co];
                    for ci in 0..cpg {
                        for kh in 0..win.k_h {
                            for kw in 0..win.k_w {
                                let ih = (oh * win.stride_h + kh * win.dil_h) as isize
                                    - win.pad_top as isize;
                                let iw = (ow * win.stride_w + kw * win.dil_w) as isize
                                    - win.pad_left as isize;
                                if ih < 0
                                    || iw < 0
                                    || ih >= win.in_h as isize
                                    || iw >= win.in_w as isize
                                {
                                    continue;
                                }
                                let xv = x[((g * cpg + ci) * win.in_h + ih as usize) * win.in_w
                                    + iw as usize] as i32;
                                let wv = w[((co * cpg + ci) * win.k_h + kh) * win.k_w + kw] as i32;
                                acc += (xv + p.input_offset) * wv;
                            }
                        }
                    }
                    y[(co * win.out_h + oh) * win.out_w + ow] = rq.apply(acc, co);
                }
            }
        }
    }

    #[test]
    fn windowed_matches_the_definition() {
        let mut seed = 12345_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        // (size, kernel, stride, dilation, pad, groups)
        for &(size, k, stride, dil, pad, groups) in &[
            (11, 3, 1, 1, 1, 1),
            (13, 5, 2, 1, 2, 2),
            (12, 3, 1, 2, 2, 4),
            (9, 2, 3, 1, 0, 1),
            (20, 3, 2, 1, 1, 4),
            (10, 3, 1, 1, 1, 8),
            (11, 5, 2, 2, 2, 8),
        ] {
            let (c_in, c_out) = if groups == 8 { (8, 8) } else { (4, 8) };
            let win = Window::symmetric((size, size), k, stride, pad, dil);
            let p = Conv {
                batch: 1,
                c_in,
                c_out,
                groups,
                win,
                input_offset: 7,
                channels_last: false,
            };
            let x: [i8; 8 * 400] = core::array::from_fn(|_| next());
            let w: [i8; 8 * 8 * 25] = core::array::from_fn(|_| next());
            let bias: [i32; 8] = core::array::from_fn(|i| i as i32 * 100 - 300);
            let rq = Requant {
                multiplier: &[
                    1 << 30,
                    1 << 29,
                    1 << 30,
                    1 << 29,
                    1 << 30,
                    1 << 29,
                    1 << 30,
                    1 << 29,
                ],
                shift: &[-4, -3, -4, -3, -4, -3, -4, -3],
                output_offset: -3,
                act_min: -100,
                act_max: 120,
            };
            let len = c_out * win.out_plane();
            let (x, w) = (
                &x[..c_in * size * size],
                &w[..c_out * c_in / groups * k * k],
            );
            let (mut got, mut want) = ([0_i8; 8 * 400], [0_i8; 8 * 400]);
            conv(&p, x, w, Some(&bias), &rq, &mut got[..len], 0..c_out);
            reference(&p, x, w, &bias, &rq, &mut want[..len]);
            assert_eq!(
                got[..len],
                want[..len],
                "size {size} kernel {k} stride {stride}"
            );
        }
    }
}
