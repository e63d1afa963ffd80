"""Concat: any axis, any number of inputs (runtime or constant), any element type.
Kernel: kernels/src/ops/concat.rs (one contiguous run per input per output row)."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_dtype,
    normalize_axis,
    register,
    rust_array,
)


def _parts(node: Node, graph: Graph) -> tuple[int, list[tuple[int, ...]]]:
    """The normalized axis and the input shapes, checked to agree off the axis."""
    names = [i for i in node.inputs if i]
    if not names:
        raise OpUnsupported("Concat needs at least one input")
    shapes = [graph.tensor(i).shape for i in names]
    rank = len(shapes[0])
    if "axis" not in node.attrs and graph.opset >= 4:
        raise OpUnsupported("attribute axis is required")
    axis = normalize_axis(int(node.attrs.get("axis", 1)), rank)
    dtype = in_dtype(node, graph)
    for name, shape in zip(names, shapes, strict=True):
        if graph.tensor(name).dtype != dtype:
            raise OpUnsupported(
                f"inputs mix element types {dtype.numpy_name} and {graph.tensor(name).dtype.numpy_name}"
            )
        if len(shape) != rank or any(
            a != b for k, (a, b) in enumerate(zip(shape, shapes[0], strict=True)) if k != axis
        ):
            raise OpUnsupported(f"input shapes {[list(s) for s in shapes]} differ off axis {axis}")
    return axis, shapes


@register
class Concat(Op):
    name = "Concat"

    def check(self, node: Node, graph: Graph) -> None:
        _parts(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        axis, shapes = _parts(node, graph)
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return [(tuple(out), in_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        axis, shapes = _parts(node, graph)
        runs = [int(np.prod(s[axis:])) for s in shapes]
        parts = [v for v in io.inputs if v is not None]
        return f"k::ops::concat::concat([{', '.join(parts)}], &{rust_array(runs)}, {io.outputs[0]});"
