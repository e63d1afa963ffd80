"""QSoftmax: int8 softmax over the last axis, output int8 (scale 1/256, zero point -128) or int16
(scale 1/65536 within 0.1%, zero point -32768) (TFLite SOFTMAX with TFLM's fixed-point exp).
Kernel: kernels/src/ops/int8/softmax.rs."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register
from ariel_build.ops.quantized.fixed_point import per_tensor, quantize_multiplier, require_int8

DIFF_INTEGER_BITS = 5


def require_output(graph: Graph, node: Node, scale: float, zero_point: int) -> None:
    """TFLM's fixed output quantization of softmax, logistic and tanh."""
    if per_tensor(graph, node.outputs[0], "output") != (scale, zero_point):
        raise OpUnsupported(f"output quantization must be scale {scale}, zero point {zero_point}")


def input_radius(integer_bits: int, left_shift: int) -> int:
    """Largest input magnitude (after the multiplier) that does not saturate (CalculateInputRadius)."""
    return math.floor(((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift))


@register
class QSoftmax(Op):
    """Attributes `beta` (default 1), `output_dtype` (int8 (default) or int16)."""

    name = "QSoftmax"

    def output_dtype(self, node: Node) -> DType:
        return DType.from_numpy(node.attrs.get("output_dtype", "int8"))

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        if not in_shape(node, graph) or in_shape(node, graph)[-1] < 1:
            raise OpUnsupported("input must have a non-empty last axis")
        if self.output_dtype(node) is DType.I16:
            # TFLM accepts the int16 output scale within 0.1% of 1/65536.
            scale, zero_point = per_tensor(graph, node.outputs[0], "output")
            if zero_point != -32768 or abs(scale - 1 / 65536) > 0.001 / 65536:
                raise OpUnsupported("int16 output quantization must be scale 1/65536, zero point -32768")
        elif self.output_dtype(node) is DType.I8:
            require_output(graph, node, 1 / 256, -128)
        else:
            raise OpUnsupported(
                f"output is {self.output_dtype(node).numpy_name}; int8 or int16 are supported"
            )
        self.params(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), self.output_dtype(node))]

    def params(self, node: Node, graph: Graph) -> tuple[int, int, int]:
        scale, _ = per_tensor(graph, node.inputs[0], "input")
        beta = float(node.attrs.get("beta", 1.0))
        real = min(beta * scale * (1 << (31 - DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
        multiplier, shift = quantize_multiplier(real)
        if shift < 0:
            raise OpUnsupported(f"beta * input scale ({beta * scale}) is too small")
        return multiplier, shift, -input_radius(DIFF_INTEGER_BITS, shift)

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        shape = in_shape(node, graph)
        depth = shape[-1]
        multiplier, shift, diff_min = self.params(node, graph)
        params = (
            f"k::ops::int8::softmax::Softmax {{ rows: {math.prod(shape) // depth}, depth: {depth}, "
            f"input_multiplier: {multiplier}, input_left_shift: {shift}, diff_min: {diff_min} }}"
        )
        kernel = "softmax_i16" if self.output_dtype(node) is DType.I16 else "softmax"
        return f"k::ops::int8::softmax::{kernel}(&{params}, {io.inputs[0]}, {io.outputs[0]});"
