"""QRelu: int8 RELU and RELU6 as TFLM computes them. RELU requantizes to the output's parameters
and clamps at the output's zero (quantized with the reciprocal of the output scale); RELU6 clamps
the raw input to [zero, 6] in the input's parameters. Kernel: kernels/src/ops/int8/quantize.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register
from ariel_build.ops.quantized.fixed_point import (
    INT8_MAX,
    INT8_MIN,
    per_tensor,
    require_int8,
    round_half_away,
)
from ariel_build.ops.quantized.quantize import emit_requantize

IDENTITY = (1 << 30, 1)  # multiplier and shift of x 1


def _relu_bounds(graph: Graph, output: str) -> tuple[int, int]:
    scale, zero = per_tensor(graph, output, "output")
    zero_level = round_half_away(float(np.float32(0) * (np.float32(1) / np.float32(scale))))
    return max(INT8_MIN, zero + zero_level), INT8_MAX


def _relu6_bounds(graph: Graph, input_: str) -> tuple[int, int]:
    scale, zero = per_tensor(graph, input_, "input")
    six = zero + round_half_away(float(np.float32(6) / np.float32(scale)))
    return max(INT8_MIN, zero), min(INT8_MAX, six)


@register
class QRelu(Op):
    """Attribute `activation`: RELU or RELU6."""

    name = "QRelu"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        q_in = per_tensor(graph, node.inputs[0], "input")
        q_out = per_tensor(graph, node.outputs[0], "output")
        kind = node.attrs.get("activation")
        if kind not in ("RELU", "RELU6"):
            raise OpUnsupported(f"int8 activation {kind} is not supported (RELU and RELU6 are)")
        if kind == "RELU6" and q_in != q_out:
            raise OpUnsupported("int8 RELU6 needs equal input and output quantization")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.I8)]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        if node.attrs["activation"] == "RELU":
            return emit_requantize(node, graph, io, _relu_bounds(graph, node.outputs[0]))
        lo, hi = _relu6_bounds(graph, node.inputs[0])
        params = (
            f"k::ops::int8::quantize::Requantize {{ input_zero_point: 0, multiplier: {IDENTITY[0]}, "
            f"shift: {IDENTITY[1]}, output_zero_point: 0, min: {lo}, max: {hi} }}"
        )
        return f"k::ops::int8::quantize::requantize(&{params}, {io.inputs[0]}, {io.outputs[0]});"
