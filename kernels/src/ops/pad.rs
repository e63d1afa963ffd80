//! Pad (and crop, with negative pads) a tensor of any rank `R` and any element type.
//!
//! Works row by row (the last axis): each output row is a fill, or a copy of one input row
//! with its begin and end padding mapped element by element.

/// How positions outside the input get their value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    Constant,
    /// Mirror without repeating the edge (`pads < size` is checked at build time).
    Reflect,
    Edge,
    /// Wrap around (opset 19).
    Wrap,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pad<const R: usize> {
    pub in_shape: [usize; R],
    pub out_shape: [usize; R],
    /// Padding before each axis (negative: elements cropped).
    pub begin: [isize; R],
    pub mode: PadMode,
}

impl<const R: usize> Pad<R> {
    /// Input index read by output index `o` of `axis`; None = the constant value.
    #[inline(always)]
    fn source(&self, axis: usize, o: usize) -> Option<usize> {
        let size = self.in_shape[axis] as isize;
        let i = o as isize - self.begin[axis];
        if (0..size).contains(&i) {
            return Some(i as usize);
        }
        let mapped = match self.mode {
            PadMode::Constant => return None,
            PadMode::Edge => i.clamp(0, size - 1),
            PadMode::Reflect if i < 0 => -i,
            PadMode::Reflect => 2 * (size - 1) - i,
            PadMode::Wrap => i.rem_euclid(size),
        };
        Some(mapped as usize)
    }
}

pub fn pad<T: Copy, const R: usize>(p: &Pad<R>, x: &[T], y: &mut [T], value: T) {
    let Some(last) = R.checked_sub(1) else {
        y.copy_from_slice(x);
        return;
    };
    let (in_row, out_row) = (p.in_shape[last], p.out_shape[last]);
    // Output columns that copy input columns lo - begin .. hi - begin in one slice.
    let lo = p.begin[last].clamp(0, out_row as isize) as usize;
    let hi = (p.begin[last] + in_row as isize).clamp(lo as isize, out_row as isize) as usize;
    let copy_from = (lo as isize - p.begin[last]) as usize;
    let mut index = [0usize; R]; // output index of the current row (last entry unused)
    for yrow in y.chunks_exact_mut(out_row) {
        // Input offset of the source row, or None when the row lies in constant padding.
        let mut offset = Some(0usize);
        for (axis, &o) in index[..last].iter().enumerate() {
            offset = offset
                .zip(p.source(axis, o))
                .map(|(o, i)| o * p.in_shape[axis] + i);
        }
        match offset {
            None => yrow.fill(value),
            Some(offset) => {
                let xrow = &x[offset * in_row..(offset + 1) * in_row];
                let (head, rest) = yrow.split_at_mut(lo);
                let (middle, tail) = rest.split_at_mut(hi - lo);
                middle.copy_from_slice(&xrow[copy_from..copy_from + hi - lo]);
                let mapped = |o: usize| p.source(last, o).map_or(value, |i| xrow[i]);
                for (o, yv) in head.iter_mut().enumerate() {
                    *yv = mapped(o);
                }
                for (o, yv) in tail.iter_mut().enumerate() {
                    *yv = mapped(hi + o);
                }
            }
        }
        // Next row: odometer increment over the outer axes.
        for axis in (0..last).rev() {
            index[axis] += 1;
            if index[axis] < p.out_shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(mode: PadMode, begin: isize, out: usize) -> [i32; 8] {
        let p = Pad {
            in_shape: [1, 4],
            out_shape: [1, out],
            begin: [0, begin],
            mode,
        };
        let mut y = [-7; 8];
        pad(&p, &[1, 2, 3, 4], &mut y[..out], 0);
        y
    }

    #[test]
    fn modes_along_the_last_axis() {
        assert_eq!(padded(PadMode::Constant, 2, 8), [0, 0, 1, 2, 3, 4, 0, 0]);
        assert_eq!(padded(PadMode::Reflect, 2, 8), [3, 2, 1, 2, 3, 4, 3, 2]);
        assert_eq!(padded(PadMode::Edge, 2, 8), [1, 1, 1, 2, 3, 4, 4, 4]);
        assert_eq!(padded(PadMode::Wrap, 3, 8), [2, 3, 4, 1, 2, 3, 4, 1]);
        // Negative padding crops: begin -1, end -2.
        assert_eq!(
            padded(PadMode::Constant, -1, 1),
            [2, -7, -7, -7, -7, -7, -7, -7]
        );
    }

    #[test]
    fn outer_axes_map_whole_rows() {
        // [2, 2] padded by one row before and one column after, reflected: rows 1, 0, 1 and
        // columns 0, 1, 0 of the input.
        let p = Pad {
            in_shape: [2, 2],
            out_shape: [3, 3],
            begin: [1, 0],
            mode: PadMode::Reflect,
        };
        let mut y = [0u8; 9];
        pad(&p, &[1, 2, 3, 4], &mut y, 0);
        assert_eq!(y, [3, 4, 3, 1, 2, 1, 3, 4, 3]);
        let constant = Pad {
            mode: PadMode::Constant,
            ..p
        };
        pad(&constant, &[1, 2, 3, 4], &mut y, 9);
        assert_eq!(y, [9, 9, 9, 1, 2, 9, 3, 4, 9]);
    }
}
