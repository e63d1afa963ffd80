"""Ops that only reinterpret their input's shape: no code, the output shares the input's buffer."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, OpUnsupported, in_dtype, in_shape, normalize_axis, register, require_const


class View(Op):
    view = True

    def macs(self, node: Node, graph: Graph) -> int:
        return 0


@register
class Reshape(View):
    name = "Reshape"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        if graph.opset < 5:
            target = [int(v) for v in node.attrs["shape"]]
        else:
            target = [int(v) for v in require_const(node, graph, 1, "the target shape")]
        allow_zero = int(node.attrs.get("allowzero", 0))
        shape = [src[k] if v == 0 and not allow_zero else v for k, v in enumerate(target)]
        if shape.count(-1) > 1:
            raise OpUnsupported("more than one -1 in the target shape")
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(src)) // known if known else 0
        if int(np.prod(shape)) != int(np.prod(src)):
            raise OpUnsupported(f"cannot reshape {src} into {target}")
        return [(tuple(shape), in_dtype(node, graph))]


@register
class Flatten(View):
    name = "Flatten"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        axis = normalize_axis(int(node.attrs.get("axis", 1)), len(src) + 1) if src else 0
        outer = int(np.prod(src[:axis]))
        return [((outer, int(np.prod(src[axis:]))), in_dtype(node, graph))]


@register
class Identity(View):
    name = "Identity"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), in_dtype(node, graph))]
