//! f32 LSTM over a sequence (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, as TFLite Micro runs it): per
//! step the four gates input, forget, cell, output are `W x + b + R h`; then
//! `c = sigmoid(f) c + sigmoid(i) tanh(g)`, clipped to ±`cell_clip`, and `h = sigmoid(o) tanh(c)`.
//! Hidden and cell state carry over from one call to the next (zero = TFLM's reset state); batch
//! rows are independent sequences.

use super::act::Act;
use super::gemm::{gemm, BLayout, Bias, Gemm};
use super::unary::{sigmoid, tanh};

#[derive(Clone, Copy, Debug)]
pub struct Lstm {
    pub batch: usize,
    pub time: usize,
    pub input: usize,
    pub hidden: usize,
    /// Input and output are [time, batch, features] instead of [batch, time, features].
    pub time_major: bool,
    /// Cell state clamp; 0 = none.
    pub cell_clip: f32,
}

impl Lstm {
    /// Row of step (`b`, `t`) in the input and output viewed as [steps, features].
    #[inline(always)]
    pub fn row(&self, b: usize, t: usize) -> usize {
        if self.time_major {
            t * self.batch + b
        } else {
            b * self.time + t
        }
    }
}

/// `y = weights · x (+ bias)` for one row `x`: the gemm kernel with m = 1, weights [n, k].
fn matvec(weights: &[f32], x: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    let p = Gemm {
        m: 1,
        n: y.len(),
        k: x.len(),
        trans_a: false,
        b_layout: BLayout::NK,
        alpha: 1.0,
        beta: 1.0,
    };
    let bias = bias.map(|b| {
        (
            b,
            Bias {
                row_stride: 0,
                col_stride: 1,
            },
        )
    });
    gemm(&p, x, weights, bias, y, 0..p.n, Act::None);
}

/// `x`: [steps, input] rows; `weights` [4 * hidden, input], `recurrent` [4 * hidden, hidden],
/// `bias` [4 * hidden] (gates input, forget, cell, output); `y` [steps, hidden]; `state`
/// [2, batch, hidden] (hidden, cell); `scratch` at least 8 * hidden words (the gates' input and
/// recurrent parts).
#[allow(clippy::too_many_arguments)]
pub fn lstm(
    p: &Lstm,
    x: &[f32],
    weights: &[f32],
    recurrent: &[f32],
    bias: &[f32],
    y: &mut [f32],
    state: &mut [f32],
    scratch: &mut [f32],
) {
    let h_len = p.hidden;
    let (hiddens, cells) = state.split_at_mut(p.batch * h_len);
    let (gates, from_hidden) = scratch[..8 * h_len].split_at_mut(4 * h_len);
    for b in 0..p.batch {
        let hidden = &mut hiddens[b * h_len..(b + 1) * h_len];
        let cell = &mut cells[b * h_len..(b + 1) * h_len];
        for t in 0..p.time {
            let row = p.row(b, t);
            let xs = &x[row * p.input..(row + 1) * p.input];
            matvec(weights, xs, Some(bias), gates);
            matvec(recurrent, hidden, None, from_hidden);
            for (gate, r) in gates.iter_mut().zip(from_hidden.iter()) {
                *gate += r;
            }
            let (input_gate, rest) = gates.split_at(h_len);
            let (forget_gate, rest) = rest.split_at(h_len);
            let (cell_gate, output_gate) = rest.split_at(h_len);
            let out = &mut y[row * h_len..(row + 1) * h_len];
            for j in 0..h_len {
                let mut c =
                    sigmoid(forget_gate[j]) * cell[j] + sigmoid(input_gate[j]) * tanh(cell_gate[j]);
                if p.cell_clip > 0.0 {
                    c = c.clamp(-p.cell_clip, p.cell_clip);
                }
                cell[j] = c;
                out[j] = tanh(c) * sigmoid(output_gate[j]);
            }
            hidden.copy_from_slice(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_follows_the_equations() {
        // hidden 1, input 1: gates i, f, g, o with weights 1, 2, 3, 4, recurrent 0.5 each, bias 0.1.
        let p = Lstm {
            batch: 1,
            time: 2,
            input: 1,
            hidden: 1,
            time_major: false,
            cell_clip: 0.0,
        };
        let x = [0.3_f32, -0.7];
        let (w, r, bias) = ([1.0, 2.0, 3.0, 4.0], [0.5; 4], [0.1; 4]);
        let mut y = [0.0_f32; 2];
        let mut state = [0.0_f32; 2];
        let mut scratch = [0.0_f32; 8];
        let (mut h, mut c) = (0.0_f32, 0.0_f32);
        // Two calls: the second continues from the state the first left.
        for call in 0..2 {
            lstm(&p, &x, &w, &r, &bias, &mut y, &mut state, &mut scratch);
            for (t, xt) in x.iter().enumerate() {
                let g: [f32; 4] = core::array::from_fn(|n| w[n] * xt + bias[n] + r[n] * h);
                c = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
                h = tanh(c) * sigmoid(g[3]);
                assert!(
                    (y[t] - h).abs() < 1e-6,
                    "call {call} step {t}: {} vs {h}",
                    y[t]
                );
            }
            assert_eq!(state, [h, c]);
        }
    }

    #[test]
    fn cell_clip_bounds_the_cell_state_and_batches_are_independent() {
        let p = Lstm {
            batch: 2,
            time: 3,
            input: 1,
            hidden: 1,
            time_major: true,
            cell_clip: 0.25,
        };
        // Large inputs saturate every gate: c grows by ~1 per step, clipped to 0.25.
        let x = [50.0_f32, -50.0, 50.0, -50.0, 50.0, -50.0];
        let (w, r, bias) = ([1.0; 4], [0.0; 4], [0.0; 4]);
        let mut y = [0.0_f32; 6];
        let mut state = [0.0_f32; 4];
        let mut scratch = [0.0_f32; 8];
        lstm(&p, &x, &w, &r, &bias, &mut y, &mut state, &mut scratch);
        let clipped = tanh(0.25);
        for t in 0..3 {
            assert!((y[p.row(0, t)] - clipped).abs() < 1e-6);
            assert!(y[p.row(1, t)].abs() < 1e-6); // sigmoid(-50) ~ 0 closes every gate
        }
    }
}
