"""QLeakyRelu: TFLM's int8 LEAKY_RELU. Inputs at or above the input zero point requantize by
`in_scale / out_scale`, those below by `in_scale * alpha / out_scale` (both formed in single
precision, as TFLM does). Kernel: `leaky_relu` in kernels/src/ops/int8/quantize.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register
from ariel_build.ops.quantized.fixed_point import (
    INT8_MAX,
    INT8_MIN,
    per_tensor,
    quantize_multiplier,
    require_int8,
)


def _requantize(graph: Graph, node: Node, factor: float) -> str:
    """A `Requantize` literal for the multiplier `in_scale * factor / out_scale` (float32)."""
    in_scale, in_zero = per_tensor(graph, node.inputs[0], "input")
    out_scale, out_zero = per_tensor(graph, node.outputs[0], "output")
    real = np.float32(in_scale) * np.float32(factor) / np.float32(out_scale)
    multiplier, shift = quantize_multiplier(float(real))
    return (
        f"k::ops::int8::quantize::Requantize {{ input_zero_point: {in_zero}, multiplier: {multiplier}, "
        f"shift: {shift}, output_zero_point: {out_zero}, min: {INT8_MIN}, max: {INT8_MAX} }}"
    )


@register
class QLeakyRelu(Op):
    """Attribute `alpha` (float32, >= 0)."""

    name = "QLeakyRelu"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        per_tensor(graph, node.inputs[0], "input")
        per_tensor(graph, node.outputs[0], "output")
        if not float(node.attrs.get("alpha", 0.0)) >= 0.0:
            raise OpUnsupported(f"alpha {node.attrs.get('alpha')} is negative (int8 needs alpha >= 0)")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.I8)]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        positive = _requantize(graph, node, 1.0)
        negative = _requantize(graph, node, float(node.attrs["alpha"]))
        return (
            f"k::ops::int8::quantize::leaky_relu(&{positive}, &{negative}, {io.inputs[0]}, {io.outputs[0]});"
        )
