"""Softmax, LogSoftmax, Hardmax, f32. Kernel: kernels/src/ops/softmax.rs.

Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each row is one line;
from opset 13 the op runs along the single axis `axis` (default -1)."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_shape,
    normalize_axis,
    register,
    require_dtype,
)


class SoftmaxFamily(Op):
    inplace = True
    kind: str  # kernels/src/ops/softmax.rs Kind

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        if not in_shape(node, graph):
            raise OpUnsupported("the input must have rank >= 1")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.F32)]

    def lines(self, node: Node, graph: Graph) -> tuple[int, int, int]:
        """The input as [outer, axis, inner]."""
        x = in_shape(node, graph)
        if graph.opset < 13:
            axis = normalize_axis(int(node.attrs.get("axis", 1)), len(x))
            return math.prod(x[:axis]), math.prod(x[axis:]), 1
        axis = normalize_axis(int(node.attrs.get("axis", -1)), len(x))
        return math.prod(x[:axis]), x[axis], math.prod(x[axis + 1 :])

    def params(self, node: Node, graph: Graph) -> tuple[str, int]:
        outer, axis, inner = self.lines(node, graph)
        kind = f"k::ops::softmax::Kind::{self.kind}"
        return (
            f"k::ops::softmax::Softmax {{ outer: {outer}, axis: {axis}, inner: {inner}, kind: {kind} }}",
            outer,
        )

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        params, outer = self.params(node, graph)
        return f"k::ops::softmax::softmax(&{params}, {io.inputs[0]}, {io.outputs[0]}, 0..{outer});"

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        params, outer = self.params(node, graph)
        return f"k::ops::softmax::softmax_inplace(&{params}, {io.outputs[0]}, 0..{outer});"


@register
class Softmax(SoftmaxFamily):
    name = "Softmax"
    kind = "Softmax"


@register
class LogSoftmax(SoftmaxFamily):
    name = "LogSoftmax"
    kind = "LogSoftmax"


@register
class Hardmax(SoftmaxFamily):
    name = "Hardmax"
    kind = "Hardmax"
