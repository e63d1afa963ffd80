//! Gather and GatherElements with indices read at run time.
//!
//! Indices are validated here, not trusted: a negative index counts from the end (ONNX), and an
//! index still outside `[0, n)` after that is clamped to the nearest valid one (`0` or `n - 1`),
//! so no input can make the kernel read out of bounds or panic.

/// Index element types: i64 and i32.
pub trait Index: Copy {
    fn to_i64(self) -> i64;
}

impl Index for i64 {
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self
    }
}

impl Index for i32 {
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
}

/// Wraps a negative index once, then clamps into `[0, n)`; `n >= 1` (checked at build time).
#[inline(always)]
pub fn resolve<I: Index>(index: I, n: usize) -> usize {
    let n = n as i64;
    let i = index.to_i64();
    let i = if i < 0 { i.saturating_add(n) } else { i };
    i.clamp(0, n - 1) as usize
}

/// Data viewed as `[outer, axis_len, inner]`; output `[outer, indices.len(), inner]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gather {
    pub outer: usize,
    pub axis_len: usize,
    pub inner: usize,
}

pub fn gather<T: Copy, I: Index>(p: &Gather, x: &[T], indices: &[I], y: &mut [T]) {
    let (inner, block) = (p.inner, p.axis_len * p.inner);
    if inner == 0 || block == 0 {
        return;
    }
    let mut runs = y.chunks_exact_mut(inner);
    for xb in x.chunks_exact(block).take(p.outer) {
        for (&index, yrun) in indices.iter().zip(&mut runs) {
            let i = resolve(index, p.axis_len);
            yrun.copy_from_slice(&xb[i * inner..(i + 1) * inner]);
        }
    }
}

/// GatherElements: `y[i] = x[i with its axis coordinate replaced by indices[i]]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GatherElements<const R: usize> {
    /// Shape of `indices` and of the output.
    pub shape: [usize; R],
    /// Strides of the data tensor, in elements.
    pub x_strides: [usize; R],
    pub axis: usize,
    /// The data tensor's length along `axis`.
    pub axis_len: usize,
}

pub fn gather_elements<T: Copy, I: Index, const R: usize>(
    p: &GatherElements<R>,
    x: &[T],
    indices: &[I],
    y: &mut [T],
) {
    let mut index = [0usize; R];
    let mut base = 0usize; // data offset of `index` without the axis term
    for (yv, &i) in y.iter_mut().zip(indices) {
        *yv = x[base + resolve(i, p.axis_len) * p.x_strides[p.axis]];
        for axis in (0..R).rev() {
            index[axis] += 1;
            if axis != p.axis {
                base += p.x_strides[axis];
            }
            if index[axis] < p.shape[axis] {
                break;
            }
            if axis != p.axis {
                base -= p.x_strides[axis] * p.shape[axis];
            }
            index[axis] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_indices_wrap_and_outliers_clamp() {
        assert_eq!(resolve(-1i64, 5), 4);
        assert_eq!(resolve(-5i32, 5), 0);
        assert_eq!(resolve(-6i64, 5), 0);
        assert_eq!(resolve(5i64, 5), 4);
        assert_eq!(resolve(i64::MIN, 5), 0);
        assert_eq!(resolve(i64::MAX, 5), 4);
    }

    #[test]
    fn gathers_rows_of_the_middle_axis() {
        // x [2, 3, 2]; take axis-1 rows 2, 0, -1.
        let x: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let mut y = [0u8; 12];
        let p = Gather {
            outer: 2,
            axis_len: 3,
            inner: 2,
        };
        gather(&p, &x, &[2i64, 0, -1], &mut y);
        assert_eq!(y, [4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11]);
    }

    #[test]
    fn gather_elements_replaces_the_axis_coordinate() {
        // x [[1, 2], [3, 4]], axis 1, indices [[0, 0], [1, 0]] -> [[1, 1], [4, 3]].
        let p = GatherElements {
            shape: [2, 2],
            x_strides: [2, 1],
            axis: 1,
            axis_len: 2,
        };
        let mut y = [0f32; 4];
        gather_elements(&p, &[1.0, 2.0, 3.0, 4.0], &[0i32, 0, 1, 0], &mut y);
        assert_eq!(y, [1.0, 1.0, 4.0, 3.0]);
    }
}
