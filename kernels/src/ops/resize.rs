//! Resize / Upsample. The generator computes, per axis and output coordinate, the input
//! coordinate(s) and weight from the coordinate transformation and rounding mode, so the
//! kernels only look up tables.

/// Nearest neighbour, any rank and element type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest<'a, const R: usize> {
    pub in_shape: [usize; R],
    pub out_shape: [usize; R],
    /// Source coordinate of every output coordinate: axis 0's table, then axis 1's, ...
    pub source: &'a [usize],
    /// Non-zero when the last axis' table repeats every input column this many times.
    pub repeat: usize,
}

pub fn nearest<T: Copy, const R: usize>(p: &Nearest<R>, x: &[T], y: &mut [T]) {
    let Some(last) = R.checked_sub(1) else {
        return;
    };
    let (row, in_row) = (p.out_shape[last], p.in_shape[last]);
    if row == 0 {
        return;
    }
    let mut tables = [0usize; R]; // start of each axis' table in `source`
    for axis in 1..R {
        tables[axis] = tables[axis - 1] + p.out_shape[axis - 1];
    }
    let columns = &p.source[tables[last]..tables[last] + row];
    let copies_row = columns.iter().enumerate().all(|(o, &i)| o == i) && row == in_row;
    let mut index = [0usize; R];
    let mut previous = None; // input row offset of the output row before this one
    for start in (0..y.len()).step_by(row) {
        let mut offset = 0;
        for axis in 0..last {
            offset = offset * p.in_shape[axis] + p.source[tables[axis] + index[axis]];
        }
        let (done, rest) = y.split_at_mut(start);
        let yrow = &mut rest[..row];
        if previous == Some(offset) {
            // Upsampled rows repeat: copy the row just written.
            yrow.copy_from_slice(&done[start - row..]);
        } else {
            let xrow = &x[offset * in_row..(offset + 1) * in_row];
            if copies_row {
                yrow.copy_from_slice(xrow);
            } else if p.repeat == 2 {
                for (pair, &v) in yrow.chunks_exact_mut(2).zip(xrow) {
                    pair[0] = v;
                    pair[1] = v;
                }
            } else if p.repeat > 0 {
                for (run, &v) in yrow.chunks_exact_mut(p.repeat).zip(xrow) {
                    run.fill(v);
                }
            } else {
                for (v, &c) in yrow.iter_mut().zip(columns) {
                    *v = xrow[c];
                }
            }
        }
        previous = Some(offset);
        for axis in (0..last).rev() {
            index[axis] += 1;
            if index[axis] < p.out_shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
}

/// One axis of a linear resize: output coordinate `o` reads input `low[o]` and `high[o]`
/// and weighs the latter by `frac[o]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearAxis<'a> {
    pub low: &'a [usize],
    pub high: &'a [usize],
    pub frac: &'a [f32],
}

/// Bilinear over the last two axes of `planes` planes `[in_h, in_w]` (1-D: `in_h = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bilinear<'a> {
    pub planes: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub rows: LinearAxis<'a>,
    pub cols: LinearAxis<'a>,
}

/// Input row `xrow` resized along its length into `out`.
#[inline(always)]
fn resize_row(cols: &LinearAxis, xrow: &[f32], out: &mut [f32]) {
    let taps = cols.low.iter().zip(cols.high).zip(cols.frac);
    for (((&c0, &c1), &f), v) in taps.zip(out.iter_mut()) {
        *v = xrow[c0] + (xrow[c1] - xrow[c0]) * f;
    }
}

/// Separable: each input row is resized horizontally once into `scratch` (two rows of the
/// output width: the upper and lower source rows), then output rows blend the two.
pub fn bilinear(p: &Bilinear, x: &[f32], y: &mut [f32], scratch: &mut [f32]) {
    let (in_plane, out_w) = (p.in_h * p.in_w, p.cols.low.len());
    let out_plane = p.rows.low.len() * out_w;
    if in_plane == 0 || out_plane == 0 {
        return;
    }
    let (mut upper, rest) = scratch.split_at_mut(out_w);
    let mut lower = &mut rest[..out_w];
    for (xp, yp) in x
        .chunks_exact(in_plane)
        .zip(y.chunks_exact_mut(out_plane))
        .take(p.planes)
    {
        let mut held = (usize::MAX, usize::MAX); // input rows resized in `upper`, `lower`
        let rows = p.rows.low.iter().zip(p.rows.high).zip(p.rows.frac);
        for (((&r0, &r1), &f), yrow) in rows.zip(yp.chunks_exact_mut(out_w)) {
            if held.0 != r0 {
                if held.1 == r0 {
                    core::mem::swap(&mut upper, &mut lower);
                    held = (held.1, held.0);
                } else {
                    resize_row(&p.cols, &xp[r0 * p.in_w..(r0 + 1) * p.in_w], upper);
                    held.0 = r0;
                }
            }
            if held.1 != r1 {
                resize_row(&p.cols, &xp[r1 * p.in_w..(r1 + 1) * p.in_w], lower);
                held.1 = r1;
            }
            for (v, (&a, &b)) in yrow.iter_mut().zip(upper.iter().zip(lower.iter())) {
                *v = a + (b - a) * f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_doubles_rows_and_columns() {
        let p = Nearest {
            in_shape: [2, 2],
            out_shape: [4, 3],
            source: &[0, 0, 1, 1, 0, 1, 1],
            repeat: 0,
        };
        let mut y = [0u8; 12];
        nearest(&p, &[1, 2, 3, 4], &mut y);
        assert_eq!(y, [1, 2, 2, 1, 2, 2, 3, 4, 4, 3, 4, 4]);
        // Rows only: [1, 2] planes of [2, 2] -> [1, 3, 2] with the last axis copied whole.
        let rows = Nearest {
            in_shape: [1, 2, 2],
            out_shape: [1, 3, 2],
            source: &[0, 1, 1, 0, 0, 1],
            repeat: 0,
        };
        let mut z = [0u8; 6];
        nearest(&rows, &[1, 2, 3, 4], &mut z);
        assert_eq!(z, [3, 4, 3, 4, 1, 2]);
        // Columns repeated 2 and 3 times.
        for repeat in [2, 3] {
            let wide = Nearest {
                in_shape: [1, 2],
                out_shape: [1, 2 * repeat],
                source: &[0, 0, 0, 0, 1, 1, 1],
                repeat,
            };
            let mut w = [0u8; 6];
            nearest(&wide, &[5, 6], &mut w[..2 * repeat]);
            assert_eq!(
                w[..2 * repeat],
                [[5, 5, 6, 6].as_slice(), &[5, 5, 5, 6, 6, 6]][repeat - 2][..]
            );
        }
    }

    #[test]
    fn bilinear_blends_four_neighbours() {
        let axis = LinearAxis {
            low: &[0, 0, 1],
            high: &[1, 1, 1],
            frac: &[0.0, 0.5, 0.0],
        };
        let p = Bilinear {
            planes: 1,
            in_h: 2,
            in_w: 2,
            rows: axis,
            cols: axis,
        };
        let mut y = [0f32; 9];
        bilinear(&p, &[0.0, 2.0, 4.0, 6.0], &mut y, &mut [0.0; 6]);
        assert_eq!(y, [0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0]);
        // Rows 1, 0, 1: the held rows swap and reload.
        let swapping = Bilinear {
            rows: LinearAxis {
                low: &[1, 0, 1],
                high: &[1, 1, 0],
                frac: &[0.0, 0.5, 0.25],
            },
            ..p
        };
        bilinear(&swapping, &[0.0, 2.0, 4.0, 6.0], &mut y, &mut [0.0; 6]);
        assert_eq!(y, [4.0, 5.0, 6.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0]);
    }
}
