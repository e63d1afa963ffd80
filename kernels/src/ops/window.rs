//! Sliding-window geometry shared by convolution and pooling (NCHW; 1-D windows have H = 1).
//!
//! Tap `k` of output position `o` reads input index `o * stride + k * dilation - pad_begin`.
//! `Axis::taps` gives the taps of one output position that land inside the input, so the
//! kernels' inner loops never test for padding.

use core::ops::Range;

/// Two-dimensional window geometry, written as a literal by the code generator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
}

impl Window {
    /// The same kernel, stride, dilation and padding on both axes; the output size follows.
    #[cfg(test)]
    pub fn symmetric(
        (in_h, in_w): (usize, usize),
        k: usize,
        stride: usize,
        pad: usize,
        dil: usize,
    ) -> Window {
        let out = |d: usize| (d + 2 * pad - dil * (k - 1) - 1) / stride + 1;
        Window {
            in_h,
            in_w,
            out_h: out(in_h),
            out_w: out(in_w),
            k_h: k,
            k_w: k,
            stride_h: stride,
            stride_w: stride,
            dil_h: dil,
            dil_w: dil,
            pad_top: pad,
            pad_left: pad,
            pad_bottom: pad,
            pad_right: pad,
        }
    }

    /// A 1x1 window with stride 1 and no padding: each output is its input position.
    #[inline(always)]
    pub fn is_pointwise(&self) -> bool {
        self.k_h == 1
            && self.k_w == 1
            && self.stride_h == 1
            && self.stride_w == 1
            && self.pad_top + self.pad_left + self.pad_bottom + self.pad_right == 0
    }

    #[inline(always)]
    pub fn rows(&self) -> Axis {
        Axis {
            size: self.in_h,
            out: self.out_h,
            kernel: self.k_h,
            stride: self.stride_h,
            dilation: self.dil_h,
            pad_begin: self.pad_top,
            pad_end: self.pad_bottom,
        }
    }

    #[inline(always)]
    pub fn cols(&self) -> Axis {
        Axis {
            size: self.in_w,
            out: self.out_w,
            kernel: self.k_w,
            stride: self.stride_w,
            dilation: self.dil_w,
            pad_begin: self.pad_left,
            pad_end: self.pad_right,
        }
    }

    #[inline(always)]
    pub fn in_plane(&self) -> usize {
        self.in_h * self.in_w
    }

    #[inline(always)]
    pub fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }
}

/// One spatial axis of a window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub size: usize,
    pub out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_begin: usize,
    pub pad_end: usize,
}

/// The taps of one output position that land inside the input: taps `first..first + count`,
/// the first of them at input index `start`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Taps {
    pub first: usize,
    pub count: usize,
    pub start: usize,
}

impl Axis {
    #[inline(always)]
    pub fn taps(self, o: usize) -> Taps {
        let origin = o * self.stride; // input index of tap 0, shifted by pad_begin
        let first = self
            .pad_begin
            .saturating_sub(origin)
            .div_ceil(self.dilation)
            .min(self.kernel); // keeps `first..first + count` a valid slice when count is 0
        let limit = self.size + self.pad_begin; // shifted index one past the input
        let end = if limit > origin {
            (limit - origin).div_ceil(self.dilation).min(self.kernel)
        } else {
            0
        };
        Taps {
            first,
            count: end.saturating_sub(first),
            start: (origin + first * self.dilation).saturating_sub(self.pad_begin),
        }
    }

    /// Output positions whose taps all land inside the input (a contiguous range).
    #[inline(always)]
    pub fn interior(self) -> Range<usize> {
        let span = (self.kernel - 1) * self.dilation; // offset of the last tap
        let hi = if self.size + self.pad_begin > span {
            ((self.size - 1 + self.pad_begin - span) / self.stride + 1).min(self.out)
        } else {
            0
        };
        let lo = self.pad_begin.div_ceil(self.stride).min(hi);
        lo..hi
    }

    /// Taps inside the padded input `[-pad_begin, size + pad_end)` (AveragePool's
    /// count_include_pad divisor; windows may overhang it with ceil_mode).
    #[inline(always)]
    pub fn padded_count(self, o: usize) -> usize {
        let extent = self.size + self.pad_begin + self.pad_end;
        extent
            .saturating_sub(o * self.stride)
            .div_ceil(self.dilation)
            .min(self.kernel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(
        size: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad: (usize, usize),
    ) -> Axis {
        let span = (kernel - 1) * dilation + 1;
        Axis {
            size,
            out: (size + pad.0 + pad.1 - span) / stride + 1,
            kernel,
            stride,
            dilation,
            pad_begin: pad.0,
            pad_end: pad.1,
        }
    }

    /// Taps by testing every tap, the definition `taps` must agree with.
    fn taps_by_search(a: Axis, o: usize) -> (usize, usize) {
        let valid = |k: usize| {
            let i = (o * a.stride + k * a.dilation) as isize - a.pad_begin as isize;
            i >= 0 && (i as usize) < a.size
        };
        let first = (0..a.kernel).find(|&k| valid(k)).unwrap_or(a.kernel);
        let count = (0..a.kernel).filter(|&k| valid(k)).count();
        (first, count)
    }

    #[test]
    fn taps_and_interior_agree_with_exhaustive_search() {
        for size in 1..9 {
            for kernel in 1..5 {
                for stride in 1..4 {
                    for dilation in 1..3 {
                        for pad in [(0, 0), (1, 0), (0, 2), (2, 1), (3, 3)] {
                            let span = (kernel - 1) * dilation + 1;
                            if size + pad.0 + pad.1 < span || pad.0 >= span || pad.1 >= span {
                                continue;
                            }
                            let a = axis(size, kernel, stride, dilation, pad);
                            let interior = a.interior();
                            for o in 0..a.out {
                                let t = a.taps(o);
                                let (first, count) = taps_by_search(a, o);
                                assert_eq!(t.count, count, "{a:?} o={o}");
                                if count > 0 {
                                    let start = o * stride + first * dilation - pad.0;
                                    assert_eq!((t.first, t.start), (first, start), "{a:?} o={o}");
                                }
                                assert_eq!(interior.contains(&o), count == kernel, "{a:?} o={o}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn padded_count_clips_the_window_to_the_padded_input() {
        // size 6, kernel 3, stride 2, pads (1, 1), ceil_mode: windows start at -1, 1, 3, 5;
        // the padded input ends at 7, so the last window keeps taps 5 and 6 only.
        let a = Axis {
            size: 6,
            out: 4,
            kernel: 3,
            stride: 2,
            dilation: 1,
            pad_begin: 1,
            pad_end: 1,
        };
        let counts: [usize; 4] = core::array::from_fn(|o| a.padded_count(o));
        assert_eq!(counts, [3, 3, 3, 2]);
    }
}
