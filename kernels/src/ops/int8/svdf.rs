//! int8 SVDF with an int16 activation state (TFLM's integer SVDF): each invocation shifts every
//! filter's memory one step, stores the requantized feature dot product as its newest entry, then
//! sums the memory weighted by the time weights per filter, adds the filters of each unit (rank)
//! and the bias, and requantizes to int8. The state persists between invocations.

use super::fixed_point::{clamp_i8, multiply_by_quantized_multiplier};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Svdf {
    pub batch: usize,
    pub input_size: usize,
    /// Filters = units * rank.
    pub filters: usize,
    pub rank: usize,
    /// Time steps each filter remembers.
    pub memory: usize,
    pub input_zero_point: i32,
    /// input scale * feature weight scale / state scale.
    pub feature_multiplier: i32,
    pub feature_shift: i32,
    pub state_zero_point: i32,
    /// state scale * time weight scale / output scale.
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub output_zero_point: i32,
}

/// `x` [batch, input_size], `weights_feature` [filters, input_size], `weights_time`
/// [filters, memory], `bias` [filters / rank], `state` [batch, filters * memory] (read and
/// updated), `y` [batch, filters / rank].
pub fn svdf(
    p: &Svdf,
    x: &[i8],
    weights_feature: &[i8],
    weights_time: &[i16],
    bias: &[i32],
    state: &mut [i16],
    y: &mut [i8],
) {
    let units = p.filters / p.rank.max(1);
    let rows = x
        .chunks_exact(p.input_size.max(1))
        .zip(state.chunks_exact_mut((p.filters * p.memory).max(1)))
        .zip(y.chunks_exact_mut(units.max(1)))
        .take(p.batch);
    for ((xs, memories), ys) in rows {
        for (memory, w_feature) in memories
            .chunks_exact_mut(p.memory.max(1))
            .zip(weights_feature.chunks_exact(p.input_size.max(1)))
        {
            memory.copy_within(1.., 0);
            let dot = xs.iter().zip(w_feature).fold(0_i32, |acc, (&xv, &wv)| {
                acc + i32::from(wv) * (i32::from(xv) - p.input_zero_point)
            });
            let scaled =
                multiply_by_quantized_multiplier(dot, p.feature_multiplier, p.feature_shift)
                    .clamp(i32::from(i16::MIN), i32::from(i16::MAX));
            if let Some(newest) = memory.last_mut() {
                *newest = (p.state_zero_point + scaled) as i16;
            }
        }
        let filter_sums = memories
            .chunks_exact(p.memory.max(1))
            .zip(weights_time.chunks_exact(p.memory.max(1)))
            .map(|(memory, w_time)| {
                memory.iter().zip(w_time).fold(0_i32, |acc, (&s, &w)| {
                    acc.wrapping_add(i32::from(w) * (i32::from(s) - p.state_zero_point))
                })
            });
        let mut sums = filter_sums;
        for (yv, &b) in ys.iter_mut().zip(bias) {
            let acc = (&mut sums)
                .take(p.rank)
                .fold(b, |acc, s| acc.wrapping_add(s));
            let v = multiply_by_quantized_multiplier(acc, p.output_multiplier, p.output_shift);
            *yv = clamp_i8(v.saturating_add(p.output_zero_point), -128, 127);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplier 2^30 with shift 1 is exactly 1.
    const ONE: (i32, i32) = (1 << 30, 1);

    fn params(filters: usize, rank: usize, memory: usize) -> Svdf {
        Svdf {
            batch: 1,
            input_size: 2,
            filters,
            rank,
            memory,
            input_zero_point: 1,
            feature_multiplier: ONE.0,
            feature_shift: ONE.1,
            state_zero_point: 0,
            output_multiplier: ONE.0,
            output_shift: ONE.1,
            output_zero_point: 0,
        }
    }

    #[test]
    fn memory_shifts_and_time_weights_sum_it() {
        // One filter, memory 3: state holds the last three feature values.
        let p = params(1, 1, 3);
        let mut state = [0_i16; 3];
        let mut y = [0_i8; 1];
        let wf = [1_i8, 2];
        let wt = [1_i16, 10, 100];
        let bias = [5_i32];
        // Feature value (x - 1) . wf.
        svdf(&p, &[2, 1], &wf, &wt, &bias, &mut state, &mut y); // 1
        assert_eq!(state, [0, 0, 1]);
        assert_eq!(y, [105]);
        svdf(&p, &[1, 2], &wf, &wt, &bias, &mut state, &mut y); // 2
        assert_eq!(state, [0, 1, 2]);
        assert_eq!(y, [127]); // 5 + 10 + 200 saturates
        svdf(&p, &[1, 1], &wf, &wt, &bias, &mut state, &mut y); // 0
        assert_eq!(state, [1, 2, 0]);
        assert_eq!(y, [26]);
    }

    #[test]
    fn rank_adds_the_filters_of_a_unit() {
        // Two filters, rank 2: one unit; memory 1.
        let p = params(2, 2, 1);
        let mut state = [0_i16; 2];
        let mut y = [0_i8; 1];
        svdf(
            &p,
            &[3, 1],
            &[1, 0, 0, 1],
            &[2, 3],
            &[-1],
            &mut state,
            &mut y,
        );
        assert_eq!(state, [2, 0]);
        assert_eq!(y, [3]); // -1 + 2*2 + 3*0
    }
}
