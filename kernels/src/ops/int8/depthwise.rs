//! int8 depthwise convolution (`groups == c_in`, any channel multiplier), NCHW, OIHW weights
//! `[c_out, 1, k_h, k_w]`. Each input plane is first copied into `padded`, whose padding holds the
//! input zero point (filled once per call: the interior copies never touch it), and the zero
//! point is folded into the bias at build time (`bias - zx * sum(w)`), so every output sees whole
//! kernel rows and padding adds nothing (TFLM's DepthwiseConvPerChannel skips padding taps; the
//! sums are equal).
//!
//! 3x3 kernels (dilation 1, stride 1 or 2) compute two outputs at a time with all nine taps in
//! registers: per kernel row, `sxtb16` splits a word of inputs into taps (0, 2) and (1, 3), one
//! `smlad` takes the outer weights and a 16x16 multiply-add the middle one. Other kernels add
//! kernel row by kernel row into a row of accumulators.

use super::conv::Conv;
use super::dsp::{depthwise3_channel, depthwise3_rows, smlad, smlad_ordered, sxtb16, sxtb16_odd};
use super::ChannelRequant;
use crate::ops::window::Window;

/// The padded plane's layout: rows `pitch` bytes apart (a multiple of 4) starting `origin`
/// bytes in, so that every row's interior starts on a word (the row copies run on words).
const fn layout(p: &Conv) -> (usize, usize) {
    let w = &p.win;
    let pitch = (w.pad_left + w.in_w + w.pad_right).next_multiple_of(4);
    (pitch, w.pad_left.next_multiple_of(4) - w.pad_left)
}

/// Words of scratch: the padded plane (plus 4 bytes of slack for word reads) and a block of
/// accumulators.
pub const fn scratch_words(p: &Conv) -> usize {
    let w = &p.win;
    let (pitch, origin) = layout(p);
    let plane = origin + (w.in_h + w.pad_top + w.pad_bottom) * pitch;
    let acc = if w.out_w > BLOCK_POSITIONS {
        w.out_w
    } else {
        BLOCK_POSITIONS
    };
    plane.div_ceil(4) + 1 + acc
}

/// Accumulators of one block of output rows (at least one row): small planes pay the
/// per-block set-up once or twice per channel.
pub const BLOCK_POSITIONS: usize = 128;

/// All output channels: `bias` the folded bias and `rq` the requantization per output channel,
/// `scratch` at least [`scratch_words`] words. Each block of output rows is accumulated, then
/// requantized.
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
    let (pitch, origin) = layout(p);
    let plane_bytes = origin + pitch * (win.in_h + win.pad_top + win.pad_bottom);
    let (padded, acc_all) = scratch[..scratch_words(p)].split_at_mut(plane_bytes.div_ceil(4) + 1);
    let padded: &mut [u8] = bytemuck::cast_slice_mut(padded);
    padded.fill((-p.input_offset) as u8);
    let kind = match (is_3x3(win), win.stride_h, win.stride_w) {
        (true, 1, 1) => Kind::Stride1,
        (true, 2, 2) => Kind::Stride2,
        _ => Kind::Any,
    };
    let block_rows = (BLOCK_POSITIONS / win.out_w).clamp(1, win.out_h);
    let interior = origin + win.pad_top * pitch + win.pad_left;
    for n in 0..p.batch {
        for co in 0..p.c_out {
            if co % multiplier == 0 {
                let plane = n * p.c_in + co / multiplier;
                let xs: &[u8] = bytemuck::cast_slice(&x[plane * in_plane..][..in_plane]);
                copy_rows(xs, (win.in_h, win.in_w), &mut padded[interior..], pitch);
            }
            let ws = &w[co * taps..][..taps];
            let ys = &mut y[(n * p.c_out + co) * out_plane..][..out_plane];
            let (b, r) = (bias[co], &rq[co]);
            let k = Kernel3::new(ws);
            let shape = (win.out_h, win.out_w);
            if k.channel(kind, &padded[origin..], pitch, b, r, ys, shape) {
                continue;
            }
            for first in (0..win.out_h).step_by(block_rows) {
                let rows = block_rows.min(win.out_h - first);
                let xs = &padded[origin + first * win.stride_h * pitch..];
                match kind {
                    Kind::Stride1 => k.strided::<1>(xs, pitch, b, acc_all, (rows, win.out_w)),
                    Kind::Stride2 => k.strided::<2>(xs, pitch, b, acc_all, (rows, win.out_w)),
                    Kind::Any => {}
                }
                let acc = &mut acc_all[..rows * win.out_w];
                match kind {
                    Kind::Stride1 | Kind::Stride2 => {}
                    Kind::Any => {
                        acc.fill(b);
                        for (oh, acc_row) in acc.chunks_exact_mut(win.out_w).enumerate() {
                            for (kh, wrow) in ws.chunks_exact(win.k_w).enumerate() {
                                let top = oh * win.stride_h + kh * win.dil_h;
                                row_any(p, &xs[top * pitch..], wrow, acc_row);
                            }
                        }
                    }
                }
                requantize(r, acc, &mut ys[first * win.out_w..][..acc.len()]);
            }
        }
    }
}

fn is_3x3(w: &Window) -> bool {
    w.k_h == 3 && w.k_w == 3 && w.dil_h == 1 && w.dil_w == 1
}

#[derive(Clone, Copy)]
enum Kind {
    Stride1,
    Stride2,
    Any,
}

/// The `rows` rows of a plane `width` wide into rows `pitch` apart: whole pitches where `dst`
/// holds them (every padded plane with a bottom pad row or no left pad), else the last row may
/// end closer than `pitch` to the end of `dst`.
#[inline(never)]
fn copy_rows(src: &[u8], (rows, width): (usize, usize), dst: &mut [u8], pitch: usize) {
    // `src` holds the `rows` rows exactly (a `take` here cost KWS 3 % in its depthwise layers).
    let src = src.chunks_exact(width);
    if dst.len() >= rows * pitch {
        for (s, d) in src.zip(dst.chunks_exact_mut(pitch)) {
            copy_row(s, d);
        }
    } else {
        for (s, d) in src.zip(dst.chunks_mut(pitch)) {
            d[..width].copy_from_slice(s);
        }
    }
}

/// The first `s.len()` bytes of `d` from `s`. Short rows as two overlapping word or
/// double-word copies, or 3 byte copies: a `memcpy` call costs more than their bytes.
#[inline(always)]
fn copy_row(s: &[u8], d: &mut [u8]) {
    let width = s.len();
    let d = &mut d[..width];
    match width {
        1..4 => {
            for at in [0, width / 2, width - 1] {
                d[at] = s[at];
            }
        }
        4..8 => {
            d[..4].copy_from_slice(&s[..4]);
            d[width - 4..].copy_from_slice(&s[width - 4..]);
        }
        8..16 => {
            d[..8].copy_from_slice(&s[..8]);
            d[width - 8..].copy_from_slice(&s[width - 8..]);
        }
        _ => d.copy_from_slice(s),
    }
}

/// `y[k] = r(acc[k])`: two at a time with SSAT (`saturate_pair`) where the channel saturates,
/// else the single-multiply form or the general one (not inlined: the loop gets the registers
/// to itself).
#[inline(never)]
fn requantize(r: &ChannelRequant, acc: &[i32], y: &mut [i8]) {
    if r.saturates::<false>() {
        return saturate_pairs::<false>(r, acc, y);
    }
    if r.saturates::<true>() {
        return saturate_pairs::<true>(r, acc, y);
    }
    match r.rounding() {
        Some(f) => {
            for (yv, &a) in y.iter_mut().zip(acc) {
                *yv = f.apply(a);
            }
        }
        None => {
            for (yv, &a) in y.iter_mut().zip(acc) {
                *yv = r.apply(a);
            }
        }
    }
}

/// `requantize` by pairs (an odd last accumulator paired with itself).
#[inline(always)]
fn saturate_pairs<const LATE: bool>(r: &ChannelRequant, acc: &[i32], y: &mut [i8]) {
    let (ys, y_last) = y.as_chunks_mut::<2>();
    let (accs, acc_last) = acc.as_chunks::<2>();
    for (yv, &a) in ys.iter_mut().zip(accs) {
        *yv = r.saturate_pair::<LATE>(a);
    }
    if let ([yv], [a]) = (y_last, acc_last) {
        *yv = r.saturate_pair::<LATE>([*a, *a])[0];
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

/// A 3x3 kernel: per row the 16-bit pair of the outer weights (0, 2); the middle weights of rows
/// 0 and 1 as a pair and that of row 2 (five registers in the loops).
struct Kernel3 {
    outer: [u32; 3],
    middle01: u32,
    middle2: u32,
}

impl Kernel3 {
    #[inline(always)]
    fn new(w: &[i8]) -> Self {
        let pair = |a: i8, b: i8| u32::from(a as i16 as u16) | u32::from(b as i16 as u16) << 16;
        let at = |k: usize| w.get(k).copied().unwrap_or(0);
        Kernel3 {
            outer: [pair(at(0), at(2)), pair(at(3), at(5)), pair(at(6), at(8))],
            middle01: pair(at(1), at(4)),
            middle2: pair(at(7), 0),
        }
    }

    /// `acc` plus the middle weight of row `k` times `x`.
    #[inline(always)]
    fn middle(&self, k: usize, x: i32, acc: i32) -> i32 {
        let m = match k {
            0 => low(self.middle01),
            1 => high(self.middle01),
            _ => low(self.middle2),
        };
        acc + x * m
    }

    /// A whole channel of a 3x3 `kind` whose requantization saturates, `shape.0` output rows of
    /// `shape.1` from input rows `pitch` apart, requantized into `y` by one
    /// `dsp::depthwise3_channel` block; false (nothing done) where that does not run.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn channel(
        &self,
        kind: Kind,
        xs: &[u8],
        pitch: usize,
        bias: i32,
        r: &ChannelRequant,
        y: &mut [i8],
        shape: (usize, usize),
    ) -> bool {
        let (w, middle) = (self.outer, [self.middle01, self.middle2]);
        let late = match (r.saturates::<false>(), r.saturates::<true>()) {
            (true, _) => false,
            (false, true) => true,
            (false, false) => return false,
        };
        match (kind, late) {
            (Kind::Stride1, false) => {
                depthwise3_channel::<1, false>(xs, pitch, w, middle, bias, r, y, shape)
            }
            (Kind::Stride1, true) => {
                depthwise3_channel::<1, true>(xs, pitch, w, middle, bias, r, y, shape)
            }
            (Kind::Stride2, false) => {
                depthwise3_channel::<2, false>(xs, pitch, w, middle, bias, r, y, shape)
            }
            (Kind::Stride2, true) => {
                depthwise3_channel::<2, true>(xs, pitch, w, middle, bias, r, y, shape)
            }
            (Kind::Any, _) => false,
        }
    }

    /// Stride `S` (1 or 2), `shape.0` output rows of `shape.1` from input rows `pitch` apart, into
    /// the start of `acc` (one more accumulator may be written after them).
    #[inline(never)]
    fn strided<const S: usize>(
        &self,
        xs: &[u8],
        pitch: usize,
        bias: i32,
        acc: &mut [i32],
        shape: (usize, usize),
    ) {
        let middle = [self.middle01, self.middle2];
        if depthwise3_rows::<S>(xs, pitch, self.outer, middle, bias, acc, shape) {
            return;
        }
        let (rows, width) = shape;
        for (r, a) in acc[..rows * width].chunks_exact_mut(width).enumerate() {
            let xs = &xs[S * r * pitch..];
            if S == 1 {
                self.row1(xs, pitch, bias, a);
            } else {
                self.row2(xs, pitch, bias, a);
            }
        }
    }

    /// Stride 1: outputs 4k..4k + 4 from the words of inputs 4k..4k + 4 and 4k + 2..4k + 6 of
    /// each kernel row (each word gives two outputs); the last 1-3 outputs likewise, their reads
    /// staying within the next row or the plane's slack.
    #[inline(always)]
    fn row1(&self, xs: &[u8], pitch: usize, bias: i32, acc: &mut [i32]) {
        let need = 4 * acc.len().div_ceil(4) + 2;
        let rows = [&xs[..need], &xs[pitch..][..need], &xs[2 * pitch..][..need]];
        let (quads, rest) = acc.as_chunks_mut::<4>();
        let ((a0s, b0s), (a1s, b1s), (a2s, b2s)) = (
            word_pairs(rows[0]),
            word_pairs(rows[1]),
            word_pairs(rows[2]),
        );
        let mut words = a0s
            .iter()
            .zip(b0s)
            .zip(a1s.iter().zip(b1s))
            .zip(a2s.iter().zip(b2s));
        for (a, (((w0, v0), (w1, v1)), (w2, v2))) in quads.iter_mut().zip(&mut words) {
            // Each pair stored as soon as it is done: two accumulators live at a time.
            let (first, second) = a.split_at_mut(2);
            first.copy_from_slice(&self.two(bias, [w0, w1, w2]));
            second.copy_from_slice(&self.two(bias, [v0, v1, v2]));
        }
        if let (false, Some((((w0, v0), (w1, v1)), (w2, v2)))) = (rest.is_empty(), words.next()) {
            let (front, back) = rest.split_at_mut(rest.len().min(2));
            let two = self.two(bias, [w0, w1, w2]);
            for (a, v) in front.iter_mut().zip(two) {
                *a = v;
            }
            if let [a] = back {
                *a = self.two(bias, [v0, v1, v2])[0];
            }
        }
    }

    /// Two stride-1 outputs from the word of inputs 0..4 of each kernel row.
    #[inline(always)]
    fn two(&self, bias: i32, words: [&[u8; 4]; 3]) -> [i32; 2] {
        let [mut o0, mut o1] = [bias; 2];
        for (k, &w) in words.into_iter().enumerate() {
            let word = u32::from_le_bytes(w);
            let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
            o0 = self.middle(k, low(odd), smlad_ordered(even, self.outer[k], o0));
            o1 = self.middle(k, high(even), smlad_ordered(odd, self.outer[k], o1));
        }
        [o0, o1]
    }

    /// Stride 2: outputs 2k, 2k + 1 of each kernel row from the words of inputs 4k..4k + 4 and
    /// 4k + 2..4k + 6.
    #[inline(always)]
    fn row2(&self, xs: &[u8], row: usize, bias: i32, acc: &mut [i32]) {
        let (pairs, last) = acc.as_chunks_mut::<2>();
        let n = pairs.len();
        let rows = [
            &xs[..4 * n + 4],
            &xs[row..][..4 * n + 4],
            &xs[2 * row..][..4 * n + 4],
        ];
        let ((a0s, b0s), (a1s, b1s), (a2s, b2s)) = (
            word_pairs(rows[0]),
            word_pairs(rows[1]),
            word_pairs(rows[2]),
        );
        let spans = a0s
            .iter()
            .zip(b0s)
            .zip(a1s.iter().zip(b1s))
            .zip(a2s.iter().zip(b2s));
        for (a, (((w0, n0), (w1, n1)), (w2, n2))) in pairs.iter_mut().zip(spans) {
            let (mut a0, mut a1) = (bias, bias);
            for (k, (&w, &next)) in [(w0, n0), (w1, n1), (w2, n2)].into_iter().enumerate() {
                let (word, next) = (u32::from_le_bytes(w), u32::from_le_bytes(next));
                let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
                a0 = self.middle(k, low(odd), smlad_ordered(even, self.outer[k], a0));
                a1 = self.middle(k, high(odd), smlad_ordered(sxtb16(next), self.outer[k], a1));
            }
            *a = [a0, a1];
        }
        if let [a] = last {
            *a = self.one(&rows.map(|r| &r[4 * n..]), bias);
        }
    }

    /// One output from the first 3 inputs of each row (4 readable).
    #[inline(always)]
    fn one(&self, rows: &[&[u8]; 3], bias: i32) -> i32 {
        let mut a = bias;
        for (k, r) in rows.iter().enumerate() {
            let word = u32::from_le_bytes([r[0], r[1], r[2], r[3]]);
            a = self.middle(
                k,
                low(sxtb16_odd(word)),
                smlad(sxtb16(word), self.outer[k], a),
            );
        }
        a
    }
}

/// The words of `x` every 4 bytes, from its start and from byte 2.
#[inline(always)]
fn word_pairs(x: &[u8]) -> (&[[u8; 4]], &[[u8; 4]]) {
    (x.as_chunks::<4>().0, x[2..].as_chunks::<4>().0)
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

    /// Every width class of row copy, into whole pitches and with the last row ending closer
    /// than `pitch` to the end.
    #[test]
    fn rows_copy_into_their_pitch() {
        let widths = [1_usize, 2, 3, 4, 5, 8, 11, 16, 17];
        for (width, short) in widths.into_iter().flat_map(|w| [(w, true), (w, false)]) {
            let (rows, pitch) = (3, width.next_multiple_of(4) + 4);
            let src: [u8; 51] = core::array::from_fn(|k| k as u8 + 1);
            let mut dst = [0_u8; 3 * 24];
            let dst = &mut dst[..2 * pitch + if short { width } else { pitch }];
            copy_rows(&src[..rows * width], (rows, width), dst, pitch);
            for (k, &v) in dst.iter().enumerate() {
                let (r, c) = (k / pitch, k % pitch);
                let want = if c < width {
                    (r * width + c) as u8 + 1
                } else {
                    0
                };
                assert_eq!(v, want, "width {width} byte {k}");
            }
        }
    }

    /// Equals the grouped kernel (unfolded bias, padding skipped) on many geometries.
    #[test]
    fn matches_the_grouped_kernel() {
        let mut seed = 11_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        // (in_h, in_w, k_h, k_w, stride, dilation, (pad before, pad after), multiplier)
        for (case, &(in_h, in_w, k_h, k_w, stride, dil, (pad, pad_end), mult)) in [
            (7, 9, 3, 3, 1, 1, (1, 1), 1),
            (8, 8, 3, 3, 2, 1, (1, 1), 1),
            (8, 8, 3, 3, 2, 1, (0, 1), 1),
            (9, 7, 3, 3, 2, 1, (0, 0), 2),
            (10, 10, 3, 3, 2, 1, (0, 1), 8),
            (3, 3, 3, 3, 1, 1, (1, 1), 1),
            (6, 6, 3, 3, 2, 1, (0, 1), 1),
            (25, 5, 3, 3, 1, 1, (1, 1), 1),
            (2, 2, 3, 3, 2, 1, (0, 1), 1),
            (6, 10, 3, 3, 1, 2, (2, 2), 1),
            (10, 9, 5, 5, 1, 1, (2, 2), 1),
            (5, 6, 1, 3, 1, 1, (0, 0), 3),
            (11, 8, 3, 3, 1, 1, (0, 0), 1),
        ]
        .iter()
        .enumerate()
        {
            let out = |d: usize, k: usize| (d + pad + pad_end - (k - 1) * dil - 1) / stride + 1;
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
                pad_bottom: pad_end,
                pad_right: pad_end,
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
                channels_last: false,
            };
            let taps = k_h * k_w;
            let x: [i8; 2 * 2 * 130] = core::array::from_fn(|_| next());
            let w: [i8; 16 * 25] = core::array::from_fn(|_| next());
            let (x, w) = (&x[..2 * c_in * in_h * in_w], &w[..c_out * taps]);
            let bias: [i32; 16] = core::array::from_fn(|c| c as i32 * 70 - 200);
            let folded: [i32; 16] = core::array::from_fn(|c| {
                let sum: i32 = w[(c % c_out) * taps..][..taps]
                    .iter()
                    .map(|&v| i32::from(v))
                    .sum();
                bias[c] + p.input_offset * sum
            });
            // Shifts of the single-multiply form (-1..=-23) and of the general one (0, -24);
            // full-range and narrower clamps alternate between geometries.
            let multiplier: [i32; 16] =
                core::array::from_fn(|c| [1 << 30, 1_300_000_000, i32::MAX][c % 3]);
            let shift: [i32; 16] = core::array::from_fn(|c| [-5, -6, -1, -9, 0, -24, -7][c % 7]);
            let (act_min, act_max) = [(-128, 127), (-128, 100), (-20, 127)][case % 3];
            let rq = Requant {
                multiplier: &multiplier[..c_out],
                shift: &shift[..c_out],
                output_offset: 9,
                act_min,
                act_max,
            };
            let per_channel: [ChannelRequant; 16] = core::array::from_fn(|c| rq.channel(c % c_out));
            let len = 2 * c_out * win.out_plane();
            let (mut got, mut want) = ([0_i8; 2 * 16 * 130], [0_i8; 2 * 16 * 130]);
            let mut scratch = [0_i32; 80 + BLOCK_POSITIONS];
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
