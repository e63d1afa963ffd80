"""QMul: int8 product of broadcast operands, `(a - za) * (b - zb) * sa * sb / so + zo`
(TFLite MUL). Kernel: kernels/src/ops/int8/elementwise.rs."""

from __future__ import annotations

from ariel_build.ir import Graph, Node
from ariel_build.ops.base import Operands, register
from ariel_build.ops.quantized.add import QBinary, rust_broadcast
from ariel_build.ops.quantized.fixed_point import activation_bounds, per_tensor, quantize_multiplier


@register
class QMul(QBinary):
    """Attribute `activation` (TFLite fused activation)."""

    name = "QMul"

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s1, z1 = per_tensor(graph, node.inputs[0], "input 0")
        s2, z2 = per_tensor(graph, node.inputs[1], "input 1")
        so, zo = per_tensor(graph, node.outputs[0], "output")
        m, shift = quantize_multiplier(s1 * s2 / so)
        lo, hi = activation_bounds(node, graph)
        params = (
            f"k::ops::int8::elementwise::Mul {{ input1_offset: {-z1}, input2_offset: {-z2}, "
            f"output_multiplier: {m}, output_shift: {shift}, output_offset: {zo}, act_min: {lo}, act_max: {hi} }}"
        )
        return (
            f"k::ops::int8::elementwise::mul(&{params}, &{rust_broadcast(node, graph)}, "
            f"{io.inputs[0]}, {io.inputs[1]}, {io.outputs[0]});"
        )
