"""QSequenceLstm: int8 TFLite UNIDIRECTIONAL_SEQUENCE_LSTM with TFLite Micro's integer arithmetic
(int8 input, hidden state and weights, int32 biases, int16 gates and cell state).
Kernel: kernels/src/ops/int8/lstm.rs.

Inputs and outputs as `SequenceLstm` (ops/lstm.py), the weights and biases quantized per row with
their gate's scale; the persistent int16 state holds the hidden state minus its zero point (so that
a zeroed arena is TFLite Micro's reset state) and the cell state. Attributes: `hidden_scale`, `hidden_zero_point` (also the output's), `cell_scale`,
`cell_clip`, `time_major`. Each gate's products are requantized to Q3.12 (scale 2^-12), the
sigmoid / tanh outputs are Q0.15; the products of the cell and hidden state updates are rescaled
from 2^-15 · 2^-15 (or 2^-15 · cell scale) to the cell and hidden scales.
"""

from __future__ import annotations

import math

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, register, rust_array
from ariel_build.ops.lstm import GATES, STATE, lstm_macs, lstm_shape
from ariel_build.ops.quantized.fixed_point import per_tensor, quant_of, quantize_multiplier, require_int8

GATE_SCALE = 2.0**-12  # Q3.12: the gates' pre-activation values
ACTIVATION_SCALE = 2.0**-15  # Q0.15: sigmoid and tanh outputs


def _scale(real: float) -> str:
    multiplier, shift = quantize_multiplier(real)
    return f"k::ops::int8::lstm::Scale::new({multiplier}, {shift})"


def _gate_scales(node: Node, graph: Graph, i: int, hidden: int) -> list[float]:
    """Per gate, the scale of the stacked weights `i` (one value per row, equal within a gate)."""
    q = quant_of(graph, node.inputs[i], "weight")
    if q.scale.size != GATES * hidden or np.any(q.zero_point != 0):
        raise OpUnsupported("weights must have one symmetric scale per gate")
    gates = q.scale.reshape(GATES, hidden)
    if np.any(gates != gates[:, :1]):
        raise OpUnsupported("per-channel LSTM weights are not supported (one scale per gate is)")
    return [float(v) for v in gates[:, 0]]


def _cell_tanh(cell_scale: float) -> tuple[int, int]:
    """TFLM's input rescale of tanh(cell): the cell scale's power of two against Q3.12, times 3."""
    power = round(math.log2(cell_scale))
    left = 15 + power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


def _cell_clip(node: Node) -> int:
    clip = float(np.float32(node.attrs.get("cell_clip", 0.0)))
    if clip <= 0:
        return 0
    quantized = int(max(min(clip / float(np.float32(node.attrs["cell_scale"])), 32767.0), -32768.0))
    if quantized <= 0:
        raise OpUnsupported(f"cell_clip {clip} is below one step of the cell state")
    return quantized


def _folded_bias(node: Node, graph: Graph, input_offset: int) -> np.ndarray:
    """`bias + input_offset * row sums of the input weights`, wrapped to int32 as the kernel's sums:
    sum_d w (x + offset) + bias = sum_d w x + folded, exactly."""
    weights, bias = graph.const(node.inputs[1]), graph.const(node.inputs[3])
    if weights is None or bias is None:
        raise OpUnsupported("weights and biases must be constants")
    folded = bias.astype(np.int64) + input_offset * weights.astype(np.int64).sum(axis=1)
    return ((folded + 2**31) % 2**32 - 2**31).astype(np.int32)


@register
class QSequenceLstm(Op):
    name = "QSequenceLstm"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0, 1, 2)
        if graph.tensor(node.inputs[3]).dtype is not DType.I32:
            raise OpUnsupported("biases must be int32")
        for key in ("hidden_scale", "hidden_zero_point", "cell_scale"):
            if key not in node.attrs:
                raise OpUnsupported(f"attribute {key} is missing")
        hidden = lstm_shape(node, graph).hidden
        _gate_scales(node, graph, 1, hidden)
        _gate_scales(node, graph, 2, hidden)
        per_tensor(graph, node.inputs[0], "input")
        _folded_bias(node, graph, 0)
        _cell_clip(node)

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        """The biases are folded with the input offset into a constant of the emitted code."""
        return [0, 1, 2]

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        s = lstm_shape(node, graph)
        return [(s.out_shape, DType.I8), (s.state_shape, DType.I16)]

    def persistent_outputs(self, node: Node, graph: Graph) -> list[int]:
        return [STATE]

    def macs(self, node: Node, graph: Graph) -> int:
        return lstm_macs(lstm_shape(node, graph))

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """The four int16 gates of one batch row."""
        return GATES * lstm_shape(node, graph).hidden * DType.I16.size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = lstm_shape(node, graph)
        in_scale, in_zero = per_tensor(graph, node.inputs[0], "input")
        hidden_scale = float(np.float32(node.attrs["hidden_scale"]))
        cell_scale = float(np.float32(node.attrs["cell_scale"]))
        gates = []
        for w, r in zip(
            _gate_scales(node, graph, 1, s.hidden), _gate_scales(node, graph, 2, s.hidden), strict=True
        ):
            # TFLM multiplies the two scales in single precision, then divides in double.
            from_input = float(np.float32(in_scale) * np.float32(w)) / GATE_SCALE
            from_hidden = float(np.float32(hidden_scale) * np.float32(r)) / GATE_SCALE
            gates.append(
                f"k::ops::int8::lstm::GateScales {{ input: {_scale(from_input)}, "
                f"recurrent: {_scale(from_hidden)} }}"
            )
        tanh_multiplier, tanh_shift = _cell_tanh(cell_scale)
        params = (
            f"k::ops::int8::lstm::Lstm {{ {s.rust()}, "
            f"hidden_zero_point: {int(node.attrs['hidden_zero_point'])}, gates: [{', '.join(gates)}], "
            f"forget_cell: {_scale(ACTIVATION_SCALE * cell_scale / cell_scale)}, "
            f"input_cell: {_scale(ACTIVATION_SCALE * ACTIVATION_SCALE / cell_scale)}, "
            f"hidden_out: {_scale(ACTIVATION_SCALE * ACTIVATION_SCALE / hidden_scale)}, "
            f"cell_tanh: k::ops::int8::lstm::Rescale16 {{ multiplier: {tanh_multiplier}, "
            f"shift: {tanh_shift} }}, cell_clip: {_cell_clip(node)} }}"
        )
        x, w, r = io.inputs[:3]
        bias = rust_array(_folded_bias(node, graph, -in_zero))
        return (
            f"k::ops::int8::lstm::lstm(&{params}, {x}, {w}, {r}, &{bias}, {io.outputs[0]}, "
            f"{io.outputs[STATE]}, k::cast_mut({io.scratch}));"
        )
