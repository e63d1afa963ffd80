//! Softmax, LogSoftmax and Hardmax along one axis of a tensor seen as `[outer, axis, inner]`.
//!
//! Each line (one `outer`, one `inner` index) subtracts its maximum before `exp`, so large
//! inputs cannot overflow. The parallel axis is `outer`.

use core::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Softmax,
    LogSoftmax,
    /// 1 at the first maximum of each line, 0 elsewhere.
    Hardmax,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub outer: usize,
    pub axis: usize,
    pub inner: usize,
    pub kind: Kind,
}

impl Softmax {
    #[inline(always)]
    fn block(&self) -> usize {
        self.axis * self.inner
    }
}

/// Lines of `outer` indices `outer` from `x` into `y`.
#[inline]
pub fn softmax(p: &Softmax, x: &[f32], y: &mut [f32], outer: Range<usize>) {
    let span = outer.start * p.block()..outer.end * p.block();
    y[span.clone()].copy_from_slice(&x[span]);
    softmax_inplace(p, y, outer);
}

/// `y` holds the input and receives the result.
#[inline]
pub fn softmax_inplace(p: &Softmax, y: &mut [f32], outer: Range<usize>) {
    for o in outer {
        let block = &mut y[o * p.block()..(o + 1) * p.block()];
        for i in 0..p.inner {
            line(p.kind, &mut block[i..], p.inner, p.axis);
        }
    }
}

/// The `len` elements `v[0], v[stride], ...`, in place.
#[inline(always)]
fn line(kind: Kind, v: &mut [f32], stride: usize, len: usize) {
    let max = v
        .iter()
        .step_by(stride)
        .take(len)
        .fold(f32::NEG_INFINITY, |m, &e| m.max(e));
    match kind {
        Kind::Softmax => {
            let mut sum = 0.0;
            for e in v.iter_mut().step_by(stride).take(len) {
                *e = libm::expf(*e - max);
                sum += *e;
            }
            let inv = 1.0 / sum;
            for e in v.iter_mut().step_by(stride).take(len) {
                *e *= inv;
            }
        }
        Kind::LogSoftmax => {
            let sum: f32 = v
                .iter()
                .step_by(stride)
                .take(len)
                .map(|&e| libm::expf(e - max))
                .sum();
            let shift = max + libm::logf(sum);
            for e in v.iter_mut().step_by(stride).take(len) {
                *e -= shift;
            }
        }
        Kind::Hardmax => {
            let first = v.iter().step_by(stride).take(len).position(|&e| e == max);
            for (k, e) in v.iter_mut().step_by(stride).take(len).enumerate() {
                *e = if Some(k) == first { 1.0 } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn softmax_of_large_values_does_not_overflow() {
        let p = Softmax {
            outer: 1,
            axis: 3,
            inner: 1,
            kind: Kind::Softmax,
        };
        let mut y = [0.0; 3];
        softmax(&p, &[1000.0, 1001.0, 1002.0], &mut y, 0..1);
        let e = [1.0, 1f32.exp(), 2f32.exp()];
        let sum: f32 = e.iter().sum();
        assert!(close(&y, &e.map(|v| v / sum)), "{y:?}");
    }

    #[test]
    fn strided_lines_and_outer_range() {
        // [outer 2, axis 2, inner 2]; only outer 1 is computed.
        let x = [0.0, 0.0, 0.0, 0.0, 1.0, 3.0, 1.0, 1.0];
        let mut y = [f32::NAN; 8];
        let p = Softmax {
            outer: 2,
            axis: 2,
            inner: 2,
            kind: Kind::LogSoftmax,
        };
        softmax(&p, &x, &mut y, 1..2);
        assert!(y[..4].iter().all(|v| v.is_nan()));
        let half = -(2f32.ln());
        let (lo, hi) = (-(1.0 + (-2f32).exp()).ln(), -(1.0 + 2f32.exp()).ln());
        // Lines: (1, 1) -> both ln(1/2); (3, 1) -> [hi.., lo..] along the axis.
        assert!(close(&y[4..], &[half, lo, half, hi]), "{y:?}");
    }

    #[test]
    fn hardmax_marks_the_first_maximum() {
        let p = Softmax {
            outer: 2,
            axis: 3,
            inner: 1,
            kind: Kind::Hardmax,
        };
        let mut y = [2.0, 7.0, 7.0, -1.0, -3.0, -2.0];
        softmax_inplace(&p, &mut y, 0..2);
        assert_eq!(y, [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    }
}
