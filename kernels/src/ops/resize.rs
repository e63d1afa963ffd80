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

pub fn bilinear(p: &Bilinear, x: &[f32], y: &mut [f32]) {
    let (in_plane, out_w) = (p.in_h * p.in_w, p.cols.low.len());
    let out_plane = p.rows.low.len() * out_w;
    if in_plane == 0 || out_plane == 0 {
        return;
    }
    let cols = p.cols.low.iter().zip(p.cols.high).zip(p.cols.frac);
    for (xp, yp) in x
        .chunks_exact(in_plane)
        .zip(y.chunks_exact_mut(out_plane))
        .take(p.planes)
    {
        let rows = p.rows.low.iter().zip(p.rows.high).zip(p.rows.frac);
        for (((&r0, &r1), &fr), yrow) in rows.zip(yp.chunks_exact_mut(out_w)) {
            let top = &xp[r0 * p.in_w..(r0 + 1) * p.in_w];
            let bottom = &xp[r1 * p.in_w..(r1 + 1) * p.in_w];
            for (((&c0, &c1), &fc), v) in cols.clone().zip(yrow.iter_mut()) {
                let upper = top[c0] + (top[c1] - top[c0]) * fc;
                let lower = bottom[c0] + (bottom[c1] - bottom[c0]) * fc;
                *v = upper + (lower - upper) * fr;
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
        bilinear(&p, &[0.0, 2.0, 4.0, 6.0], &mut y);
        assert_eq!(y, [0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0]);
    }
}
