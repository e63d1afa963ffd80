//! int8 convolution, NCHW activations, OIHW weights (`[c_out, c_in / groups, k_h, k_w]`),
//! int32 bias, per-channel requantization (TFLM's ConvPerChannel / DepthwiseConvPerChannel:
//! `acc = bias + sum((x + input_offset) * w)` over the taps inside the input).

use core::ops::Range;

use super::Requant;
use crate::ops::window::Window;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub win: Window,
    /// Minus the input zero point.
    pub input_offset: i32,
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
        let w = &self.win;
        w.k_h == 1
            && w.k_w == 1
            && w.stride_h == 1
            && w.stride_w == 1
            && w.pad_top + w.pad_left + w.pad_bottom + w.pad_right == 0
    }

    #[inline(always)]
    fn group_input<'a>(&self, x: &'a [i8], n: usize, co: usize) -> &'a [i8] {
        let group = co / (self.c_out / self.groups);
        let plane = self.win.in_plane();
        let first = n * self.c_in + group * self.in_per_group();
        &x[first * plane..(first + self.in_per_group()) * plane]
    }
}

/// Computes output channels `channels` of every batch item.
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
    } else {
        windowed(p, x, w, bias, rq, y, channels);
    }
}

/// Output pixels accumulated together in the pointwise path.
const BLOCK: usize = 16;

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
    for n in 0..p.batch {
        for co in channels.clone() {
            let xs = p.group_input(x, n, co);
            let ws = &w[co * p.filter_len()..(co + 1) * p.filter_len()];
            // sum((x + offset) * w) = sum(x * w) + offset * sum(w)
            let wsum: i32 = ws.iter().map(|&v| i32::from(v)).sum();
            let b = bias.map_or(0, |b| b[co]) + p.input_offset * wsum;
            let ys = &mut y[(n * p.c_out + co) * plane..(n * p.c_out + co + 1) * plane];
            for (start, out) in (0..plane).step_by(BLOCK).zip(ys.chunks_mut(BLOCK)) {
                let mut acc = [b; BLOCK];
                for (xc, &wv) in xs.chunks_exact(plane).zip(ws) {
                    let wv = i32::from(wv);
                    for (a, &xv) in acc.iter_mut().zip(&xc[start..start + out.len()]) {
                        *a += i32::from(xv) * wv;
                    }
                }
                for (yv, &a) in out.iter_mut().zip(&acc) {
                    *yv = rq.apply(a, co);
                }
            }
        }
    }
}

fn windowed(
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
    let taps = win.k_h * win.k_w;
    let out_plane = win.out_plane();
    for n in 0..p.batch {
        for co in channels.clone() {
            let xs = p.group_input(x, n, co);
            let ws = &w[co * p.filter_len()..(co + 1) * p.filter_len()];
            let b = bias.map_or(0, |b| b[co]);
            let ys = &mut y[(n * p.c_out + co) * out_plane..(n * p.c_out + co + 1) * out_plane];
            for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
                let rt = rows.taps(oh);
                for (ow, yv) in yrow.iter_mut().enumerate() {
                    let ct = cols.taps(ow);
                    let mut acc = b;
                    for (xc, wc) in xs.chunks_exact(win.in_plane()).zip(ws.chunks_exact(taps)) {
                        for r in 0..rt.count {
                            let xrow = &xc[(rt.start + r * win.dil_h) * win.in_w..];
                            let wrow =
                                &wc[(rt.first + r) * win.k_w..][ct.first..ct.first + ct.count];
                            for (c, &wv) in wrow.iter().enumerate() {
                                let xv = i32::from(xrow[ct.start + c * win.dil_w]);
                                acc += (xv + p.input_offset) * i32::from(wv);
                            }
                        }
                    }
                    *yv = rq.apply(acc, co);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(size: usize, k: usize, stride: usize, pad: usize) -> Window {
        let out = (size + 2 * pad - k) / stride + 1;
        Window {
            in_h: size,
            in_w: size,
            out_h: out,
            out_w: out,
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
        }
    }

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
            win: win(2, 3, 1, 1),
            input_offset: -5,
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
                ..win(1, 1, 1, 0)
            },
            input_offset: 1,
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
}
