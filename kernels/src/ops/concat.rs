//! Concat along any axis: each output row (everything from the axis inward) is the inputs' rows
//! one after another, so the whole op is a sequence of `copy_from_slice` runs.

/// `runs[k]`: elements input `k` contributes to each output row (its axis length x inner size).
pub fn concat<T: Copy, const N: usize>(parts: [&[T]; N], runs: &[usize; N], y: &mut [T]) {
    let row: usize = runs.iter().sum();
    if row == 0 {
        return;
    }
    for (outer, yrow) in y.chunks_exact_mut(row).enumerate() {
        let mut at = 0;
        for (part, &run) in parts.iter().zip(runs) {
            yrow[at..at + run].copy_from_slice(&part[outer * run..(outer + 1) * run]);
            at += run;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_rows_of_each_input() {
        // [2, 1] ++ [2, 2] along axis 1, and an empty input.
        let mut y = [0i64; 6];
        concat([&[1, 2], &[3, 4, 5, 6], &[]], &[1, 2, 0], &mut y);
        assert_eq!(y, [1, 3, 4, 2, 5, 6]);
    }
}
