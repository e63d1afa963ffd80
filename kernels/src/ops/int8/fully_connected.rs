//! int8 fully connected: `y[b, n] = requant(bias[n] + sum_k (x[b, k] + input_offset) * w[n, k])`
//! (TFLM's FullyConnected, weights `[units, depth]`, per-tensor or per-unit scales), as a product
//! over packed rows (`gemm`).

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
/// per group of 4 inputs.
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
        Weights::Wide(w) => rows(p, x, (w, 2), gemm::dot_wide_2x1, bias, rq, y, pack),
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
            fully_connected(&p, &x, w, &[11, -3], &rq, &mut y, &mut [0; 1]);
            // row 0: (3 + 0 + 5) + 5 = 13, (-3 + 0) - 5 = -8; row 1: 12 + 22 + 32 + 5 = 71 -> 40, -12 + 44 - 5 = 27.
            assert_eq!(y, [12, -9, 40, 26], "{w:?}");
        }
    }
}
