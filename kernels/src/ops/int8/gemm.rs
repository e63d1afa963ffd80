//! int8 convolution with one group (1x1 included) and fully connected as products of weight
//! rows with packed input columns: two output channels by `P` pixels (or batch rows) per pass,
//! two products per `smlad` (`dsp`: SMLAD on Arm cores with DSP, portable Rust elsewhere, same
//! results).
//!
//! The input zero point is folded into the bias at build time (`sum((x - zx) * w) = sum(x * w) -
//! zx * sum(w)`); padding taps are packed as `zx`, so they add nothing, as in TFLM. A column holds
//! the `depth` inputs (`c_in * k_h * k_w`, the weight order: by input channel, then kernel
//! position, or with `channels_last` set at build time the other way round) of one output
//! pixel; each group of 4
//! taps becomes two words of sign-extended 16-bit pairs, taps (0, 2) ("even") and (1, 3) ("odd"),
//! as `sxtb16`/`sxtb16_odd` split a word. Per group two columns are `[even col0, even col1, odd
//! col0, odd col1]` (read as two 64-bit words), one column `[even, odd]`. The weights are packed
//! at build time (`ariel_build/ops/quantized/packing.py`), zero-padded to whole pairs and groups,
//! per channel pair and group of 4 taps either compact, the two channels' 4 int8 as one u64 split
//! the same way at run time, or wide, each channel's even and odd 16-bit pairs as one u64 (twice
//! the flash, no split: `dsp::dot_wide_2x2`).

use core::ops::Range;

use super::conv::Conv;
use super::dsp::{
    dot_wide_2x2, dot_wide_pairs, dot_wide_pairs_store, extend_quads, gather_taps3,
    interleave_columns, pack_groups_at, pack_pointwise_groups, pack_taps, smlad, smlad_ordered,
    sxtb16, sxtb16_odd, WideStore,
};
use super::ChannelRequant;
use crate::ops::window::Window;
use crate::sync::{Consecutive, RowStore, Rows};

/// Weights packed at build time in channel pairs (module doc): per pair and group of 4 taps one
/// word (`Compact`) or two (`Wide`).
#[derive(Clone, Copy, Debug)]
pub enum Weights<'a> {
    Compact(&'a [u64]),
    Wide(&'a [u64]),
}

/// The convolution entries (`conv` below): the same function per column source and output kind.
macro_rules! conv_entries {
    ($(
        $(#[$attr:meta])*
        $name:ident: $source:ident, $y:ty => |$v:ident, $len:ident| $store:expr;
    )*) => {$(
        $(#[$attr])*
        #[allow(clippy::too_many_arguments)]
        #[inline(never)]
        pub fn $name(
            p: &Conv,
            x: &[i8],
            w: Weights,
            bias: &[i32],
            rq: &[ChannelRequant],
            y: $y,
            pixels: Range<usize>,
            pack: &mut [u64],
        ) {
            let ($v, $len) = (y, pixels.len());
            conv_into::<$source>(p, x, w, bias, rq, $store, pixels, pack);
        }
    )*};
}

conv_entries! {
    /// Convolution with `groups == 1`: `w` the packed weights, `bias` the folded bias and `rq` the
    /// requantization (one each per output channel), `pack` the scratch (`scratch_bytes` in
    /// `ariel_build/ops/quantized/conv.py`): for channel-last columns other than pointwise
    /// `ring_words`, then 2 words per group of 4 taps, else 3; with wide weights then accumulators.
    /// Computes the output pixels `pixels` of every plane into `y`, one row per batch and output
    /// channel: pixels are packed two at a time from `pixels.start`, so a range packs only its own
    /// columns (a multicore part, `ariel_build/schedule/split.py`).
    ///
    /// One function per output kind (`y` consecutive rows of a slice, one core; `_rows`: `Rows` of
    /// the shared arena, a multicore part) and column source (`conv_ring`: channel-last columns
    /// other than pointwise, `ring_words`; `conv_planes`: the same without a ring), each compiled
    /// in this crate; the generated code calls the one its layer needs, so the linker drops the
    /// others (KWS: 5 of 6, ~35 KB of flash).
    conv: GATHERED, &mut [i8] => |y, len| Consecutive { y, len };
    /// `conv` over a ring of input rows.
    conv_ring: RING, &mut [i8] => |y, len| Consecutive { y, len };
    /// `conv` of a channel-last layer without a ring: columns from the input planes.
    conv_planes: PLANES, &mut [i8] => |y, len| Consecutive { y, len };
    /// `conv` into `Rows`.
    conv_rows: GATHERED, Rows => |y, _len| y;
    /// `conv_ring` into `Rows`.
    conv_ring_rows: RING, Rows => |y, _len| y;
    /// `conv_planes` into `Rows`.
    conv_planes_rows: PLANES, Rows => |y, _len| y;
}

/// `conv_into`'s column sources: gathered in weight order (or 1x1 packed), a ring of input rows,
/// or channel-last groups packed from the input planes.
const GATHERED: u8 = 0;
const RING: u8 = 1;
const PLANES: u8 = 2;

/// 1x1, stride 1, no leading padding: a pixel's column is its input position's channels.
fn packs_pointwise(win: &Window) -> bool {
    win.k_h == 1
        && win.k_w == 1
        && win.stride_h == 1
        && win.stride_w == 1
        && win.pad_top + win.pad_left == 0
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn conv_into<const SOURCE: u8>(
    p: &Conv,
    x: &[i8],
    w: Weights,
    bias: &[i32],
    rq: &[ChannelRequant],
    mut y: impl RowStore,
    pixels: Range<usize>,
    pack: &mut [u64],
) {
    let win = &p.win;
    let depth = p.c_in * win.k_h * win.k_w;
    let in_size = p.c_in * win.in_plane();
    let groups = depth.div_ceil(4);
    let (ring, pack) = pack.split_at_mut(if SOURCE == RING { ring_words(p) } else { 0 });
    let (pack, acc) = pack.split_at_mut(if SOURCE == RING { 2 } else { 3 } * groups);
    let (pack, raw) = pack.split_at_mut(2 * groups);
    let end = pixels.end.min(win.out_plane());
    let mut columns = PairColumns {
        p,
        pointwise: packs_pointwise(win),
        ring: Ring::new(p, ring),
        pack,
        raw: bytemuck::cast_slice_mut(raw),
        end,
    };
    let saturate = Saturate::of(rq);
    // Wide weights whose channels all saturate and pair up: one store block per pixel pair into
    // rows bounds-checked once per plane.
    let late = match saturate {
        Saturate::Folded => Some(false),
        Saturate::Late => Some(true),
        Saturate::No => None,
    };
    let fused = match (w, late) {
        (Weights::Wide(w), Some(late)) if FUSED_WIDE && p.c_out.is_multiple_of(2) => {
            Some((WideStore::new(groups, w.as_chunks::<2>().0, bias, rq), late))
        }
        _ => None,
    };
    for n in 0..p.batch {
        let xs: &[u8] = bytemuck::cast_slice(&x[n * in_size..][..in_size]);
        columns.ring.filled = 0;
        if let Some((layer, late)) = &fused {
            // The pairs, then an odd last pixel alone.
            let pairs_end = end - end.saturating_sub(pixels.start) % 2;
            if pairs_end > pixels.start {
                let mut out = y.columns::<2>(n * p.c_out, 0, p.c_out);
                for px in (pixels.start..pairs_end).step_by(2) {
                    let cols = columns.pack::<SOURCE>(xs, px).as_chunks::<2>().0;
                    if *late {
                        dot_wide_pairs_store::<true, 2>(layer, cols, &mut out);
                    } else {
                        dot_wide_pairs_store::<false, 2>(layer, cols, &mut out);
                    }
                    if px + 2 < pairs_end && !out.advance(2) {
                        break;
                    }
                }
            }
            if pairs_end < end {
                let cols = columns.pack::<SOURCE>(xs, pairs_end).as_chunks::<2>().0;
                let mut out = y.columns::<1>(n * p.c_out, pairs_end - pixels.start, p.c_out);
                if *late {
                    dot_wide_pairs_store::<true, 1>(layer, cols, &mut out);
                } else {
                    dot_wide_pairs_store::<false, 1>(layer, cols, &mut out);
                }
            }
            continue;
        }
        for px in (pixels.start..end).step_by(2) {
            let cols: &[u64] = columns.pack::<SOURCE>(xs, px);
            let (count, at) = ((end - px).min(2), px - pixels.start);
            let out = (&mut y, (n * p.c_out, at), count);
            products(p, cols, w, bias, rq, saturate, acc, out);
        }
    }
}

/// Every output channel of a pixel pair (`count` pixels: 1 or 2) from its packed columns into
/// `y` at `row` (channel `c` at row `row.0 + c`, elements from `row.1`; `acc` the scratch after
/// the columns, accumulators with wide weights): the paths other than `conv_into`'s fused store
/// loop.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn products(
    p: &Conv,
    cols: &[u64],
    w: Weights,
    bias: &[i32],
    rq: &[ChannelRequant],
    saturate: Saturate,
    acc: &mut [u64],
    (y, row, count): (&mut impl RowStore, (usize, usize), usize),
) {
    let groups = cols.len() / 2;
    let store = |co: usize, k: usize, v| {
        if k < count {
            y.set(row.0 + co, row.1 + k, v);
        }
    };
    match w {
        Weights::Compact(w) => {
            let dot = |ws: &[u64], bias| dot_2x2(cols, ws, bias);
            channel_pairs(w, groups, bias, rq, p.c_out, dot, store);
        }
        Weights::Wide(w) if FUSED_WIDE => {
            let pairs = p.c_out.div_ceil(2).min(WIDE_PAIRS_PER_CALL);
            let acc = bytemuck::cast_slice_mut(&mut acc[..2 * pairs]);
            let (cols, w) = (cols.as_chunks::<2>().0, w.as_chunks::<2>().0);
            // One loop per pixel count, so that storing a channel's pair tests nothing.
            if count == 2 {
                wide_channels::<2>(cols, w, bias, rq, acc, saturate, y, row);
            } else {
                wide_channels::<1>(cols, w, bias, rq, acc, saturate, y, row);
            }
        }
        Weights::Wide(w) => {
            let cols = cols.as_chunks::<2>().0;
            let dot = |ws: &[u64], bias| dot_wide_2x2(cols, ws.as_chunks::<2>().0, [bias; 2]);
            channel_pairs(w, 2 * groups, bias, rq, p.c_out, dot, store);
        }
    }
}

/// The column buffers of `conv_into`: a pixel pair's two packed columns (`pack`), from a ring of
/// input rows, the input planes or gathered taps (`raw`), by the entry's column source.
struct PairColumns<'a> {
    p: &'a Conv,
    /// `packs_pointwise(&p.win)`.
    pointwise: bool,
    ring: Ring<'a>,
    pack: &'a mut [u64],
    raw: &'a mut [u32],
    /// The pixels end here.
    end: usize,
}

impl PairColumns<'_> {
    /// The columns of pixels `px` and `px + 1` of input `xs` (a last single pixel packs its
    /// neighbour, or itself, too; the one-column kernels leave that unused). Inlined where SMLAD
    /// runs; out of line elsewhere, where LLVM then keeps the product loops' registers apart
    /// from it (qemu-an524: 2 % fewer instructions).
    #[cfg_attr(all(target_arch = "arm", target_feature = "dsp"), inline(always))]
    #[cfg_attr(not(all(target_arch = "arm", target_feature = "dsp")), inline(never))]
    fn pack<const SOURCE: u8>(&mut self, xs: &[u8], px: usize) -> &[u64] {
        let (p, end, pack) = (self.p, self.end, &mut *self.pack);
        let (win, groups) = (&p.win, pack.len() / 2);
        let pair = || [px, (px + 1).min(end - 1)];
        if SOURCE == RING {
            let (ring, cols, pair) = (&mut self.ring, pack.as_chunks_mut::<2>().0, pair());
            if pair[1] / win.out_w == px / win.out_w {
                ring.cover(p, xs, pair);
                ring.columns::<false>(p, pair, cols);
            } else {
                // The ring holds one output row's windows: the pixel starting the next output
                // row is copied after its rows.
                ring.cover(p, xs, [px; 2]);
                ring.columns::<false>(p, [px; 2], cols);
                ring.cover(p, xs, [pair[1]; 2]);
                ring.columns::<true>(p, pair, cols);
            }
        } else if SOURCE == PLANES {
            let cols = bytemuck::cast_slice_mut::<u64, u32>(pack)
                .as_chunks_mut::<4>()
                .0;
            gather_channels_last(p, xs, pair(), cols);
        } else if self.pointwise {
            // The next pixel or plane for a last single pixel.
            let cols = bytemuck::cast_slice_mut::<u64, u32>(pack)
                .as_chunks_mut::<4>()
                .0;
            if pack_pointwise_groups(xs, win.out_plane(), px, p.c_in, cols) < groups {
                pack_pointwise_pair(xs, p.c_in, win.out_plane(), px, cols);
            }
        } else if px + 1 < end && px % win.out_w + 1 < win.out_w {
            if !gather_inside_3x3(p, xs, px, pack) {
                let taps: &mut [u16] = bytemuck::cast_slice_mut(self.raw);
                // Constant-width copies for the first layers' 3x3 windows (VWW, person
                // detection, ResNet-8); every monomorphization costs ~1.3 KB in every model.
                match (win.k_w, win.stride_w) {
                    (3, 1) => gather_pair::<3, 1>(p, xs, px, taps),
                    (3, 2) => gather_pair::<3, 2>(p, xs, px, taps),
                    _ => gather_pair::<0, 0>(p, xs, px, taps),
                }
                split_pairs(self.raw, pack);
            }
        } else {
            // An odd last pixel (or one ending its output row) is packed twice or with the next
            // row's first; a second result past `end` is dropped.
            let (first, second) = self.raw.split_at_mut(groups);
            for (q, raw) in [(px, first), (pair()[1], second)] {
                let raw = bytemuck::cast_slice_mut(raw);
                match win.k_w {
                    3 => gather_column::<3>(p, xs, q, raw),
                    4 => gather_column::<4>(p, xs, q, raw),
                    _ => gather_column::<0>(p, xs, q, raw),
                }
            }
            split_columns(self.raw, pack);
        }
        self.pack
    }
}

/// Kernel rows whose ring starts `Ring::columns` lists at once (taller kernels take the general
/// path).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
const MAX_RING_ROWS: usize = 8;

/// The weights' taps run by kernel position, then input channel, when the build chose so for input
/// channels a multiple of 4 (`ariel_build/ops/quantized/packing.py` `product_rows`; the same order
/// as by channel for 1x1 kernels): a group of 4 taps is then 4 channels at one input position.
fn channels_last(p: &Conv) -> bool {
    p.channels_last && p.c_in > 0 && p.c_in.is_multiple_of(4)
}

/// Words of `Ring`'s rows: the padded input rows one output row's windows cover (`ring_bytes`
/// in `ariel_build/ops/quantized/conv.py`), each position's `c_in / 4` groups.
fn ring_words(p: &Conv) -> usize {
    let win = &p.win;
    let padded_h = win.in_h + win.pad_top + win.pad_bottom;
    let rows = ((win.k_h - 1) * win.dil_h + 1).min(padded_h);
    rows * (win.in_w + win.pad_left + win.pad_right) * (p.c_in / 4)
}

/// Padded input rows with each position's 4-channel groups sign-extended once (`even | odd <<
/// 32`, as `pack_row`), padded row `r` at slot `r % rows`: the columns of channel-last
/// convolutions are copied from here, one word per group and pixel.
struct Ring<'a> {
    words: &'a mut [u64],
    /// Rows held and words per row.
    rows: usize,
    pitch: usize,
    /// The padded rows up to here were extended (the rows needed only grow with the pixels).
    filled: usize,
    /// Per kernel row, where the ring row of output row `bases_for`'s windows starts (only
    /// where `dsp::interleave_runs` runs: the fields made qemu-an524's loop 3 % slower).
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    bases: [usize; MAX_RING_ROWS],
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    bases_for: usize,
}

impl<'a> Ring<'a> {
    fn new(p: &Conv, words: &'a mut [u64]) -> Self {
        let win = &p.win;
        let pitch = (win.in_w + win.pad_left + win.pad_right) * (p.c_in / 4);
        let rows = words.len() / pitch.max(1);
        Ring {
            words,
            rows,
            pitch,
            filled: 0,
            #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
            bases: [0; MAX_RING_ROWS],
            #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
            bases_for: usize::MAX,
        }
    }

    /// Extends the padded rows the windows of output pixels `pair` cover that are not held yet.
    /// Out of line, as `columns`: inlined they cost the pixel loop registers.
    #[inline(never)]
    fn cover(&mut self, p: &Conv, xs: &[u8], pair: [usize; 2]) {
        let win = &p.win;
        let top = pair[0] / win.out_w * win.stride_h;
        let end = pair[1] / win.out_w * win.stride_h + (win.k_h - 1) * win.dil_h + 1;
        let zero = halves_word(split(u32::from_le_bytes([(-p.input_offset) as u8; 4])));
        for row in top.max(self.filled)..end {
            let slot = row % self.rows.max(1);
            if let Some(dst) = self
                .words
                .get_mut(slot * self.pitch..(slot + 1) * self.pitch)
            {
                extend_row(p, xs, row, dst, zero);
            }
        }
        self.filled = end;
    }

    /// The columns of output pixels `pair` (held by `cover`) into `cols`, per group `[even 0 |
    /// even 1 << 32, odd 0 | odd 1 << 32]`; with `SECOND` only pixel `pair[1]`'s halves.
    #[inline(never)]
    fn columns<const SECOND: bool>(&mut self, p: &Conv, pair: [usize; 2], cols: &mut [[u64; 2]]) {
        let win = &p.win;
        let groups = p.c_in / 4;
        let rows = self.rows.max(1);
        if !SECOND && win.dil_w == 1 {
            // Both pixels in one output row: per kernel row one run of positions each, the
            // second `pair[1] - pair[0]` strides after the first.
            let run = win.k_w * groups;
            let first = pair[0] % win.out_w * win.stride_w * groups;
            let apart = (pair[1] - pair[0]) * win.stride_w * groups;
            #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
            if self.copy_runs(p, pair[0] / win.out_w, (first, apart, run), cols) {
                return;
            }
            let mut slot = pair[0] / win.out_w * win.stride_h % rows;
            for d in cols.chunks_exact_mut(run.max(1)).take(win.k_h) {
                let start = slot * self.pitch + first;
                let (Some(a), Some(b)) = (
                    self.words.get(start..start + run),
                    self.words.get(start + apart..start + apart + run),
                ) else {
                    return;
                };
                interleave_columns(a, b, d);
                slot += win.dil_h;
                if slot >= rows {
                    slot -= rows;
                }
            }
            return;
        }
        // With dilation 1 a kernel row is one run of positions.
        let (run, runs) = if win.dil_w == 1 {
            (win.k_w * groups, 1)
        } else {
            (groups, win.k_w)
        };
        // Each pixel's first padded row and its offset in a row.
        let origins = pair.map(|q| {
            let at = q % win.out_w * win.stride_w * groups;
            (q / win.out_w * win.stride_h, at)
        });
        let mut dst = cols.chunks_exact_mut(run.max(1));
        for kh in 0..win.k_h {
            let starts = origins.map(|(row, at)| (row + kh * win.dil_h) % rows * self.pitch + at);
            for r in 0..runs {
                let at = r * win.dil_w * groups;
                let (Some(d), Some(a), Some(b)) = (
                    dst.next(),
                    self.words.get(starts[0] + at..starts[0] + at + run),
                    self.words.get(starts[1] + at..starts[1] + at + run),
                ) else {
                    return;
                };
                if SECOND {
                    for (col, &b) in d.iter_mut().zip(b) {
                        col[0] = col[0] & 0xffff_ffff | b << 32;
                        col[1] = col[1] & 0xffff_ffff | b & !0xffff_ffff;
                    }
                } else {
                    interleave_columns(a, b, d);
                }
            }
        }
    }

    /// `columns` of a pixel pair in output row `out_row` (`first`, `apart`, `run` as there) by
    /// `dsp::interleave_runs`, the ring row starts cached per output row; false where it does
    /// not run.
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    fn copy_runs(
        &mut self,
        p: &Conv,
        out_row: usize,
        (first, apart, run): (usize, usize, usize),
        cols: &mut [[u64; 2]],
    ) -> bool {
        let win = &p.win;
        let Some(bases) = self.bases.get_mut(..win.k_h) else {
            return false;
        };
        if self.bases_for != out_row {
            let rows = self.rows.max(1);
            let mut slot = out_row * win.stride_h % rows;
            for base in bases.iter_mut() {
                *base = slot * self.pitch;
                slot += win.dil_h;
                if slot >= rows {
                    slot -= rows;
                }
            }
            self.bases_for = out_row;
        }
        let words = self.words.get(first..).unwrap_or_default();
        super::dsp::interleave_runs(words, bases, apart, run, cols)
    }
}

/// Padded row `row` of the input into `dst`: per position (padding as the zero word `zero`)
/// its groups of 4 channels as `even | odd << 32`.
fn extend_row(p: &Conv, xs: &[u8], row: usize, dst: &mut [u64], zero: u64) {
    let win = &p.win;
    let groups = p.c_in / 4;
    let ih = row.wrapping_sub(win.pad_top);
    if ih >= win.in_h {
        dst.fill(zero);
        return;
    }
    let (left, rest) = dst.split_at_mut(win.pad_left * groups);
    left.fill(zero);
    let (inner, right) = rest.split_at_mut(win.in_w * groups);
    right.fill(zero);
    let plane = win.in_plane();
    let whole = win.in_w / 4;
    let (quads, tail) = inner.split_at_mut(4 * whole * groups);
    // The low and high 16-bit halves of two words (PKHBT, PKHTB).
    let low = |x: u32, y: u32| x & 0xffff | y << 16;
    let high = |x: u32, y: u32| x >> 16 | y & 0xffff_0000;
    for g in 0..groups {
        let at = 4 * g * plane + ih * win.in_w;
        let Some(src) = xs.get(at..at + 3 * plane + win.in_w) else {
            return;
        };
        let done = match groups {
            4 => extend_quads::<4>(src, plane, whole, quads, g),
            8 => extend_quads::<8>(src, plane, whole, quads, g),
            16 => extend_quads::<16>(src, plane, whole, quads, g),
            _ => 0,
        };
        if done == whole && tail.is_empty() {
            continue;
        }
        let rows = [0, 1, 2, 3].map(|k| &src[k * plane..][..win.in_w]);
        let [r0, r1, r2, r3] = rows.map(|r| r.as_chunks::<4>().0);
        // 4 positions at a time: a word of each channel's row, sign-extended and transposed.
        let words = r0.iter().zip(r1).zip(r2).zip(r3).skip(done);
        let quads = quads.chunks_exact_mut(4 * groups).skip(done);
        for (quad, (((&a, &b), &c), &d)) in quads.zip(words) {
            let [a, b, c, d] = [a, b, c, d].map(|w| split(u32::from_le_bytes(w)));
            if let [.., p0] = &mut quad[..=g] {
                *p0 = halves_word([low(a[0], c[0]), low(b[0], d[0])]);
            }
            if let [.., p1] = &mut quad[..=groups + g] {
                *p1 = halves_word([low(a[1], c[1]), low(b[1], d[1])]);
            }
            if let [.., p2] = &mut quad[..=2 * groups + g] {
                *p2 = halves_word([high(a[0], c[0]), high(b[0], d[0])]);
            }
            if let [.., p3] = &mut quad[..=3 * groups + g] {
                *p3 = halves_word([high(a[1], c[1]), high(b[1], d[1])]);
            }
        }
        let positions = tail.iter_mut().skip(g).step_by(groups);
        for (k, word) in positions.enumerate() {
            let byte = |r: &[u8]| r[4 * whole..].get(k).copied().unwrap_or(0);
            let raw = rows.map(byte);
            *word = halves_word(split(u32::from_le_bytes(raw)));
        }
    }
}

/// Packs one row of `x` (all taps of one output) as a single column: per group of 4 taps one
/// word `even | odd << 32`.
pub(super) fn pack_row(xs: &[u8], cols: &mut [u64]) {
    let (words, tail) = xs.as_chunks::<4>();
    for (col, &raw) in cols.iter_mut().zip(words) {
        *col = halves_word(split(u32::from_le_bytes(raw)));
    }
    if !tail.is_empty() {
        let mut word = [0; 4];
        word[..tail.len()].copy_from_slice(tail);
        cols[words.len()] = halves_word(split(u32::from_le_bytes(word)));
    }
}

/// Every output channel, two at a time (a missing last one is dropped): `dot(weights of the
/// pair, bias)` gives the accumulators of the `P` columns, handed on requantized to
/// `store(channel, column, value)`.
#[inline(always)]
pub(super) fn channel_pairs<const P: usize>(
    w: &[u64],
    words_per_pair: usize,
    bias: &[i32],
    rq: &[ChannelRequant],
    channels: usize,
    dot: impl Fn(&[u64], [i32; 2]) -> [[i32; 2]; P],
    mut store: impl FnMut(usize, usize, i8),
) {
    for (pair, ws) in w.chunks_exact(words_per_pair).enumerate() {
        let co = 2 * pair;
        let co1 = (co + 1).min(channels - 1);
        let acc = dot(ws, [bias[co], bias[co1]]);
        let (r0, r1) = (&rq[co], &rq[co1]);
        for (k, a) in acc.iter().enumerate() {
            store(co, k, r0.apply(a[0]));
            if co1 > co {
                store(co1, k, r1.apply(a[1]));
            }
        }
    }
}

/// Wide weights take `wide_channels` (all channel pairs per `dot_wide_pairs` call) where the
/// SMLAD loop runs, and in the unit tests; elsewhere `channel_pairs` as the compact weights
/// (`wide_channels` in the same function made the compact loop 1 % slower on qemu-an524).
const FUSED_WIDE: bool = cfg!(any(test, all(target_arch = "arm", target_feature = "dsp")));

/// Channel pairs per call of `dot_wide_pairs`: its accumulators, 16 bytes per pair, take part of
/// the kernel's scratch (`ariel_build/ops/quantized/packing.py` `WIDE_PAIRS_PER_CALL`).
pub const WIDE_PAIRS_PER_CALL: usize = 32;

/// How `wide_channels` requantizes: every channel of a layer `saturates::<false>` (`Folded`),
/// `saturates::<true>` (`Late`), or not (`No`: `apply_pair`).
#[derive(Clone, Copy)]
enum Saturate {
    Folded,
    Late,
    No,
}

impl Saturate {
    /// One pass over the layer's channels.
    fn of(rq: &[ChannelRequant]) -> Self {
        let mut mode = Saturate::Folded;
        for r in rq {
            if !r.saturates::<true>() {
                return Saturate::No;
            }
            if !r.saturates::<false>() {
                mode = Saturate::Late;
            }
        }
        mode
    }
}

/// Every output channel over wide weights `w` and two packed columns `cols`, each channel's first
/// `N` values requantized into `y` (channel `c` at row `first.0 + c`, elements from `first.1`):
/// where every channel saturates (`saturate`) in one `dsp::dot_wide_pairs_store` block (an odd
/// last channel alone); else the accumulators of up to `acc.len()` channel pairs at a time
/// (`dot_wide_pairs`), then `apply_pair`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn wide_channels<const N: usize>(
    cols: &[[u64; 2]],
    w: &[[u64; 2]],
    bias: &[i32],
    rq: &[ChannelRequant],
    acc: &mut [[[i32; 2]; 2]],
    saturate: Saturate,
    y: &mut impl RowStore,
    first: (usize, usize),
) {
    let groups = cols.len();
    let take = |v: [i8; 2]| -> [i8; N] { core::array::from_fn(|k| v[k]) };
    let late = match saturate {
        Saturate::Folded => Some(false),
        Saturate::Late => Some(true),
        Saturate::No => None,
    };
    if let Some(late) = late {
        let pairs = bias.len() / 2;
        let mut out = y.columns::<N>(first.0, first.1, 2 * pairs);
        let layer = WideStore::new(groups, w, bias, rq);
        if late {
            dot_wide_pairs_store::<true, N>(&layer, cols, &mut out);
        } else {
            dot_wide_pairs_store::<false, N>(&layer, cols, &mut out);
        }
        if let (Some(&last), Some(r), Some(ws)) = (
            bias.get(2 * pairs),
            rq.get(2 * pairs),
            w.get(pairs * groups..),
        ) {
            let [[a0, _], [a1, _]] = dot_wide_2x2(cols, ws, [[last; 2]; 2]);
            let v = if late {
                r.saturate_pair::<true>([a0, a1])
            } else {
                r.saturate_pair::<false>([a0, a1])
            };
            y.set_columns(first.0 + 2 * pairs, first.1, 1, |_| take(v));
        }
        return;
    }
    let chunk = acc.len().max(1);
    let weights = w.chunks(chunk * groups);
    let channels = bias.chunks(2 * chunk).zip(rq.chunks(2 * chunk));
    for (call, ((bias, rq), w)) in channels.zip(weights).enumerate() {
        dot_wide_pairs(cols, w, bias, acc);
        if let ([.., last], 1) = (bias, bias.len() % 2) {
            let pair = bias.len() / 2;
            if let (Some(a), Some(ws)) = (acc.get_mut(pair), w.get(pair * groups..)) {
                let [[a0, _], [a1, _]] = dot_wide_2x2(cols, ws, [[*last; 2]; 2]);
                a[0] = [a0, a1];
            }
        }
        let acc = acc.as_flattened();
        let (row, rows) = (first.0 + 2 * chunk * call, rq.len().min(acc.len()));
        y.set_columns(row, first.1, rows, |c| take(rq[c].apply_pair(acc[c])));
    }
}

/// Two channels by two columns: per group of 4 taps one 64-bit load of both channels' weight
/// words (split by `sxtb16`), the columns' even pairs (one 64-bit load) and odd pairs (another),
/// eight `smlad`, kept in order with the loads so that LLVM does not hoist the odd pairs' load and
/// spill (19 instructions per group on Cortex-M4 instead of 22).
#[inline(always)]
fn dot_2x2(cols: &[u64], ws: &[u64], bias: [i32; 2]) -> [[i32; 2]; 2] {
    let mut acc = [bias; 2];
    for (x, &w) in cols.as_chunks::<2>().0.iter().zip(ws) {
        let (w0, w1) = (split(w as u32), split((w >> 32) as u32));
        for (half, &x) in x.iter().enumerate() {
            let (x0, x1) = (x as u32, (x >> 32) as u32);
            acc[0][0] = smlad_ordered(x0, w0[half], acc[0][0]);
            acc[0][1] = smlad_ordered(x0, w1[half], acc[0][1]);
            acc[1][0] = smlad_ordered(x1, w0[half], acc[1][0]);
            acc[1][1] = smlad_ordered(x1, w1[half], acc[1][1]);
        }
    }
    acc
}

/// Two channels by one column (`pack_row`): per group of 4 taps the column's even and odd pairs
/// times both channels' weight words split by `sxtb16`.
#[inline(always)]
pub(super) fn dot_2x1(cols: &[u64], ws: &[u64], bias: [i32; 2]) -> [[i32; 2]; 1] {
    let mut acc = bias;
    for (&x, &w) in cols.iter().zip(ws) {
        let (even, odd) = (x as u32, (x >> 32) as u32);
        let (w0, w1) = (split(w as u32), split((w >> 32) as u32));
        acc[0] = smlad(odd, w0[1], smlad(even, w0[0], acc[0]));
        acc[1] = smlad(odd, w1[1], smlad(even, w1[0], acc[1]));
    }
    [acc]
}

/// `dot_2x1` over wide weights: per group of 4 taps each channel's even and odd pairs.
#[inline(always)]
pub(super) fn dot_wide_2x1(cols: &[u64], ws: &[u64], bias: [i32; 2]) -> [[i32; 2]; 1] {
    let mut acc = bias;
    for (&x, w) in cols.iter().zip(ws.as_chunks::<2>().0) {
        let (even, odd) = (x as u32, (x >> 32) as u32);
        for (a, &w) in acc.iter_mut().zip(w) {
            *a = smlad(odd, (w >> 32) as u32, smlad(even, w as u32, *a));
        }
    }
    [acc]
}

/// `[low, high]` as one 64-bit word.
#[inline(always)]
fn halves_word([low, high]: [u32; 2]) -> u64 {
    u64::from(low) | u64::from(high) << 32
}

/// A word of 4 int8 split into the (0, 2) and (1, 3) pairs.
#[inline(always)]
fn split(raw: u32) -> [u32; 2] {
    [sxtb16(raw), sxtb16_odd(raw)]
}

/// The columns of output pixels `pair` of a channel-last convolution without a ring (taps by
/// kernel position, then input channel): per kernel position the two pixels' groups of 4
/// channels. Windows side by side inside the input take one `dsp::pack_groups_at` call; others
/// go position by position, `dsp::pack_pointwise_groups` where the two inputs lie side by side
/// inside the input, else tap by tap (padding as the input zero point).
fn gather_channels_last(p: &Conv, xs: &[u8], pair: [usize; 2], cols: &mut [[u32; 4]]) {
    let win = &p.win;
    let (plane, groups) = (win.in_plane(), p.c_in / 4);
    let zero_point = (-p.input_offset) as u8;
    // Each pixel's window origin; above or left of the input wraps around to a large index.
    let origin = pair.map(|px| {
        let (oh, ow) = (px / win.out_w, px % win.out_w);
        let top = (oh * win.stride_h).wrapping_sub(win.pad_top);
        (top, (ow * win.stride_w).wrapping_sub(win.pad_left))
    });
    let [(top, left), (top1, left1)] = origin;
    let (bottom, right) = ((win.k_h - 1) * win.dil_h, (win.k_w - 1) * win.dil_w + 1);
    let inside = top < win.in_h && bottom < win.in_h - top && left < win.in_w;
    if inside
        && right < win.in_w - left
        && (top1, left1) == (top, left + 1)
        && win.k_h * win.k_w <= 9
    {
        // Both windows inside the input, side by side: one `asm!` loop over the positions.
        let mut starts = [0; 9];
        for (k, s) in starts.iter_mut().enumerate().take(win.k_h * win.k_w) {
            *s = (top + k / win.k_w * win.dil_h) * win.in_w + left + k % win.k_w * win.dil_w;
        }
        if pack_groups_at(xs, plane, &starts[..win.k_h * win.k_w], groups, cols) {
            return;
        }
    }
    let positions = cols.chunks_exact_mut(groups.max(1)).take(win.k_h * win.k_w);
    for (k, cols) in positions.enumerate() {
        let (kh, kw) = (k / win.k_w * win.dil_h, k % win.k_w * win.dil_w);
        let [a, b] = origin.map(|(top, left)| {
            let (ih, iw) = (top.wrapping_add(kh), left.wrapping_add(kw));
            (ih < win.in_h && iw < win.in_w).then(|| ih * win.in_w + iw)
        });
        if let (Some(a), Some(b)) = (a, b) {
            if b == a + 1 && pack_pointwise_groups(xs, plane, a, p.c_in, cols) == groups {
                continue;
            }
        }
        let tap = |at: Option<usize>, c: usize| at.map_or(zero_point, |i| xs[c * plane + i]);
        let half = |c: usize| u32::from(tap(a, c)) | u32::from(tap(b, c)) << 8;
        for (g, col) in cols.iter_mut().enumerate() {
            let c = 4 * g;
            let (even, odd) = (half(c) | half(c + 2) << 16, half(c + 1) | half(c + 3) << 16);
            *col = [sxtb16(even), sxtb16_odd(even), sxtb16(odd), sxtb16_odd(odd)];
        }
    }
}

/// Zeroes the taps after a column's last (up to 3, to a whole group): stores, not a `memset`
/// call, which costs more than they do.
#[inline(always)]
fn zero_tail<T: Copy + Default>(tail: &mut [T]) {
    let zero = T::default();
    match tail {
        [] => {}
        [a] => *a = zero,
        [a, b] => (*a, *b) = (zero, zero),
        [a, b, c] => (*a, *b, *c) = (zero, zero, zero),
        longer => longer.fill(zero),
    }
}

/// The columns of output pixels `px` and `px + 1` of a 3x3 convolution in plain tap order (stride
/// 1 or 2 along rows, dilation 1 along rows) when both windows lie inside the input, by
/// `dsp::gather_taps3` and `dsp::pack_taps`; false where that does not apply (or without the
/// DSP instructions): the caller gathers.
fn gather_inside_3x3(p: &Conv, xs: &[u8], px: usize, pack: &mut [u64]) -> bool {
    let win = &p.win;
    let dsp = cfg!(all(target_arch = "arm", target_feature = "dsp"));
    if !dsp || (win.k_h, win.k_w, win.dil_w) != (3, 3, 1) || channels_last(p) {
        return false;
    }
    let (oh, ow) = (px / win.out_w, px % win.out_w);
    let first = (ow * win.stride_w).wrapping_sub(win.pad_left);
    let top = (oh * win.stride_h).wrapping_sub(win.pad_top);
    let inside = first < win.in_w && first + win.stride_w + 3 <= win.in_w;
    if !inside || top >= win.in_h || top + 2 * win.dil_h >= win.in_h {
        return false;
    }
    let taps: &mut [u32] = bytemuck::cast_slice_mut(pack);
    let at = (top * win.in_w + first, win.in_plane(), win.dil_h * win.in_w);
    let gathered = match win.stride_w {
        1 => gather_taps3::<1>(xs, at, p.c_in, taps),
        2 => gather_taps3::<2>(xs, at, p.c_in, taps),
        _ => false,
    };
    if gathered {
        zero_tail(&mut taps[9 * p.c_in..]);
        pack_taps(taps.as_chunks_mut::<4>().0);
    }
    gathered
}

/// The taps of output pixel `px` in weight order into `raw` (padding as the input zero point),
/// zero-padded to whole groups of 4. `KW`: the kernel width when known at compile time (the
/// copies of a kernel row then have a constant length: no `memcpy` calls), else 0.
fn gather_column<const KW: usize>(p: &Conv, xs: &[u8], px: usize, raw: &mut [u8]) {
    let win = &p.win;
    let k_w = if KW > 0 { KW } else { win.k_w };
    let (oh, ow) = (px / win.out_w, px % win.out_w);
    let zero_point = (-p.input_offset) as u8;
    let plane = win.in_plane();
    // Left of the input wraps around to a large index.
    let first = (ow * win.stride_w).wrapping_sub(win.pad_left);
    let whole_rows = win.dil_w == 1 && first < win.in_w && first + k_w <= win.in_w;
    let (taps, tail) = raw.split_at_mut(p.c_in * win.k_h * k_w);
    zero_tail(tail);
    let mut rows = taps.chunks_exact_mut(k_w);
    for ci in 0..p.c_in {
        let xc = &xs[ci * plane..][..plane];
        for kh in 0..win.k_h {
            let Some(dst) = rows.next() else { return };
            let ih = (oh * win.stride_h + kh * win.dil_h).wrapping_sub(win.pad_top);
            if ih >= win.in_h {
                dst.fill(zero_point);
            } else if whole_rows {
                dst.copy_from_slice(&xc[ih * win.in_w + first..][..k_w]);
            } else {
                let xr = &xc[ih * win.in_w..][..win.in_w];
                for (kw, d) in dst.iter_mut().enumerate() {
                    let iw = first.wrapping_add(kw * win.dil_w);
                    *d = if iw < win.in_w { xr[iw] } else { zero_point };
                }
            }
        }
    }
}

/// The taps of the adjacent output pixels `px` and `px + 1` of one output row in weight order
/// into `raw`, one halfword per tap (`px`'s byte low; padding as the input zero point),
/// zero-padded to whole groups of 4. `KW` and `S`: the kernel width and horizontal stride when
/// known at compile time (constant-length rows without bounds checks), else 0.
fn gather_pair<const KW: usize, const S: usize>(p: &Conv, xs: &[u8], px: usize, raw: &mut [u16]) {
    let win = &p.win;
    let k_w = if KW > 0 { KW } else { win.k_w };
    let step = if S > 0 { S } else { win.stride_w };
    let (oh, ow) = (px / win.out_w, px % win.out_w);
    let zero_point = (-p.input_offset) as u8;
    let plane = win.in_plane();
    // Left of or above the input wraps around to a large index.
    let first = (ow * step).wrapping_sub(win.pad_left);
    let whole_rows = win.dil_w == 1 && first < win.in_w && first + step + k_w <= win.in_w;
    let (taps, tail) = raw.split_at_mut(p.c_in * win.k_h * k_w);
    zero_tail(tail);
    let top = (oh * win.stride_h).wrapping_sub(win.pad_top);
    let bottom = top.wrapping_add((win.k_h - 1) * win.dil_h);
    if whole_rows && top < win.in_h && bottom < win.in_h {
        // Both windows inside the input: rows of `k_w + step` bytes, no padding.
        let (start, row_step) = (top * win.in_w + first, win.dil_h * win.in_w);
        for (xc, dst) in xs.chunks(plane).zip(taps.chunks_exact_mut(win.k_h * k_w)) {
            let xc = &xc[start..];
            for (kh, d) in dst.chunks_exact_mut(k_w).enumerate() {
                let r = &xc[kh * row_step..][..k_w + step];
                if let ([d0, d1, d2], &[a, b, c, e]) = (&mut *d, r) {
                    // 3 taps, stride 1: one word of 4 bytes holds the three pairs.
                    let v = u32::from_le_bytes([a, b, c, e]);
                    (*d0, *d1, *d2) = (v as u16, (v >> 8) as u16, (v >> 16) as u16);
                    continue;
                }
                for (kw, d) in d.iter_mut().enumerate() {
                    *d = u16::from_le_bytes([r[kw], r[kw + step]]);
                }
            }
        }
        return;
    }
    let zero_pair = u16::from_le_bytes([zero_point; 2]);
    let shifted = if (KW, S, win.dil_w) == (3, 1, 1) {
        shifted_window(first, win.in_w, zero_point)
    } else {
        None
    };
    let mut rows = taps.chunks_exact_mut(k_w);
    for ci in 0..p.c_in {
        let xc = &xs[ci * plane..][..plane];
        for kh in 0..win.k_h {
            let Some(dst) = rows.next() else { return };
            let ih = top.wrapping_add(kh * win.dil_h);
            if ih >= win.in_h {
                dst.fill(zero_pair);
                continue;
            }
            let xr = &xc[ih * win.in_w..][..win.in_w];
            let tap = |iw: usize| if iw < win.in_w { xr[iw] } else { zero_point };
            let window = match shifted {
                Some(w) => xr
                    .get(w.start..)
                    .and_then(|r| r.first_chunk::<4>())
                    .map(|&raw| {
                        (u32::from_le_bytes(raw) >> w.right << w.left) & w.mask | w.padding
                    }),
                None => None,
            };
            if let ([d0, d1, d2], Some(v)) = (&mut *dst, window) {
                (*d0, *d1, *d2) = (v as u16, (v >> 8) as u16, (v >> 16) as u16);
            } else if let ([d0, d1, d2], (3, 1, 1)) = (&mut *dst, (KW, S, win.dil_w)) {
                // 3 taps, stride 1: the 4 bytes of both windows, padded once each, as one word.
                let v = u32::from_le_bytes([0, 1, 2, 3].map(|k| tap(first.wrapping_add(k))));
                (*d0, *d1, *d2) = (v as u16, (v >> 8) as u16, (v >> 16) as u16);
            } else {
                for (kw, d) in dst.iter_mut().enumerate() {
                    let iw = first.wrapping_add(kw * win.dil_w);
                    *d = u16::from_le_bytes([tap(iw), tap(iw.wrapping_add(step))]);
                }
            }
        }
    }
}

/// The 4 bytes of input columns `first..first + 4` (`first` wraps below 0) of any row, as one
/// word: `(word at start >> right << left) & mask | padding`, columns outside the row as
/// `zero_point`. `None` for rows under 4 bytes or a window more than 3 columns outside.
#[derive(Clone, Copy)]
struct ShiftedWindow {
    start: usize,
    right: u32,
    left: u32,
    mask: u32,
    padding: u32,
}

fn shifted_window(first: usize, in_w: usize, zero_point: u8) -> Option<ShiftedWindow> {
    let last_start = in_w.checked_sub(4)?;
    // `first` as a signed column: wrapped values are left of the row.
    let column = first as isize;
    let start = column.clamp(0, last_start as isize);
    let shift = column - start;
    if shift.unsigned_abs() > 3 {
        return None;
    }
    let inside = |k: isize| (0..in_w as isize).contains(&(column + k));
    let mask = u32::from_le_bytes([0, 1, 2, 3].map(|k| if inside(k) { 0xff } else { 0 }));
    Some(ShiftedWindow {
        start: start as usize,
        right: 8 * shift.max(0) as u32,
        left: 8 * (-shift).max(0) as u32,
        mask,
        padding: u32::from_le_bytes([zero_point; 4]) & !mask,
    })
}

/// Tap pairs of two columns (`gather_pair`: per group the words `[p0 t0, p1 t0, p0 t1, p1 t1]`
/// and `[p0 t2, p1 t2, p0 t3, p1 t3]` as bytes) into `cols`, as `pack_pointwise_pair` does.
fn split_pairs(raw: &[u32], cols: &mut [u64]) {
    let groups = cols.as_chunks_mut::<2>().0.iter_mut();
    for (col, &[a, b]) in groups.zip(raw.as_chunks::<2>().0) {
        let (even, odd) = ((a & 0xffff) | b << 16, a >> 16 | (b & 0xffff_0000));
        *col = [
            halves_word([sxtb16(even), sxtb16_odd(even)]),
            halves_word([sxtb16(odd), sxtb16_odd(odd)]),
        ];
    }
}

/// Two gathered columns (`raw`: 4 bytes per group each, one after the other) into `cols`.
fn split_columns(raw: &[u32], cols: &mut [u64]) {
    let (first, second) = raw.split_at(raw.len() / 2);
    for ((col, &a), &b) in cols
        .as_chunks_mut::<2>()
        .0
        .iter_mut()
        .zip(first)
        .zip(second)
    {
        let (a, b) = (split(a), split(b));
        *col = [halves_word([a[0], b[0]]), halves_word([a[1], b[1]])];
    }
}

/// Both columns of a 1x1 convolution for the adjacent pixels `px`, `px + 1`: one halfword per
/// input channel, split by `sxtb16` into the two pixels' pairs.
fn pack_pointwise_pair(xs: &[u8], c_in: usize, plane: usize, px: usize, cols: &mut [[u32; 4]]) {
    let half = |ci: usize| -> u32 {
        if ci < c_in {
            let at = ci * plane + px;
            u32::from(xs[at]) | u32::from(xs.get(at + 1).copied().unwrap_or(0)) << 8
        } else {
            0
        }
    };
    let done = pack_pointwise_groups(xs, plane, px, c_in, cols);
    for (g, col) in cols.iter_mut().enumerate().skip(done) {
        let ci = 4 * g;
        let even = half(ci) | half(ci + 2) << 16;
        let odd = half(ci + 1) | half(ci + 3) << 16;
        *col = [sxtb16(even), sxtb16_odd(even), sxtb16(odd), sxtb16_odd(odd)];
    }
}

#[cfg(test)]
pub(crate) mod tests {

    /// Where `conv_any` writes (`conv`'s output kinds).
    pub(crate) enum Out<'a> {
        Slice(&'a mut [i8]),
        Rows(Rows<'a>),
    }

    /// Whether `conv_ring` (else `conv`) computes `p`: channel-last columns other than pointwise
    /// (ops/quantized/conv.py `ring_bytes` is nonzero for the same layers).
    fn takes_ring(p: &Conv) -> bool {
        channels_last(p) && !packs_pointwise(&p.win)
    }

    /// The `conv` entry the generated code would call for `p`, a layer that takes a ring keeping
    /// it if `ring` (else the entry of one that gave it up: `conv_planes`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv_any(
        p: &Conv,
        x: &[i8],
        w: Weights,
        bias: &[i32],
        rq: &[ChannelRequant],
        y: Out,
        pixels: Range<usize>,
        pack: &mut [u64],
        ring: bool,
    ) {
        let (ring, planes) = (takes_ring(p) && ring, takes_ring(p) && !ring);
        match (y, ring, planes) {
            (Out::Slice(y), true, _) => conv_ring(p, x, w, bias, rq, y, pixels, pack),
            (Out::Slice(y), false, true) => conv_planes(p, x, w, bias, rq, y, pixels, pack),
            (Out::Slice(y), false, false) => conv(p, x, w, bias, rq, y, pixels, pack),
            (Out::Rows(y), true, _) => conv_ring_rows(p, x, w, bias, rq, y, pixels, pack),
            (Out::Rows(y), false, true) => conv_planes_rows(p, x, w, bias, rq, y, pixels, pack),
            (Out::Rows(y), false, false) => conv_rows(p, x, w, bias, rq, y, pixels, pack),
        }
    }
    use super::*;
    use crate::ops::int8::Requant;
    use crate::ops::window::Window;

    fn next(seed: &mut u32) -> i8 {
        *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (*seed >> 16) as i8
    }

    /// `w` (`[c_out, c_in, taps]`) with the taps in the kernel's order for `p` (`channels_last`:
    /// by position, then channel), zero after `w.len()`.
    pub(crate) fn kernel_order<const N: usize>(w: &[i8], p: &Conv, taps: usize) -> [i8; N] {
        let (c_in, last) = (p.c_in, channels_last(p));
        let depth = c_in * taps;
        core::array::from_fn(|i| match w.get(i) {
            Some(_) if last => {
                let (co, t) = (i / depth, i % depth);
                w[co * depth + t % c_in * taps + t / c_in]
            }
            Some(&v) => v,
            None => 0,
        })
    }

    /// The build-time weight layout (ariel_build/ops/quantized/packing.py).
    pub(crate) fn pack_weights(w: &[i8], channels: usize, out: &mut [u64]) -> usize {
        let depth = w.len() / channels;
        let tap = |c: usize, t: usize| {
            if c < channels && t < depth {
                w[c * depth + t] as u8
            } else {
                0
            }
        };
        let mut n = 0;
        for pair in 0..channels.div_ceil(2) {
            for g in 0..depth.div_ceil(4) {
                let word = |c: usize| u32::from_le_bytes([0, 1, 2, 3].map(|k| tap(c, 4 * g + k)));
                out[n] = halves_word([word(2 * pair), word(2 * pair + 1)]);
                n += 1;
            }
        }
        n
    }

    /// The wide build-time layout: per pair and group each channel's `even | odd << 32`.
    pub(crate) fn pack_wide_weights(w: &[i8], channels: usize, out: &mut [u64]) -> usize {
        let mut compact = [0_u64; 34 * 5];
        let words = pack_weights(w, channels, &mut compact);
        for (k, &word) in compact[..words].iter().enumerate() {
            for (c, half) in [word as u32, (word >> 32) as u32].into_iter().enumerate() {
                out[2 * k + c] = halves_word(split(half));
            }
        }
        2 * words
    }

    const RQ: Requant = Requant {
        multiplier: &[1 << 30, 1_500_000_000, 1 << 30],
        shift: &[-6, -7, -5],
        output_offset: 4,
        act_min: -128,
        act_max: 127,
    };

    /// Right shifts past 23: every channel `saturates::<true>`, not all `saturates::<false>`.
    const RQ_LATE: Requant = Requant {
        multiplier: &[1_900_000_000, 1_500_000_000, 2_100_000_000],
        shift: &[-3, -24, -30],
        output_offset: 7,
        act_min: -128,
        act_max: 127,
    };

    /// Narrower bounds and a right shift past 23: not every channel `saturates`.
    const RQ_CLAMPED: Requant = Requant {
        multiplier: &[1 << 30, 1_500_000_000, 2_100_000_000],
        shift: &[-6, -7, -25],
        output_offset: -4,
        act_min: -100,
        act_max: 90,
    };

    /// Equals the windowed kernel (unfolded bias) on padded, strided, odd-sized geometries, with
    /// each way of requantizing (`Saturate`).
    #[test]
    fn conv_matches_the_windowed_kernel() {
        let mut seed = 7;
        // (in_h, in_w, k, stride, pad, dilation, c_in, c_out)
        let geometries = [
            (5, 7, 1, 1, 0, 1, 9, 3),
            (4, 4, 1, 1, 0, 1, 8, 2),
            (6, 5, 3, 1, 1, 1, 3, 3),
            (7, 9, 3, 2, 1, 1, 5, 2),
            (6, 6, 5, 2, 0, 1, 2, 1),
            (3, 5, 1, 2, 0, 1, 6, 3),
            (7, 8, 3, 1, 2, 2, 2, 3),
            (5, 6, 3, 1, 2, 1, 2, 3),
            (7, 9, 3, 1, 1, 1, 8, 3),
            (7, 8, 3, 2, 1, 1, 4, 2),
            (7, 8, 3, 1, 2, 2, 4, 3),
            (6, 5, 1, 2, 0, 1, 8, 3),
            (5, 7, 5, 1, 2, 1, 4, 1),
            (9, 10, 4, 2, 1, 1, 2, 3),
        ];
        let cases = geometries
            .iter()
            .flat_map(|g| [(g, RQ), (g, RQ_LATE), (g, RQ_CLAMPED)])
            .flat_map(|c| [false, true].map(|last| (c, last)));
        for ((&(in_h, in_w, k, stride, pad, dil, c_in, c_out), requant), last) in cases {
            let win = Window::symmetric((in_h, in_w), k, stride, pad, dil);
            let p = Conv {
                batch: 2,
                c_in,
                c_out,
                groups: 1,
                win,
                input_offset: -9,
                channels_last: last,
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
            let mut want = [0_i8; 2 * 3 * 63];
            let mut pack = [0_u64; 3 * 57];
            let (mut compact, mut wide) = ([0_u64; 57], [0_u64; 114]);
            let ordered: [i8; 3 * 9 * 25] = kernel_order(w, &p, k * k);
            let words = pack_weights(&ordered[..w.len()], c_out, &mut compact);
            let wide_words = pack_wide_weights(&ordered[..w.len()], c_out, &mut wide);
            let rq: [ChannelRequant; 3] = core::array::from_fn(|co| requant.channel(co));
            let plane = win.out_plane();
            let mut run = |w, ring: bool| {
                let mut got = [0_i8; 2 * 3 * 63];
                let (bias, rq) = (&folded[..c_out], &rq[..c_out]);
                let y = Out::Slice(&mut got[..len]);
                conv_any(&p, x, w, bias, rq, y, 0..plane, &mut pack, ring);
                got
            };
            let (compact, wide) = (&compact[..words], &wide[..wide_words]);
            let got = run(Weights::Compact(compact), true);
            let got_wide = run(Weights::Wide(wide), true);
            let ringless = takes_ring(&p).then(|| {
                let wide = run(Weights::Wide(wide), false);
                [run(Weights::Compact(compact), false), wide]
            });
            super::super::conv::conv(
                &p,
                x,
                w,
                Some(&bias[..c_out]),
                &requant,
                &mut want[..len],
                0..c_out,
            );
            assert_eq!(
                got[..len],
                want[..len],
                "{in_h}x{in_w} k {k} stride {stride} channels last {last}"
            );
            assert_eq!(got_wide[..len], want[..len], "wide {in_h}x{in_w} k {k}");
            for got in ringless.iter().flatten() {
                assert_eq!(got[..len], want[..len], "no ring {in_h}x{in_w} k {k}");
            }
        }
    }

    /// Wide weights over more channels than one `dot_wide_pairs` call takes (an odd last
    /// channel, depths with and without whole blocks) equal the windowed kernel.
    #[test]
    fn wide_channel_chunks_match_the_windowed_kernel() {
        const C_OUT: usize = 2 * WIDE_PAIRS_PER_CALL + 3;
        let mut seed = 5;
        for c_in in [16, 20] {
            let win = Window::symmetric((3, 3), 1, 1, 0, 1);
            let p = Conv {
                batch: 1,
                c_in,
                c_out: C_OUT,
                groups: 1,
                win,
                input_offset: 5,
                channels_last: true,
            };
            let x: [i8; 20 * 9] = core::array::from_fn(|_| next(&mut seed));
            let w: [i8; C_OUT * 20] = core::array::from_fn(|_| next(&mut seed));
            let (x, w) = (&x[..c_in * 9], &w[..C_OUT * c_in]);
            let bias: [i32; C_OUT] = core::array::from_fn(|co| 37 * co as i32 - 900);
            let folded: [i32; C_OUT] = core::array::from_fn(|co| {
                let wsum: i32 = w[co * c_in..][..c_in].iter().map(|&v| i32::from(v)).sum();
                bias[co] + p.input_offset * wsum
            });
            let rq = Requant {
                multiplier: &[1_300_000_000],
                shift: &[-7],
                output_offset: -3,
                act_min: -128,
                act_max: 127,
            };
            let rqs: [ChannelRequant; C_OUT] = core::array::from_fn(|co| rq.channel(co));
            let mut wide = [0_u64; 2 * 34 * 5];
            let words = pack_wide_weights(w, C_OUT, &mut wide);
            let mut pack = [0_u64; 3 * 5 + 2 * WIDE_PAIRS_PER_CALL];
            let (mut got, mut want) = ([0_i8; C_OUT * 9], [0_i8; C_OUT * 9]);
            let y = Out::Slice(&mut got);
            let wide = Weights::Wide(&wide[..words]);
            conv_any(&p, x, wide, &folded, &rqs, y, 0..9, &mut pack, true);
            let windowed = super::super::conv::conv;
            windowed(&p, x, w, Some(&bias), &rq, &mut want, 0..C_OUT);
            assert_eq!(got, want, "{c_in} input channels");
        }
    }

    /// Pixel ranges (odd starts and lengths too) give the whole plane's values, row by row, with
    /// either weight layout (2 output channels: the fused store loop of `conv_into`).
    #[test]
    fn pixel_ranges_match_the_whole_plane() {
        let mut seed = 11;
        let geometries = [(3, 1, 1), (1, 1, 0), (3, 2, 1)];
        let cases = geometries.iter().flat_map(|g| {
            [
                (g, 5, true, 3),
                (g, 4, true, 3),
                (g, 4, false, 3),
                (g, 8, true, 2),
            ]
        });
        for (&(k, stride, pad), c_in, last, c_out) in cases {
            let (in_h, in_w) = (5, 7);
            let win = Window::symmetric((in_h, in_w), k, stride, pad, 1);
            let p = Conv {
                batch: 1,
                c_in,
                c_out,
                groups: 1,
                win,
                input_offset: 3,
                channels_last: last,
            };
            let x: [i8; 8 * 35] = core::array::from_fn(|_| next(&mut seed));
            let w: [i8; 2 * 8 * 9] = core::array::from_fn(|_| next(&mut seed));
            let ordered: [i8; 2 * 8 * 9] = kernel_order(&w[..c_out * c_in * k * k], &p, k * k);
            let w = &ordered[..c_out * c_in * k * k];
            let mut packed = [0_u64; 32];
            let words = pack_weights(w, c_out, &mut packed);
            let packed = &packed[..words];
            let mut wide = [0_u64; 64];
            let wide_words = pack_wide_weights(w, c_out, &mut wide);
            let layouts = [Weights::Compact(packed), Weights::Wide(&wide[..wide_words])];
            let bias = &[7, -300, 90][..c_out];
            let rq: [ChannelRequant; 3] = core::array::from_fn(|co| RQ.channel(co));
            let rq = &rq[..c_out];
            let plane = win.out_plane();
            let mut pack = [0_u64; 160];
            let mut whole = [0_i8; 3 * 35];
            let y = Out::Slice(&mut whole[..c_out * plane]);
            conv_any(
                &p,
                &x,
                Weights::Compact(packed),
                bias,
                rq,
                y,
                0..plane,
                &mut pack,
                true,
            );
            for (split, w) in [1, 2, plane / 2, plane - 1]
                .into_iter()
                .flat_map(|split| layouts.map(|w| (split, w)))
            {
                let mut joined = [0_i8; 3 * 35];
                for (k, range) in [0..split, split..plane].into_iter().enumerate() {
                    let n = range.len();
                    let mut part = [0_i8; 3 * 35];
                    let y = Out::Rows(Rows::new(&mut part[..c_out * n], n));
                    // A ring layer's second part as if it had given up its ring.
                    conv_any(&p, &x, w, bias, rq, y, range.clone(), &mut pack, k == 0);
                    for co in 0..c_out {
                        joined[co * plane + range.start..][..n]
                            .copy_from_slice(&part[co * n..][..n]);
                    }
                }
                assert_eq!(
                    joined, whole,
                    "k {k} stride {stride} split at {split} {last}"
                );
            }
        }
    }
}
