//! int8 fully connected: `y[b, n] = requant(bias[n] + sum_k (x[b, k] + input_offset) * w[n, k])`
//! (TFLM's FullyConnected, weights `[units, depth]`, per-tensor or per-unit scales), as a product
//! over packed rows (`gemm`).

use super::dsp::dot_wide_row_pairs;
use super::gemm::{self, Weights};
use super::ChannelRequant;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnected {
    pub batch: usize,
    pub depth: usize,
    pub units: usize,
    /// Minus the input zero point.
    pub input_offset: i32,
}

/// All units of every batch row: `w` the weights in channel pairs (`gemm::Weights`), `bias` the
/// folded bias `bias + input_offset * sum(w)` and `rq` the requantization per unit, `pack` a word
/// per group of 4 inputs, with wide weights followed by a word per unit pair (at most
/// `gemm::WIDE_PAIRS_PER_CALL`).
pub fn fully_connected(
    p: &FullyConnected,
    x: &[i8],
    w: Weights,
    bias: &[i32],
    rq: &[ChannelRequant],
    y: &mut [i8],
    pack: &mut [u64],
) {
    match w {
        Weights::Compact(w) => rows(p, x, (w, 1), gemm::dot_2x1, bias, rq, y, pack),
        Weights::Wide(w) => wide_rows(p, x, w, bias, rq, y, pack),
    }
}

/// `fully_connected` over wide weights: per row the accumulators of up to
/// `gemm::WIDE_PAIRS_PER_CALL` unit pairs at a time (`dsp::dot_wide_row_pairs`, an odd last unit
/// alone), kept in `pack` after the packed row, then requantized.
#[inline(never)]
fn wide_rows(
    p: &FullyConnected,
    x: &[i8],
    w: &[u64],
    bias: &[i32],
    rq: &[ChannelRequant],
    y: &mut [i8],
    pack: &mut [u64],
) {
    let groups = p.depth.div_ceil(4);
    let (cols, acc) = pack.split_at_mut(groups);
    let chunk = p.units.div_ceil(2).min(gemm::WIDE_PAIRS_PER_CALL);
    let acc: &mut [[i32; 2]] = bytemuck::cast_slice_mut(&mut acc[..chunk]);
    let w = w.as_chunks::<2>().0;
    for row in 0..p.batch {
        gemm::pack_row(bytemuck::cast_slice(&x[row * p.depth..][..p.depth]), cols);
        let ys = &mut y[row * p.units..][..p.units];
        let cols: &[u64] = cols;
        let units = bias.chunks(2 * chunk).zip(rq.chunks(2 * chunk));
        let outputs = ys.chunks_mut(2 * chunk);
        for (((bias, rq), ys), w) in units.zip(outputs).zip(w.chunks(chunk * groups)) {
            dot_wide_row_pairs(cols, w, bias, acc);
            if let ([.., last], 1) = (bias, bias.len() % 2) {
                let pair = bias.len() / 2;
                if let (Some(a), Some(ws)) = (acc.get_mut(pair), w.get(pair * groups..)) {
                    let ws = bytemuck::cast_slice(ws);
                    a[0] = gemm::dot_wide_2x1(cols, ws, [*last; 2])[0][0];
                }
            }
            for ((y, r), &a) in ys.iter_mut().zip(rq).zip(acc.as_flattened()) {
                *y = r.apply(a);
            }
        }
    }
}

/// `fully_connected` for one layout, `w` with its words per group and pair, as a function of its
/// own per layout (one function for both, LLVM compiles the compact loop 2 % slower).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn rows(
    p: &FullyConnected,
    x: &[i8],
    (w, words): (&[u64], usize),
    dot: impl Fn(&[u64], &[u64], [i32; 2]) -> [[i32; 2]; 1],
    bias: &[i32],
    rq: &[ChannelRequant],
    y: &mut [i8],
    pack: &mut [u64],
) {
    let cols = &mut pack[..p.depth.div_ceil(4)];
    for row in 0..p.batch {
        gemm::pack_row(bytemuck::cast_slice(&x[row * p.depth..][..p.depth]), cols);
        let ys = &mut y[row * p.units..][..p.units];
        let cols: &[u64] = cols;
        let dot = |ws: &[u64], bias| dot(cols, ws, bias);
        gemm::channel_pairs(
            w,
            words * cols.len(),
            bias,
            rq,
            p.units,
            dot,
            |unit, _, v| ys[unit] = v,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::int8::Requant;

    #[test]
    fn offsets_bias_and_clamp() {
        let p = FullyConnected {
            batch: 2,
            depth: 3,
            units: 2,
            input_offset: 2,
        };
        let x = [1_i8, -2, 3, 10, 20, 30];
        let w = [1_i8, 1, 1, -1, 2, 0];
        let rq = Requant {
            multiplier: &[1 << 30],
            shift: &[1], // x 1
            output_offset: -1,
            act_min: -128,
            act_max: 40,
        };
        let mut y = [0_i8; 4];
        // Folded bias: 5 + 2 * 3, -5 + 2 * 1.
        let (mut packed, mut wide) = ([0; 1], [0; 2]);
        gemm::tests::pack_weights(&w, 2, &mut packed);
        gemm::tests::pack_wide_weights(&w, 2, &mut wide);
        let rq = [rq.channel(0), rq.channel(1)];
        for w in [Weights::Compact(&packed), Weights::Wide(&wide)] {
            fully_connected(&p, &x, w, &[11, -3], &rq, &mut y, &mut [0; 2]);
            // row 0: (3 + 0 + 5) + 5 = 13, (-3 + 0) - 5 = -8; row 1: 12 + 22 + 32 + 5 = 71 -> 40, -12 + 44 - 5 = 27.
            assert_eq!(y, [12, -9, 40, 26], "{w:?}");
        }
    }

    /// Both layouts equal the definition over more units than one call of the wide loop takes
    /// (an odd last unit), at depths with and without whole blocks of 16.
    #[test]
    fn layouts_match_the_definition_over_many_units() {
        const UNITS: usize = 2 * gemm::WIDE_PAIRS_PER_CALL + 3;
        let mut seed = 17_u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        let x: [i8; 2 * 20] = core::array::from_fn(|_| next());
        let w: [i8; UNITS * 20] = core::array::from_fn(|_| next());
        let bias: [i32; UNITS] = core::array::from_fn(|u| 41 * u as i32 - 1500);
        let rq = Requant {
            multiplier: &[1_200_000_000],
            shift: &[-6],
            output_offset: 2,
            act_min: -128,
            act_max: 127,
        };
        let rqs: [ChannelRequant; UNITS] = core::array::from_fn(|u| rq.channel(u));
        for depth in [16, 20] {
            let p = FullyConnected {
                batch: 2,
                depth,
                units: UNITS,
                input_offset: 0,
            };
            let (x, w) = (&x[..2 * depth], &w[..UNITS * depth]);
            let want: [i8; 2 * UNITS] = core::array::from_fn(|k| {
                let (row, u) = (k / UNITS, k % UNITS);
                let dot: i32 = (0..depth)
                    .map(|t| i32::from(x[row * depth + t]) * i32::from(w[u * depth + t]))
                    .sum();
                rqs[u].apply(bias[u] + dot)
            });
            let (mut compact, mut wide) = ([0; 34 * 5], [0; 2 * 34 * 5]);
            let words = gemm::tests::pack_weights(w, UNITS, &mut compact);
            let wide_words = gemm::tests::pack_wide_weights(w, UNITS, &mut wide);
            let layouts = [
                Weights::Compact(&compact[..words]),
                Weights::Wide(&wide[..wide_words]),
            ];
            for w in layouts {
                let mut y = [0_i8; 2 * UNITS];
                let mut pack = [0_u64; 5 + gemm::WIDE_PAIRS_PER_CALL];
                fully_connected(&p, x, w, &bias, &rqs, &mut y, &mut pack);
                assert_eq!(y, want, "depth {depth} {w:?}");
            }
        }
    }
}
