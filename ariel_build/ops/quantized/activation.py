"""QLogistic and QTanh: int8 sigmoid (output 1/256, zero point -128) and tanh (output 1/128,
zero point 0) with gemmlowp's fixed-point functions (TFLite LOGISTIC, TANH).
Kernel: kernels/src/ops/int8/activation.rs."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register
from ariel_build.ops.quantized.fixed_point import per_tensor, require_int8, round_half_away
from ariel_build.ops.quantized.softmax import input_radius, require_output

INPUT_INTEGER_BITS = 4


class QFunction(Op):
    function: str
    output: tuple[float, int]

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        require_output(graph, node, *self.output)
        self.rescale(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.I8)]

    def rescale(self, node: Node, graph: Graph) -> str:
        scale, zero_point = per_tensor(graph, node.inputs[0], "input")
        q, left_shift = math.frexp(scale * (1 << (31 - INPUT_INTEGER_BITS)))
        multiplier = round_half_away(q * (1 << 31))
        if multiplier >= 1 << 31 or left_shift < 0:
            raise OpUnsupported(f"input scale {scale} is outside the supported range")
        return (
            f"k::ops::int8::activation::Rescale {{ input_zero_point: {zero_point}, "
            f"range_radius: {input_radius(INPUT_INTEGER_BITS, left_shift)}, multiplier: {multiplier}, "
            f"left_shift: {left_shift} }}"
        )

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return (
            f"k::ops::int8::activation::{self.function}(&{self.rescale(node, graph)}, "
            f"{io.inputs[0]}, {io.outputs[0]});"
        )


@register
class QLogistic(QFunction):
    name = "QLogistic"
    function = "sigmoid"
    output = (1 / 256, -128)


@register
class QTanh(QFunction):
    name = "QTanh"
    function = "tanh_i8"
    output = (1 / 128, 0)
