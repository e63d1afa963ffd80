"""QAdd (and Sub with `subtract=1`): int8 addition of broadcast operands with different scales
(TFLite ADD/SUB: both inputs rescaled to twice the larger input scale with 20 bits of headroom).
Kernel: kernels/src/ops/int8/elementwise.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, broadcast_shapes, in_shape, register, rust_array
from ariel_build.ops.quantized.fixed_point import (
    activation_bounds,
    per_tensor,
    quantize_multiplier,
    require_int8,
)

LEFT_SHIFT = 20


def rust_broadcast(node: Node, graph: Graph) -> str:
    """A `k::ops::binary::Broadcast` of the two inputs onto the output (one row when shapes match)."""
    a, b = in_shape(node, graph, 0), in_shape(node, graph, 1)
    out = broadcast_shapes(a, b)
    if a == b:
        size = int(np.prod(out))
        return f"k::ops::binary::Broadcast::<1, 2> {{ shape: [{size}], strides: [[1], [1]] }}"
    rank = max(len(out), 1)
    strides = []
    for shape in (a, b):
        padded = (1,) * (rank - len(shape)) + tuple(shape)
        step, s = 1, []
        for d in reversed(padded):
            s.append(step if d != 1 else 0)
            step *= d
        strides.append(rust_array(list(reversed(s))))
    return (
        f"k::ops::binary::Broadcast::<{rank}, 2> {{ shape: {rust_array(list(out) or [1])}, "
        f"strides: [{strides[0]}, {strides[1]}] }}"
    )


class QBinary(Op):
    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0, 1)
        broadcast_shapes(in_shape(node, graph, 0), in_shape(node, graph, 1))
        per_tensor(graph, node.inputs[0], "input 0")
        per_tensor(graph, node.inputs[1], "input 1")
        activation_bounds(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(broadcast_shapes(in_shape(node, graph, 0), in_shape(node, graph, 1)), DType.I8)]


@register
class QAdd(QBinary):
    """Attributes: `activation` (TFLite fused activation), `subtract` (1: input 0 - input 1)."""

    name = "QAdd"

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s1, z1 = per_tensor(graph, node.inputs[0], "input 0")
        s2, z2 = per_tensor(graph, node.inputs[1], "input 1")
        so, zo = per_tensor(graph, node.outputs[0], "output")
        twice_max = 2.0 * max(s1, s2)
        m1, sh1 = quantize_multiplier(s1 / twice_max)
        m2, sh2 = quantize_multiplier(s2 / twice_max)
        mo, sho = quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * so))
        lo, hi = activation_bounds(node, graph)
        subtract = "true" if node.attrs.get("subtract") else "false"
        params = (
            f"k::ops::int8::elementwise::Add {{ input1_offset: {-z1}, input2_offset: {-z2}, "
            f"input1_multiplier: {m1}, input1_shift: {sh1}, input2_multiplier: {m2}, input2_shift: {sh2}, "
            f"left_shift: {LEFT_SHIFT}, output_multiplier: {mo}, output_shift: {sho}, output_offset: {zo}, "
            f"act_min: {lo}, act_max: {hi}, subtract: {subtract} }}"
        )
        return (
            f"k::ops::int8::elementwise::add(&{params}, &{rust_broadcast(node, graph)}, "
            f"{io.inputs[0]}, {io.inputs[1]}, {io.outputs[0]});"
        )
