//! Convolution, NCHW input and output, OIHW weights (`[c_out, c_in / groups, k_h, k_w]`).
//!
//! `conv` picks a path: pointwise (1x1, stride 1, no padding: a sum of scaled input planes,
//! which vectorises) or windowed (any kernel; depthwise is the case of one input channel per
//! group). The windowed path splits each output row into its interior columns, whose taps are
//! all inside the input and which are computed `BLOCK` at a time, and the border columns, where
//! only the taps `Axis::taps` returns are visited. No inner loop tests for padding.
//! `conv_reference` is the plain definition both are tested against. `conv_transpose` scatters
//! each input through the same window geometry; `conv_transpose_reference` gathers.

use core::ops::Range;

use super::act::Act;
use super::window::{Taps, Window};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub win: Window,
}

impl Conv {
    #[inline(always)]
    fn in_per_group(&self) -> usize {
        self.c_in / self.groups
    }

    #[inline(always)]
    fn out_per_group(&self) -> usize {
        self.c_out / self.groups
    }

    /// Weights of one output channel.
    #[inline(always)]
    fn filter_len(&self) -> usize {
        self.in_per_group() * self.win.k_h * self.win.k_w
    }

    #[inline(always)]
    fn is_pointwise(&self) -> bool {
        self.win.is_pointwise()
    }

    /// The input planes of the group that output channel `co` of batch item `n` reads.
    #[inline(always)]
    fn group_input<'a>(&self, x: &'a [f32], n: usize, co: usize) -> &'a [f32] {
        let group = co / self.out_per_group();
        let plane = self.win.in_plane();
        let first = n * self.c_in + group * self.in_per_group();
        &x[first * plane..(first + self.in_per_group()) * plane]
    }

    #[inline(always)]
    fn filter<'a>(&self, w: &'a [f32], co: usize) -> &'a [f32] {
        &w[co * self.filter_len()..(co + 1) * self.filter_len()]
    }

    #[inline(always)]
    fn output_plane<'a>(&self, y: &'a mut [f32], n: usize, co: usize) -> &'a mut [f32] {
        let plane = self.win.out_plane();
        let first = n * self.c_out + co;
        &mut y[first * plane..(first + 1) * plane]
    }
}

/// Output channels computed together: they share every input load.
const CHANNELS: usize = 4;
/// Output columns computed together: they share every weight load.
const COLUMNS: usize = 4;

/// Computes output channels `channels` (of every batch item) and applies `act`.
#[inline]
pub fn conv(
    p: &Conv,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    channels: Range<usize>,
    act: Act,
) {
    let per_group = p.out_per_group();
    for n in 0..p.batch {
        let mut co = channels.start;
        while co < channels.end {
            let group_end = (co / per_group + 1) * per_group;
            if co + CHANNELS <= channels.end.min(group_end) {
                channel_block::<CHANNELS>(p, x, w, bias, y, n, co, act);
                co += CHANNELS;
            } else {
                channel_block::<1>(p, x, w, bias, y, n, co, act);
                co += 1;
            }
        }
    }
}

/// Output channels `co..co + NC` (one group) of batch item `n`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn channel_block<const NC: usize>(
    p: &Conv,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    n: usize,
    co: usize,
    act: Act,
) {
    let b: Block<'_, NC> = Block {
        xs: p.group_input(x, n, co),
        filters: core::array::from_fn(|c| p.filter(w, co + c)),
        bias: core::array::from_fn(|c| bias.map_or(0.0, |b| b[co + c])),
        act,
    };
    let plane = p.win.out_plane();
    let ys = &mut y[(n * p.c_out + co) * plane..][..NC * plane];
    let win = p.win;
    if p.is_pointwise() {
        pointwise(&b, ys, p.in_per_group(), plane);
        return;
    }
    // Common column geometries get their own copy, with the tap loop unrolled.
    let fixed = |k_w, stride_w, dil_w| Window {
        k_w,
        stride_w,
        dil_w,
        ..win
    };
    let ipg = p.in_per_group();
    match (win.k_w, win.stride_w, win.dil_w) {
        (3, 1, 1) => windowed(&b, ys, ipg, &fixed(3, 1, 1)),
        (3, 2, 1) => windowed(&b, ys, ipg, &fixed(3, 2, 1)),
        (5, 1, 1) => windowed(&b, ys, ipg, &fixed(5, 1, 1)),
        _ => windowed(&b, ys, ipg, &win),
    }
}

/// What a block of `NC` output channels reads: its group's input planes and its filters.
struct Block<'a, const NC: usize> {
    xs: &'a [f32],
    filters: [&'a [f32]; NC],
    bias: [f32; NC],
    act: Act,
}

impl<const NC: usize> Block<'_, NC> {
    /// Writes `sums[c][j]` (+ bias, activated) to column `first + j` of output plane `c`.
    #[inline(always)]
    fn store<const NP: usize>(
        &self,
        ys: &mut [f32],
        plane: usize,
        first: usize,
        sums: [[f32; NP]; NC],
    ) {
        for (c, row) in sums.iter().enumerate() {
            for (yv, &s) in ys[c * plane + first..][..NP].iter_mut().zip(row) {
                *yv = self.act.apply(self.bias[c] + s);
            }
        }
    }
}

/// 1x1 kernel, stride 1, no padding: the planes are one long row, `COLUMNS` outputs at a time.
#[inline(always)]
fn pointwise<const NC: usize>(b: &Block<'_, NC>, ys: &mut [f32], ipg: usize, plane: usize) {
    let xs = &b.xs[..ipg * plane];
    let filters: [&[f32]; NC] = core::array::from_fn(|c| &b.filters[c][..ipg]);
    let sums = |first: usize| -> [[f32; COLUMNS]; NC] {
        let mut acc = [[0.0; COLUMNS]; NC];
        for (ci, xc) in xs.chunks_exact(plane).enumerate() {
            let Some(xv) = xc[first..].first_chunk::<COLUMNS>() else {
                break;
            };
            for (a, f) in acc.iter_mut().zip(&filters) {
                let wv = f[ci];
                for (s, &v) in a.iter_mut().zip(xv) {
                    *s += wv * v;
                }
            }
        }
        acc
    };
    let blocks = plane / COLUMNS;
    for k in 0..blocks {
        b.store(ys, plane, k * COLUMNS, sums(k * COLUMNS));
    }
    for first in blocks * COLUMNS..plane {
        let mut acc = [[0.0; 1]; NC];
        for (ci, xc) in xs.chunks_exact(plane).enumerate() {
            for (a, f) in acc.iter_mut().zip(&filters) {
                a[0] += f[ci] * xc[first];
            }
        }
        b.store(ys, plane, first, acc);
    }
}

/// Any window. Each output row splits into its interior columns, whose taps are all inside the
/// input (`COLUMNS` at a time), and the border columns, which visit only their `Axis::taps`.
#[inline(always)]
fn windowed<const NC: usize>(b: &Block<'_, NC>, ys: &mut [f32], ipg: usize, win: &Window) {
    let (rows, cols) = (win.rows(), win.cols());
    let inner = cols.interior();
    let plane = win.out_plane();
    for oh in 0..win.out_h {
        let rt = rows.taps(oh);
        let row = oh * win.out_w;
        for ow in (0..inner.start).chain(inner.end..win.out_w) {
            let sums = window_sums::<NC, 1>(b, ipg, win, rt, cols.taps(ow));
            b.store(ys, plane, row + ow, sums);
        }
        let full = |ow: usize| Taps {
            first: 0,
            count: win.k_w,
            start: ow * win.stride_w - win.pad_left,
        };
        if inner.len() < COLUMNS {
            for ow in inner.clone() {
                let sums = window_sums::<NC, 1>(b, ipg, win, rt, full(ow));
                b.store(ys, plane, row + ow, sums);
            }
            continue;
        }
        // The last block ends at the interior's end and may overlap the one before it; the
        // columns both compute get the same value twice.
        let mut ow = inner.start;
        while ow < inner.end {
            ow = ow.min(inner.end - COLUMNS);
            let sums = window_sums::<NC, COLUMNS>(b, ipg, win, rt, full(ow));
            b.store(ys, plane, row + ow, sums);
            ow += COLUMNS;
        }
    }
}

/// Sums of the `NC` filters over the taps `rt` x `ct` for `NP` output columns, `stride_w` apart
/// (`ct` are the taps of the first of them, which all share).
#[inline(always)]
fn window_sums<const NC: usize, const NP: usize>(
    b: &Block<'_, NC>,
    ipg: usize,
    win: &Window,
    rt: Taps,
    ct: Taps,
) -> [[f32; NP]; NC] {
    let mut acc = [[0.0; NP]; NC];
    if ct.count == 0 {
        return acc;
    }
    let (taps, in_plane) = (win.k_h * win.k_w, win.in_plane());
    let span = (NP - 1) * win.stride_w + (ct.count - 1) * win.dil_w + 1;
    for ci in 0..ipg {
        let xc = &b.xs[ci * in_plane..][..in_plane];
        for r in 0..rt.count {
            let xrow = &xc[(rt.start + r * win.dil_h) * win.in_w + ct.start..][..span];
            let tap0 = ci * taps + (rt.first + r) * win.k_w + ct.first;
            let wrows: [&[f32]; NC] =
                core::array::from_fn(|c| &b.filters[c][tap0..tap0 + ct.count]);
            for t in 0..ct.count {
                let wv: [f32; NC] = core::array::from_fn(|c| wrows[c][t]);
                for j in 0..NP {
                    let xv = xrow[t * win.dil_w + j * win.stride_w];
                    for (a, &wc) in acc.iter_mut().zip(&wv) {
                        a[j] += wc * xv;
                    }
                }
            }
        }
    }
    acc
}

/// The definition: every tap of every output, padding tested tap by tap.
pub fn conv_reference(
    p: &Conv,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    channels: Range<usize>,
    act: Act,
) {
    let win = &p.win;
    let inside = |o: usize, k: usize, stride: usize, dil: usize, pad: usize, size: usize| {
        let i = (o * stride + k * dil) as isize - pad as isize;
        (0..size as isize).contains(&i).then_some(i as usize)
    };
    for n in 0..p.batch {
        for co in channels.clone() {
            let xs = p.group_input(x, n, co);
            let ws = p.filter(w, co);
            for oh in 0..win.out_h {
                for ow in 0..win.out_w {
                    let mut acc = bias.map_or(0.0, |b| b[co]);
                    for ci in 0..p.in_per_group() {
                        for kh in 0..win.k_h {
                            for kw in 0..win.k_w {
                                let ih =
                                    inside(oh, kh, win.stride_h, win.dil_h, win.pad_top, win.in_h);
                                let iw =
                                    inside(ow, kw, win.stride_w, win.dil_w, win.pad_left, win.in_w);
                                if let (Some(ih), Some(iw)) = (ih, iw) {
                                    let xv = xs[(ci * win.in_h + ih) * win.in_w + iw];
                                    acc += xv * ws[(ci * win.k_h + kh) * win.k_w + kw];
                                }
                            }
                        }
                    }
                    p.output_plane(y, n, co)[oh * win.out_w + ow] = act.apply(acc);
                }
            }
        }
    }
}

/// Transposed convolution, weights `[c_in, c_out / groups, k_h, k_w]`. `win` is the forward
/// convolution it transposes: `in_*` are this op's output sizes and `out_*` its input sizes, so
/// each input element scatters into the outputs `Axis::taps` gives for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvTranspose {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub win: Window,
}

impl ConvTranspose {
    /// Filter from input channel `ci` to output channel `co` (`[k_h, k_w]`).
    #[inline(always)]
    fn filter<'a>(&self, w: &'a [f32], ci: usize, co: usize) -> &'a [f32] {
        let taps = self.win.k_h * self.win.k_w;
        let index = ci * (self.c_out / self.groups) + co % (self.c_out / self.groups);
        &w[index * taps..(index + 1) * taps]
    }

    /// Input channels that feed output channel `co`.
    #[inline(always)]
    fn group_channels(&self, co: usize) -> Range<usize> {
        let per_group = self.c_in / self.groups;
        let group = co / (self.c_out / self.groups);
        group * per_group..(group + 1) * per_group
    }
}

/// Computes output channels `channels` (of every batch item) and applies `act`.
#[inline]
pub fn conv_transpose(
    p: &ConvTranspose,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    channels: Range<usize>,
    act: Act,
) {
    let win = &p.win;
    let (rows, cols) = (win.rows(), win.cols());
    let (x_plane, y_plane) = (win.out_plane(), win.in_plane());
    for n in 0..p.batch {
        for co in channels.clone() {
            let first = (n * p.c_out + co) * y_plane;
            let ys = &mut y[first..first + y_plane];
            ys.fill(bias.map_or(0.0, |b| b[co]));
            for ci in p.group_channels(co) {
                let first = (n * p.c_in + ci) * x_plane;
                let xs = &x[first..first + x_plane];
                let wc = p.filter(w, ci, co);
                for (ih, xrow) in xs.chunks_exact(win.out_w).enumerate() {
                    let rt = rows.taps(ih);
                    for (iw, &xv) in xrow.iter().enumerate() {
                        let ct = cols.taps(iw);
                        for r in 0..rt.count {
                            let yrow = &mut ys[(rt.start + r * win.dil_h) * win.in_w..];
                            let wrow =
                                &wc[(rt.first + r) * win.k_w..][ct.first..ct.first + ct.count];
                            for (c, &wv) in wrow.iter().enumerate() {
                                yrow[ct.start + c * win.dil_w] += xv * wv;
                            }
                        }
                    }
                }
            }
            for yv in ys.iter_mut() {
                *yv = act.apply(*yv);
            }
        }
    }
}

/// The definition: each output gathers the inputs whose taps reach it, tested tap by tap.
pub fn conv_transpose_reference(
    p: &ConvTranspose,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    channels: Range<usize>,
    act: Act,
) {
    let win = &p.win;
    // Input index whose tap k reaches output o, if any.
    let source = |o: usize, k: usize, stride: usize, dil: usize, pad: usize, size: usize| {
        let t = (o + pad) as isize - (k * dil) as isize;
        (t >= 0 && (t as usize).is_multiple_of(stride) && (t as usize / stride) < size)
            .then(|| t as usize / stride)
    };
    for n in 0..p.batch {
        for co in channels.clone() {
            for oh in 0..win.in_h {
                for ow in 0..win.in_w {
                    let mut acc = bias.map_or(0.0, |b| b[co]);
                    for ci in p.group_channels(co) {
                        let wc = p.filter(w, ci, co);
                        for kh in 0..win.k_h {
                            for kw in 0..win.k_w {
                                let ih =
                                    source(oh, kh, win.stride_h, win.dil_h, win.pad_top, win.out_h);
                                let iw = source(
                                    ow,
                                    kw,
                                    win.stride_w,
                                    win.dil_w,
                                    win.pad_left,
                                    win.out_w,
                                );
                                if let (Some(ih), Some(iw)) = (ih, iw) {
                                    let xv =
                                        x[((n * p.c_in + ci) * win.out_h + ih) * win.out_w + iw];
                                    acc += xv * wc[kh * win.k_w + kw];
                                }
                            }
                        }
                    }
                    y[((n * p.c_out + co) * win.in_h + oh) * win.in_w + ow] = act.apply(acc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::*;

    /// Deterministic values in [-1, 1) (no rand dependency).
    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Builds a Conv with ONNX's explicit-pads output size.
    #[allow(clippy::too_many_arguments)]
    fn params(
        batch: usize,
        c_in: usize,
        c_out: usize,
        groups: usize,
        input: (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        dil: (usize, usize),
        pads: [usize; 4], // top, left, bottom, right
    ) -> Conv {
        let out = |size: usize, k: usize, s: usize, d: usize, pb: usize, pe: usize| {
            (size + pb + pe - (k - 1) * d - 1) / s + 1
        };
        Conv {
            batch,
            c_in,
            c_out,
            groups,
            win: Window {
                in_h: input.0,
                in_w: input.1,
                out_h: out(input.0, kernel.0, stride.0, dil.0, pads[0], pads[2]),
                out_w: out(input.1, kernel.1, stride.1, dil.1, pads[1], pads[3]),
                k_h: kernel.0,
                k_w: kernel.1,
                stride_h: stride.0,
                stride_w: stride.1,
                dil_h: dil.0,
                dil_w: dil.1,
                pad_top: pads[0],
                pad_left: pads[1],
                pad_bottom: pads[2],
                pad_right: pads[3],
            },
        }
    }

    /// Runs `conv` and `conv_reference` on the same data and compares every output.
    fn agree(p: &Conv, channels: Range<usize>, act: Act, with_bias: bool) {
        let x = values(p.batch * p.c_in * p.win.in_plane(), 1);
        let w = values(p.c_out * p.filter_len(), 2);
        let b = values(p.c_out, 3);
        let bias = with_bias.then_some(&b[..]);
        let len = p.batch * p.c_out * p.win.out_plane();
        // NaN marks outputs the kernels must not touch.
        let (mut fast, mut slow) = (vec![f32::NAN; len], vec![f32::NAN; len]);
        conv(p, &x, &w, bias, &mut fast, channels.clone(), act);
        conv_reference(p, &x, &w, bias, &mut slow, channels.clone(), act);
        for (i, (f, s)) in fast.iter().zip(&slow).enumerate() {
            let co = i / p.win.out_plane() % p.c_out;
            if channels.contains(&co) {
                assert!(
                    (f - s).abs() <= 1e-5 * (1.0 + s.abs()),
                    "{p:?} at {i}: {f} vs {s}"
                );
            } else {
                assert!(
                    f.is_nan() && s.is_nan(),
                    "{p:?} wrote channel {co} outside {channels:?}"
                );
            }
        }
    }

    #[test]
    fn pointwise_agrees_with_reference() {
        let p = params(2, 6, 5, 1, (3, 7), (1, 1), (1, 1), (1, 1), [0; 4]);
        assert!(p.is_pointwise());
        agree(&p, 0..5, Act::None, true);
        agree(&p, 1..4, Act::Relu, false);
        let grouped = params(1, 6, 4, 2, (5, 5), (1, 1), (1, 1), (2, 2), [0; 4]);
        agree(
            &grouped,
            0..4,
            Act::Clip {
                low: 0.0,
                high: 0.5,
            },
            true,
        );
    }

    #[test]
    fn channel_blocks_and_remainders_agree_with_reference() {
        // 9 channels from 1: two blocks of 4 then one; two groups of 4 outputs each; rows of
        // 13 columns: interior blocks of 4, single interior columns and borders, for every
        // column geometry with its own copy (3/1/1, 3/2/1, 5/1/1) and a general one (2/3/2).
        for (kernel, stride, dil) in [
            ((3, 3), (1, 1), (1, 1)),
            ((3, 3), (2, 2), (1, 1)),
            ((5, 5), (1, 1), (1, 1)),
            ((3, 2), (1, 3), (1, 2)),
        ] {
            let p = params(1, 3, 10, 1, (7, 13), kernel, stride, dil, [1, 2, 2, 1]);
            agree(&p, 1..10, Act::Relu, true);
            let grouped = params(2, 4, 8, 2, (6, 13), kernel, stride, dil, [2, 1, 0, 2]);
            agree(&grouped, 0..8, Act::None, true);
            agree(&grouped, 3..8, Act::None, false);
        }
        // One input channel per group: a first layer, and depthwise with multiplier 2.
        let first_layer = params(1, 1, 6, 1, (9, 7), (4, 3), (2, 2), (1, 1), [2, 1, 1, 1]);
        agree(&first_layer, 0..6, Act::Relu, true);
        let multiplier = params(2, 3, 6, 3, (6, 9), (3, 2), (1, 3), (2, 2), [2, 3, 1, 0]);
        agree(&multiplier, 1..6, Act::None, true);
        // Pointwise: planes of 5 x 9 = 45 (11 blocks of 4 and one column), 9 channels.
        let p = params(1, 7, 9, 1, (5, 9), (1, 1), (1, 1), (1, 1), [0; 4]);
        assert!(p.is_pointwise());
        agree(&p, 0..9, Act::None, true);
        agree(&p, 2..7, Act::Relu, false);
    }

    #[test]
    fn depthwise_agrees_with_reference() {
        for (stride, pads) in [
            ((1, 1), [1; 4]),
            ((2, 2), [0, 0, 1, 1]),
            ((2, 1), [1, 0, 1, 2]),
        ] {
            let p = params(2, 4, 4, 4, (7, 6), (3, 3), stride, (1, 1), pads);
            assert!(!p.is_pointwise());
            agree(
                &p,
                0..4,
                Act::Clip {
                    low: 0.0,
                    high: 6.0,
                },
                true,
            );
        }
        // Channel multiplier 2 and a partial channel range.
        let p = params(1, 3, 6, 3, (5, 5), (3, 3), (1, 1), (1, 1), [1; 4]);
        agree(&p, 2..5, Act::Relu, false);
    }

    #[test]
    fn general_and_grouped_agree_with_reference() {
        let cases = [
            params(1, 3, 4, 1, (9, 8), (3, 3), (2, 2), (1, 1), [1; 4]),
            params(2, 4, 6, 2, (6, 7), (2, 3), (1, 2), (2, 1), [0, 1, 2, 0]),
            params(1, 2, 3, 1, (5, 5), (5, 5), (1, 1), (1, 1), [2; 4]),
            // Wide rows: several interior blocks plus a remainder, strided and dilated.
            params(1, 3, 4, 1, (6, 23), (3, 3), (2, 2), (1, 2), [1, 2, 1, 2]),
            params(2, 4, 4, 4, (5, 19), (3, 3), (1, 1), (1, 1), [1; 4]),
            params(1, 2, 3, 1, (4, 30), (2, 4), (1, 3), (1, 1), [0, 1, 1, 0]),
            // Kernel as large as the padded input: no interior at all.
            params(1, 2, 2, 1, (3, 4), (5, 6), (1, 1), (1, 1), [1; 4]),
            // 1-D convolution: H = 1.
            params(2, 3, 2, 1, (1, 11), (1, 4), (1, 3), (1, 2), [0, 3, 0, 1]),
            // 1x1 with stride or padding takes the windowed path; pads beyond the kernel give
            // outputs with no taps at all.
            params(1, 3, 2, 1, (5, 6), (1, 1), (2, 2), (1, 1), [2, 0, 0, 3]),
        ];
        for p in &cases {
            agree(p, 0..p.c_out, Act::None, true);
            agree(p, 1..p.c_out, Act::Sigmoid, false);
        }
    }

    /// Transposes the window of `params` (sizes of the forward conv) into a ConvTranspose
    /// whose output may be `extra` rows and columns larger (output_padding).
    fn transposed(c: &Conv, extra: (usize, usize)) -> ConvTranspose {
        let mut win = c.win;
        win.in_h += extra.0;
        win.in_w += extra.1;
        ConvTranspose {
            batch: c.batch,
            c_in: c.c_out,
            c_out: c.c_in,
            groups: c.groups,
            win,
        }
    }

    #[test]
    fn conv_transpose_agrees_with_reference() {
        let cases = [
            (
                params(1, 3, 4, 1, (9, 8), (3, 3), (2, 2), (1, 1), [1; 4]),
                (1, 0),
            ),
            (
                params(2, 4, 6, 2, (7, 7), (2, 3), (1, 2), (2, 1), [0, 1, 2, 0]),
                (0, 1),
            ),
            (
                params(1, 4, 4, 4, (6, 5), (3, 3), (2, 2), (1, 1), [1, 1, 0, 0]),
                (1, 1),
            ),
            (
                params(2, 3, 2, 1, (1, 11), (1, 4), (1, 3), (1, 2), [0, 3, 0, 1]),
                (0, 2),
            ),
        ];
        for (c, extra) in &cases {
            let p = transposed(c, *extra);
            let x = values(p.batch * p.c_in * p.win.out_plane(), 4);
            let w = values(p.c_in * p.c_out / p.groups * p.win.k_h * p.win.k_w, 5);
            let b = values(p.c_out, 6);
            let len = p.batch * p.c_out * p.win.in_plane();
            for (channels, bias, act) in [
                (0..p.c_out, Some(&b[..]), Act::None),
                (1..p.c_out, None, Act::Relu),
            ] {
                let (mut fast, mut slow) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                conv_transpose(&p, &x, &w, bias, &mut fast, channels.clone(), act);
                conv_transpose_reference(&p, &x, &w, bias, &mut slow, channels.clone(), act);
                for (i, (f, s)) in fast.iter().zip(&slow).enumerate() {
                    let co = i / p.win.in_plane() % p.c_out;
                    if channels.contains(&co) {
                        assert!(
                            (f - s).abs() <= 1e-5 * (1.0 + s.abs()),
                            "{p:?} at {i}: {f} vs {s}"
                        );
                    } else {
                        assert!(f.is_nan() && s.is_nan(), "{p:?} wrote channel {co}");
                    }
                }
            }
        }
    }
}
