//! Reductions over any set of axes, and ArgMax / ArgMin along one axis.
//!
//! The generator merges neighbouring axes of the same kind, so a reduction is described by at
//! most `MAX_DIMS` kept dimensions (the output, row-major) and `MAX_DIMS` reduced dimensions,
//! each with its input stride. The parallel axis is the range of outputs.

use core::ops::Range;

pub const MAX_DIMS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    L1,
    L2,
    SumSquare,
    LogSum,
    LogSumExp,
}

/// Unused dimensions have size 1 (stride 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reduce {
    pub kept: [usize; MAX_DIMS],
    pub kept_strides: [usize; MAX_DIMS],
    pub reduced: [usize; MAX_DIMS],
    pub reduced_strides: [usize; MAX_DIMS],
    pub kind: Kind,
}

impl Reduce {
    /// Input offset of output `o`.
    #[inline(always)]
    fn base(&self, mut o: usize) -> usize {
        let mut base = 0;
        for d in (0..MAX_DIMS).rev() {
            base += (o % self.kept[d]) * self.kept_strides[d];
            o /= self.kept[d];
        }
        base
    }

    /// Folds `f` over the reduced elements that start at `base`.
    #[inline(always)]
    fn fold(&self, x: &[f32], base: usize, init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
        let (inner, stride) = (
            self.reduced[MAX_DIMS - 1],
            self.reduced_strides[MAX_DIMS - 1],
        );
        let mut acc = init;
        let mut index = [0; MAX_DIMS - 1];
        loop {
            let start = base
                + index
                    .iter()
                    .zip(&self.reduced_strides)
                    .map(|(i, s)| i * s)
                    .sum::<usize>();
            for &v in x[start..].iter().step_by(stride.max(1)).take(inner) {
                acc = f(acc, v);
            }
            let mut d = MAX_DIMS - 1;
            loop {
                if d == 0 {
                    return acc;
                }
                d -= 1;
                index[d] += 1;
                if index[d] < self.reduced[d] {
                    break;
                }
                index[d] = 0;
            }
        }
    }

    fn count(&self) -> usize {
        self.reduced.iter().product()
    }
}

/// Outputs `outputs` of `y`.
#[inline]
pub fn reduce(p: &Reduce, x: &[f32], y: &mut [f32], outputs: Range<usize>) {
    let n = p.count() as f32;
    for o in outputs {
        let b = p.base(o);
        y[o] = match p.kind {
            Kind::Sum => p.fold(x, b, 0.0, |a, v| a + v),
            Kind::Mean => p.fold(x, b, 0.0, |a, v| a + v) / n,
            Kind::Max => p.fold(x, b, f32::NEG_INFINITY, f32::max),
            Kind::Min => p.fold(x, b, f32::INFINITY, f32::min),
            Kind::Prod => p.fold(x, b, 1.0, |a, v| a * v),
            Kind::L1 => p.fold(x, b, 0.0, |a, v| a + v.abs()),
            Kind::L2 => libm::sqrtf(p.fold(x, b, 0.0, |a, v| a + v * v)),
            Kind::SumSquare => p.fold(x, b, 0.0, |a, v| a + v * v),
            Kind::LogSum => libm::logf(p.fold(x, b, 0.0, |a, v| a + v)),
            Kind::LogSumExp => {
                let max = p.fold(x, b, f32::NEG_INFINITY, f32::max);
                if max.is_infinite() {
                    max
                } else {
                    max + libm::logf(p.fold(x, b, 0.0, |a, v| a + libm::expf(v - max)))
                }
            }
        };
    }
}

/// The input seen as `[outer, axis, inner]`; one output per (outer, inner).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArgReduce {
    pub axis: usize,
    pub inner: usize,
    pub max: bool,
    /// Ties go to the last position instead of the first.
    pub last: bool,
}

#[inline]
pub fn arg_reduce(p: &ArgReduce, x: &[f32], y: &mut [i64], outputs: Range<usize>) {
    for o in outputs {
        let (outer, i) = (o / p.inner, o % p.inner);
        let line = x[outer * p.axis * p.inner + i..]
            .iter()
            .step_by(p.inner)
            .take(p.axis);
        let mut best = (0, f32::NAN);
        for (k, &v) in line.enumerate() {
            let better = if p.max { v > best.1 } else { v < best.1 };
            if k == 0 || better || (p.last && v == best.1) {
                best = (k, v);
            }
        }
        y[o] = best.0 as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x[2, 3, 4] = 0..24.
    fn iota() -> [f32; 24] {
        core::array::from_fn(|k| k as f32)
    }

    #[test]
    fn reduce_middle_and_outer_axes() {
        let x = iota();
        // Axis 1 of [2, 3, 4]: kept [2, 4] (strides 12, 1), reduced [3] (stride 4).
        let p = Reduce {
            kept: [1, 1, 2, 4],
            kept_strides: [0, 0, 12, 1],
            reduced: [1, 1, 1, 3],
            reduced_strides: [0, 0, 0, 4],
            kind: Kind::Sum,
        };
        let mut y = [0.0; 8];
        reduce(&p, &x, &mut y, 0..8);
        assert_eq!(y, [12.0, 15.0, 18.0, 21.0, 48.0, 51.0, 54.0, 57.0]);
        // Axes 0 and 2: kept [3] (stride 4), reduced [2, 4] (strides 12, 1).
        let p = Reduce {
            kept: [1, 1, 1, 3],
            kept_strides: [0, 0, 0, 4],
            reduced: [1, 1, 2, 4],
            reduced_strides: [0, 0, 12, 1],
            kind: Kind::Max,
        };
        let mut y = [0.0; 3];
        reduce(&p, &x, &mut y, 0..3);
        assert_eq!(y, [15.0, 19.0, 23.0]);
    }

    #[test]
    fn reduce_kinds_over_everything() {
        let x = [1.0, -2.0, 2.0];
        let all = |kind| Reduce {
            kept: [1; MAX_DIMS],
            kept_strides: [0; MAX_DIMS],
            reduced: [1, 1, 1, 3],
            reduced_strides: [0, 0, 0, 1],
            kind,
        };
        let cases = [
            (Kind::Mean, 1.0 / 3.0),
            (Kind::Min, -2.0),
            (Kind::Prod, -4.0),
            (Kind::L1, 5.0),
            (Kind::L2, 3.0),
            (Kind::SumSquare, 9.0),
            (Kind::LogSum, 0.0),
            (
                Kind::LogSumExp,
                (1f32.exp() + (-2f32).exp() + 2f32.exp()).ln(),
            ),
        ];
        for (kind, want) in cases {
            let mut y = [0.0];
            reduce(&all(kind), &x, &mut y, 0..1);
            assert!((y[0] - want).abs() < 1e-6, "{kind:?}: {} vs {want}", y[0]);
        }
    }

    #[test]
    fn arg_reduce_ties() {
        // [2, 3] along axis 1 (inner 1) and [1, 2, 3] along axis 1 (inner 3).
        let x = [3.0, 1.0, 3.0, 0.0, 0.0, -1.0];
        let mut y = [0; 2];
        let p = ArgReduce {
            axis: 3,
            inner: 1,
            max: true,
            last: false,
        };
        arg_reduce(&p, &x, &mut y, 0..2);
        assert_eq!(y, [0, 0]);
        arg_reduce(&ArgReduce { last: true, ..p }, &x, &mut y, 0..2);
        assert_eq!(y, [2, 1]);
        let mut y = [0; 3];
        let p = ArgReduce {
            axis: 2,
            inner: 3,
            max: false,
            last: false,
        };
        arg_reduce(&p, &x, &mut y, 0..3);
        assert_eq!(y, [1, 1, 1]);
    }
}
