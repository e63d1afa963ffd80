//! int8 fully connected: `y[b, n] = requant(bias[n] + sum_k (x[b, k] + input_offset) * w[n, k])`
//! (TFLM's FullyConnected, weights `[units, depth]`, per-tensor or per-unit scales).

use core::ops::Range;

use super::Requant;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnected {
    pub batch: usize,
    pub depth: usize,
    pub units: usize,
    /// Minus the input zero point.
    pub input_offset: i32,
}

/// Computes output units `units` of every batch row.
pub fn fully_connected(
    p: &FullyConnected,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    rq: &Requant,
    y: &mut [i8],
    units: Range<usize>,
) {
    for n in units {
        let ws = &w[n * p.depth..(n + 1) * p.depth];
        let wsum: i32 = ws.iter().map(|&v| i32::from(v)).sum();
        let b = bias.map_or(0, |b| b[n]) + p.input_offset * wsum;
        for (row, xs) in x.chunks_exact(p.depth).take(p.batch).enumerate() {
            let dot: i32 = xs
                .iter()
                .zip(ws)
                .map(|(&a, &b)| i32::from(a) * i32::from(b))
                .sum();
            y[row * p.units + n] = rq.apply(b + dot, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        fully_connected(&p, &x, &w, Some(&[5, -5]), &rq, &mut y, 0..2);
        // row 0: (3 + 0 + 5) + 5 = 13, (-3 + 0) - 5 = -8; row 1: 12 + 22 + 32 + 5 = 71 -> 40, -12 + 44 - 5 = 27.
        assert_eq!(y, [12, -9, 40, 26]);
    }
}
