//! int8 pools over NCHW planes (TFLM's integer AveragePool and MaxPool: only taps inside the
//! input count, the average rounds half away from zero, input and output share their scale).

use core::ops::Range;

use crate::ops::window::Window;

/// Average of the taps inside the input, clamped to [act_min, act_max], for planes `planes`.
pub fn average_pool(
    win: &Window,
    x: &[i8],
    y: &mut [i8],
    planes: Range<usize>,
    act_min: i32,
    act_max: i32,
) {
    pool(win, x, y, planes, |xs, rt, ct| {
        let mut sum = 0_i32;
        for r in 0..rt.count {
            let row = &xs[(rt.start + r) * win.in_w + ct.start..][..ct.count];
            sum += row.iter().map(|&v| i32::from(v)).sum::<i32>();
        }
        let count = (rt.count * ct.count).max(1) as i32;
        let avg = if sum > 0 {
            (sum + count / 2) / count
        } else {
            (sum - count / 2) / count
        };
        avg.max(act_min).min(act_max) as i8
    });
}

/// Maximum of the taps inside the input, clamped to [act_min, act_max].
pub fn max_pool(
    win: &Window,
    x: &[i8],
    y: &mut [i8],
    planes: Range<usize>,
    act_min: i32,
    act_max: i32,
) {
    pool(win, x, y, planes, |xs, rt, ct| {
        let mut best = i8::MIN;
        for r in 0..rt.count {
            let row = &xs[(rt.start + r) * win.in_w + ct.start..][..ct.count];
            best = row.iter().copied().fold(best, i8::max);
        }
        i32::from(best).max(act_min).min(act_max) as i8
    });
}

#[inline(always)]
fn pool(
    win: &Window,
    x: &[i8],
    y: &mut [i8],
    planes: Range<usize>,
    value: impl Fn(&[i8], crate::ops::window::Taps, crate::ops::window::Taps) -> i8,
) {
    let (rows, cols) = (win.rows(), win.cols());
    for plane in planes {
        let xs = &x[plane * win.in_plane()..(plane + 1) * win.in_plane()];
        let ys = &mut y[plane * win.out_plane()..(plane + 1) * win.out_plane()];
        for (oh, yrow) in ys.chunks_exact_mut(win.out_w).enumerate() {
            let rt = rows.taps(oh);
            for (ow, yv) in yrow.iter_mut().enumerate() {
                *yv = value(xs, rt, cols.taps(ow));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_3x3_over_2x2() -> Window {
        Window {
            in_h: 2,
            in_w: 2,
            out_h: 2,
            out_w: 2,
            k_h: 3,
            k_w: 3,
            stride_h: 1,
            stride_w: 1,
            dil_h: 1,
            dil_w: 1,
            pad_top: 1,
            pad_left: 1,
            pad_bottom: 1,
            pad_right: 1,
        }
    }

    #[test]
    fn average_counts_only_inside_taps_and_rounds_away_from_zero() {
        let mut y = [0_i8; 4];
        average_pool(&same_3x3_over_2x2(), &[1, 2, 2, 2], &mut y, 0..1, -128, 127);
        assert_eq!(y, [2; 4]); // 7 / 4 = 1.75 -> 2
        average_pool(
            &same_3x3_over_2x2(),
            &[-1, -1, 0, 0],
            &mut y,
            0..1,
            -128,
            127,
        );
        assert_eq!(y, [-1; 4]); // -2 / 4 = -0.5 -> -1
        average_pool(
            &same_3x3_over_2x2(),
            &[-1, 0, 0, 0],
            &mut y,
            0..1,
            -128,
            127,
        );
        assert_eq!(y, [0; 4]); // -0.25 -> 0
    }

    #[test]
    fn max_clamps_to_the_activation_range() {
        let mut y = [0_i8; 4];
        max_pool(
            &same_3x3_over_2x2(),
            &[-9, 50, 3, 4],
            &mut y,
            0..1,
            -128,
            20,
        );
        assert_eq!(y, [20; 4]);
    }
}
