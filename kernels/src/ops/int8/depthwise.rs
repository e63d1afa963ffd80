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

/// Bytes of the padded-plane buffer: the padded plane and 4 bytes of slack for word reads.
pub const fn padded_bytes(p: &Conv) -> usize {
    let w = &p.win;
    (w.in_h + w.pad_top + w.pad_bottom) * (w.in_w + w.pad_left + w.pad_right) + 4
}

/// All output channels: `bias` the folded bias and `rq` the requantization per output channel,
/// `padded` at least [`padded_bytes`] bytes.
pub fn depthwise(
    p: &Conv,
    x: &[i8],
    w: &[i8],
    bias: &[i32],
    rq: &[ChannelRequant],
    y: &mut [i8],
    padded: &mut [u8],
) {
    let win = &p.win;
    let (in_plane, out_plane, taps) = (win.in_plane(), win.out_plane(), win.k_h * win.k_w);
    let multiplier = p.c_out / p.c_in;
    let row = win.in_w + win.pad_left + win.pad_right;
    let padded = &mut padded[..padded_bytes(p)];
    for n in 0..p.batch {
        for co in 0..p.c_out {
            if co % multiplier == 0 {
                let plane = n * p.c_in + co / multiplier;
                let xs: &[u8] = bytemuck::cast_slice(&x[plane * in_plane..][..in_plane]);
                pad_plane(p, xs, (-p.input_offset) as u8, padded);
            }
            let ws = &w[co * taps..][..taps];
            let ys = &mut y[(n * p.c_out + co) * out_plane..][..out_plane];
            let (b, r) = (bias[co], &rq[co]);
            let three = win.k_h == 3 && win.k_w == 3 && win.dil_h == 1 && win.dil_w == 1;
            let weights: [(u32, i32); 3] =
                core::array::from_fn(|kh| outer_and_middle(ws.get(kh * 3..).unwrap_or(&[])));
            for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
                let top = oh * win.stride_h;
                let rows: [&[u8]; 3] = core::array::from_fn(|kh| {
                    let start = (top + kh.min(win.k_h - 1) * win.dil_h) * row;
                    &padded[start..][..row + 4]
                });
                let done = match (three, win.stride_w) {
                    (true, 1) => pairs_stride1(rows, &weights, b, r, yrow),
                    (true, 2) => pairs_stride2(rows, ws, &weights, b, r, yrow),
                    _ => 0,
                };
                for (ow, yv) in yrow.iter_mut().enumerate().skip(done) {
                    let mut acc = b;
                    for kh in 0..win.k_h {
                        let start = (top + kh * win.dil_h) * row + ow * win.stride_w;
                        for (kw, &wv) in ws[kh * win.k_w..][..win.k_w].iter().enumerate() {
                            let xv = i32::from(padded[start + kw * win.dil_w] as i8);
                            acc += xv * i32::from(wv);
                        }
                    }
                    *yv = r.apply(acc);
                }
            }
        }
    }
}

/// 3x3, stride 1: outputs in pairs (2k, 2k + 1) read columns 2k..2k + 4 of the three rows.
/// Returns how many outputs it wrote (from the first).
#[inline(always)]
fn pairs_stride1(
    rows: [&[u8]; 3],
    w: &[(u32, i32); 3],
    b: i32,
    r: &ChannelRequant,
    yrow: &mut [i8],
) -> usize {
    let halves = rows.map(|row| row.as_chunks::<2>().0);
    let outputs = yrow.as_chunks_mut::<2>().0;
    let inputs = halves[0]
        .windows(2)
        .zip(halves[1].windows(2))
        .zip(halves[2].windows(2));
    let mut done = 0;
    for (out, ((x0, x1), x2)) in outputs.iter_mut().zip(inputs) {
        let mut acc = [b; 2];
        for (x, &(outer, middle)) in [x0, x1, x2].into_iter().zip(w) {
            let word = u32::from_le_bytes([x[0][0], x[0][1], x[1][0], x[1][1]]);
            let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
            acc[0] = smlad(even, outer, acc[0]) + low(odd) * middle;
            acc[1] = smlad(odd, outer, acc[1]) + high(even) * middle;
        }
        *out = [r.apply(acc[0]), r.apply(acc[1])];
        done += 2;
    }
    done
}

/// 3x3, stride 2: outputs in pairs (2k, 2k + 1) read columns 4k..4k + 5 of the three rows.
#[inline(always)]
fn pairs_stride2(
    rows: [&[u8]; 3],
    ws: &[i8],
    w: &[(u32, i32); 3],
    b: i32,
    r: &ChannelRequant,
    yrow: &mut [i8],
) -> usize {
    let words = rows.map(|row| row.as_chunks::<4>().0);
    let outputs = yrow.as_chunks_mut::<2>().0;
    let inputs = words[0]
        .windows(2)
        .zip(words[1].windows(2))
        .zip(words[2].windows(2));
    let mut done = 0;
    for (out, ((x0, x1), x2)) in outputs.iter_mut().zip(inputs) {
        let mut acc = [b; 2];
        for (kh, (x, &(outer, middle))) in [x0, x1, x2].into_iter().zip(w).enumerate() {
            let word = u32::from_le_bytes(x[0]);
            let (even, odd) = (sxtb16(word), sxtb16_odd(word)); // (x0, x2), (x1, x3)
            let fifth = i32::from(x[1][0] as i8);
            acc[0] = smlad(even, outer, acc[0]) + low(odd) * middle;
            acc[1] += high(even) * i32::from(ws[3 * kh])
                + high(odd) * middle
                + fifth * i32::from(ws[3 * kh + 2]);
        }
        *out = [r.apply(acc[0]), r.apply(acc[1])];
        done += 2;
    }
    done
}

/// The input plane with its padding (filled with the zero point) into `padded`.
fn pad_plane(p: &Conv, xs: &[u8], zero_point: u8, padded: &mut [u8]) {
    let win = &p.win;
    let row = win.in_w + win.pad_left + win.pad_right;
    let (top, body) = padded.split_at_mut(win.pad_top * row);
    top.fill(zero_point);
    let (body, bottom) = body.split_at_mut(win.in_h * row);
    bottom.fill(zero_point);
    for (dst, src) in body.chunks_exact_mut(row).zip(xs.chunks_exact(win.in_w)) {
        let (left, rest) = dst.split_at_mut(win.pad_left);
        let (middle, right) = rest.split_at_mut(win.in_w);
        left.fill(zero_point);
        middle.copy_from_slice(src);
        right.fill(zero_point);
    }
}

/// The 16-bit pair of the outer weights (0, 2) and the middle weight of a 3-wide kernel row
/// (zeros past the end of `w`).
#[inline(always)]
fn outer_and_middle(w: &[i8]) -> (u32, i32) {
    let w = [0, 1, 2].map(|k| w.get(k).copied().unwrap_or(0));
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
                batch: 1,
                c_in,
                c_out,
                groups: c_in,
                win,
                input_offset: 6,
            };
            let taps = k_h * k_w;
            let x: [i8; 2 * 110] = core::array::from_fn(|_| next());
            let w: [i8; 6 * 25] = core::array::from_fn(|_| next());
            let (x, w) = (&x[..c_in * in_h * in_w], &w[..c_out * taps]);
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
            let len = c_out * win.out_plane();
            let (mut got, mut want) = ([0_i8; 6 * 110], [0_i8; 6 * 110]);
            let mut padded = [0_u8; 14 * 14 + 4];
            depthwise(
                &p,
                x,
                w,
                &folded[..c_out],
                &per_channel[..c_out],
                &mut got[..len],
                &mut padded,
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
