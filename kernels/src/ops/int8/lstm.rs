//! int8 LSTM over a sequence with TFLite Micro's integer arithmetic (8-bit activations and
//! weights, 16-bit gates and cell state): per gate two fully connected products requantized to
//! Q3.12 and added with saturation, int16 sigmoid / tanh by table interpolation (Q0.15 out), the
//! cell and hidden state updates as rounding multiplies. Build time derives every multiplier.

use super::dsp::{smlad, sxtb16, sxtb16_odd};
use super::ChannelRequant;

/// `sigmoid(i / 24)` in unsigned 0.16 (the last saturated to 65535): the knots of the int16
/// sigmoid and tanh (`tanh(x) = 2 sigmoid(2x) - 1`), linearly interpolated in between. The
/// values are TFLite Micro's (off `round` by up to 1.1), which bit-exact results require.
const SIGMOID_KNOTS: [u16; 256] = [
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
];

/// The input rescale of the int16 sigmoid / tanh: `x * multiplier`, rounded right by `shift`.
#[derive(Clone, Copy, Debug)]
pub struct Rescale16 {
    pub multiplier: i32,
    pub shift: i32,
}

impl Rescale16 {
    #[inline(always)]
    fn apply(self, x: i16) -> i32 {
        let round = if self.shift > 0 {
            1 << (self.shift - 1)
        } else {
            0
        };
        (i32::from(x) * self.multiplier + round) >> self.shift
    }
}

/// Sigmoid of a rescaled int16 input (Q3.12 after `rescale`), Q0.15 out.
pub fn sigmoid_i16(x: i16, rescale: Rescale16) -> i16 {
    let v = rescale.apply(x);
    let magnitude = v.unsigned_abs();
    let knot = (magnitude >> 9) as usize;
    let interpolated = if knot >= 255 {
        0x7FFF << 10
    } else {
        let (a, b) = (
            u32::from(SIGMOID_KNOTS[knot]),
            u32::from(SIGMOID_KNOTS[knot + 1]),
        );
        (a << 9) + (magnitude & 0x1FF) * (b - a)
    };
    let signed = if v >= 0 {
        interpolated + (1 << 9)
    } else {
        (1 << 25) - interpolated + (1 << 9) - 1
    };
    (signed >> 10) as i16
}

/// Tanh of a rescaled int16 input, Q0.15 out.
pub fn tanh_i16(x: i16, rescale: Rescale16) -> i16 {
    let v = rescale.apply(x);
    let magnitude = v.unsigned_abs();
    let knot = (magnitude >> 8) as usize;
    let interpolated = if knot >= 255 {
        0xFFFF << 8
    } else {
        let (a, b) = (
            u32::from(SIGMOID_KNOTS[knot]),
            u32::from(SIGMOID_KNOTS[knot + 1]),
        );
        ((a << 8) + (magnitude & 0xFF) * (b - a)) as i32
    };
    let signed = if v >= 0 {
        interpolated - (1 << 23) + (1 << 7)
    } else {
        -interpolated + (1 << 23) + (1 << 7) - 1
    };
    (signed >> 8) as i16
}

/// A multiplier and shift (TFLM's quantized multiplier), applied in `ChannelRequant`'s
/// single-multiply form where the shift allows.
#[derive(Clone, Copy, Debug)]
pub struct Scale(ChannelRequant);

impl Scale {
    pub const fn new(multiplier: i32, shift: i32) -> Self {
        Scale(ChannelRequant::new(multiplier, shift, 0, -128, 127))
    }

    /// `multiply_by_quantized_multiplier(x, multiplier, shift)`.
    #[inline(always)]
    fn apply(self, x: i32) -> i32 {
        self.0.scale(x)
    }
}

/// One gate's requantizations of its input and recurrent products to Q3.12.
#[derive(Clone, Copy, Debug)]
pub struct GateScales {
    pub input: Scale,
    pub recurrent: Scale,
}

#[derive(Clone, Copy, Debug)]
pub struct Lstm {
    pub batch: usize,
    pub time: usize,
    pub input: usize,
    pub hidden: usize,
    /// Input and output are [time, batch, features] instead of [batch, time, features].
    pub time_major: bool,
    /// The hidden state's (and output's) zero point.
    pub hidden_zero_point: i32,
    /// Gates input, forget, cell, output.
    pub gates: [GateScales; 4],
    /// forget gate × cell state → cell state; input gate × cell gate → cell state;
    /// tanh(cell) × output gate → hidden state.
    pub forget_cell: Scale,
    pub input_cell: Scale,
    pub hidden_out: Scale,
    /// Rescale of the cell state into tanh's Q3.12 input.
    pub cell_tanh: Rescale16,
    /// Quantized cell clip; 0 = none.
    pub cell_clip: i16,
}

impl Lstm {
    #[inline(always)]
    fn row(&self, b: usize, t: usize) -> usize {
        if self.time_major {
            t * self.batch + b
        } else {
            b * self.time + t
        }
    }
}

const GATE_RESCALE: Rescale16 = Rescale16 {
    multiplier: 3,
    shift: 0,
};

#[inline(always)]
fn saturate_i16(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// `dot` of int8 values: with the DSP extension 4 taps per 2 SMLAD (both words split by SXTB16).
#[inline(always)]
fn dot_i8(start: i32, weights: &[i8], values: &[i8]) -> i32 {
    if !DSP {
        return dot(start, weights, values);
    }
    let word = |v: &[i8; 4]| u32::from_le_bytes(v.map(|b| b as u8));
    let (w4, _) = weights.as_chunks::<4>();
    let (v4, _) = values.as_chunks::<4>();
    let mut acc = start;
    for (w, v) in w4.iter().zip(v4) {
        let (w, v) = (word(w), word(v));
        acc = smlad(sxtb16(w), sxtb16(v), acc);
        acc = smlad(sxtb16_odd(w), sxtb16_odd(v), acc);
    }
    let done = 4 * w4.len().min(v4.len());
    dot(acc, &weights[done..], &values[done..])
}

/// `dot` of int16 values: with the DSP extension 4 taps per 2 SMLAD (the weights split by
/// SXTB16 into taps (0, 2) and (1, 3), the values' pairs repacked to match).
#[inline(always)]
fn dot_i16(start: i32, weights: &[i8], values: &[i16]) -> i32 {
    if !DSP {
        return dot(start, weights, values);
    }
    let (w4, _) = weights.as_chunks::<4>();
    let (v4, _) = values.as_chunks::<4>();
    let mut acc = start;
    for (w, v) in w4.iter().zip(v4) {
        let w = u32::from_le_bytes(w.map(|b| b as u8));
        let [v0, v1, v2, v3] = v.map(|h| u32::from(h as u16));
        acc = smlad(sxtb16(w), v0 | v2 << 16, acc);
        acc = smlad(sxtb16_odd(w), v1 | v3 << 16, acc);
    }
    let done = 4 * w4.len().min(v4.len());
    dot(acc, &weights[done..], &values[done..])
}

/// Whether `smlad` and `sxtb16` are single instructions (else the plain loop is faster).
const DSP: bool = cfg!(all(target_arch = "arm", target_feature = "dsp"));

/// `start + sum_d weights[d] * values[d]` (four products per iteration).
#[inline(always)]
fn dot<T: Copy + Into<i32>>(start: i32, weights: &[i8], values: &[T]) -> i32 {
    let mut acc = start;
    let mut w4 = weights.chunks_exact(4);
    let mut v4 = values.chunks_exact(4);
    for (w, v) in (&mut w4).zip(&mut v4) {
        acc = acc
            .wrapping_add(i32::from(w[0]) * v[0].into())
            .wrapping_add(i32::from(w[1]) * v[1].into())
            .wrapping_add(i32::from(w[2]) * v[2].into())
            .wrapping_add(i32::from(w[3]) * v[3].into());
    }
    for (&w, &v) in w4.remainder().iter().zip(v4.remainder()) {
        acc = acc.wrapping_add(i32::from(w) * v.into());
    }
    acc
}

/// `x`: [steps, input] int8 rows; `weights` [4 * hidden, input], `recurrent` [4 * hidden, hidden]
/// int8, `bias` [4 * hidden] int32 with the input offset folded in (`bias - zero point * row sum`)
/// (gates input, forget, cell, output); `y` [steps, hidden];
/// `state` [2, batch, hidden]: the hidden state minus its zero point and the cell state, carried
/// over from one call to the next (zero = TFLM's reset state); `scratch` at least 4 * hidden
/// (the gates).
#[allow(clippy::too_many_arguments)]
pub fn lstm(
    p: &Lstm,
    x: &[i8],
    weights: &[i8],
    recurrent: &[i8],
    bias: &[i32],
    y: &mut [i8],
    state: &mut [i16],
    scratch: &mut [i16],
) {
    let h_len = p.hidden;
    let (hiddens, cells) = state.split_at_mut(p.batch * h_len);
    let gates = &mut scratch[..4 * h_len];
    for b in 0..p.batch {
        let hidden = &mut hiddens[b * h_len..(b + 1) * h_len];
        let cell = &mut cells[b * h_len..(b + 1) * h_len];
        for t in 0..p.time {
            let row = p.row(b, t);
            let xs = &x[row * p.input..(row + 1) * p.input];
            for (g, (gate, scales)) in gates.chunks_exact_mut(h_len).zip(&p.gates).enumerate() {
                for (j, out) in gate.iter_mut().enumerate() {
                    let n = g * h_len + j;
                    let from_input = dot_i8(bias[n], &weights[n * p.input..(n + 1) * p.input], xs);
                    // The state holds h - zero point: the recurrent input offset is applied.
                    let from_hidden = dot_i16(0, &recurrent[n * h_len..(n + 1) * h_len], hidden);
                    let sum = i32::from(saturate_i16(scales.input.apply(from_input)))
                        + i32::from(saturate_i16(scales.recurrent.apply(from_hidden)));
                    *out = saturate_i16(sum);
                }
                let function = if g == 2 { tanh_i16 } else { sigmoid_i16 };
                for v in gate.iter_mut() {
                    *v = function(*v, GATE_RESCALE);
                }
            }
            let (input_gate, rest) = gates.split_at(h_len);
            let (forget_gate, rest) = rest.split_at(h_len);
            let (cell_gate, output_gate) = rest.split_at(h_len);
            let out = &mut y[row * h_len..(row + 1) * h_len];
            for j in 0..h_len {
                let kept = saturate_i16(
                    p.forget_cell
                        .apply(i32::from(forget_gate[j]) * i32::from(cell[j])),
                );
                let added = saturate_i16(
                    p.input_cell
                        .apply(i32::from(input_gate[j]) * i32::from(cell_gate[j])),
                );
                let mut c = saturate_i16(i32::from(kept) + i32::from(added));
                if p.cell_clip > 0 {
                    c = c.clamp(-p.cell_clip, p.cell_clip);
                }
                cell[j] = c;
                let squashed = tanh_i16(c, p.cell_tanh);
                let h = p
                    .hidden_out
                    .apply(i32::from(squashed) * i32::from(output_gate[j]))
                    + p.hidden_zero_point;
                let h = h.clamp(i32::from(i8::MIN), i32::from(i8::MAX));
                out[j] = h as i8;
                hidden[j] = (h - p.hidden_zero_point) as i16;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knots_follow_the_sigmoid() {
        for (i, &k) in SIGMOID_KNOTS.iter().enumerate() {
            let want = 65536.0 / (1.0 + libm::exp(-(i as f64) / 24.0));
            assert!((f64::from(k) - want).abs() < 1.5, "knot {i}: {k} vs {want}");
        }
    }

    #[test]
    fn sigmoid_and_tanh_approximate_the_functions() {
        // Q3.12 input (scaled by 3 inside, as the gates are); Q0.15 output.
        for raw in (i16::MIN..=i16::MAX).step_by(97) {
            let x = f64::from(raw) / 4096.0;
            let s = f64::from(sigmoid_i16(raw, GATE_RESCALE)) / 32768.0;
            let t = f64::from(tanh_i16(raw, GATE_RESCALE)) / 32768.0;
            assert!(
                (s - 1.0 / (1.0 + libm::exp(-x))).abs() < 2e-4,
                "sigmoid({x}) = {s}"
            );
            assert!((t - libm::tanh(x)).abs() < 4e-4, "tanh({x}) = {t}");
        }
    }
}
