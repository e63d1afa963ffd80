"""Split: sizes from the `split` attribute (opset < 13) or constant input (13+), `num_outputs`
(18+), or equal parts. Each output is one strided copy (kernels/src/ops/transpose.rs) of
contiguous runs."""

from __future__ import annotations

import math

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_dtype,
    in_shape,
    normalize_axis,
    register,
    require_const,
)
from ariel_build.ops.transpose import StridedCopy


def split_sizes(node: Node, graph: Graph) -> tuple[int, list[int]]:
    shape = in_shape(node, graph)
    axis = normalize_axis(int(node.attrs.get("axis", 0)), len(shape))
    length, parts = shape[axis], len(node.outputs)
    if graph.opset < 13 and "split" in node.attrs:
        sizes = [int(s) for s in node.attrs["split"]]
    elif graph.opset >= 13 and node.input(1):
        sizes = [int(s) for s in require_const(node, graph, 1, "split").reshape(-1)]
    elif "num_outputs" in node.attrs:
        chunk = math.ceil(length / int(node.attrs["num_outputs"]))
        sizes = [min(chunk, length - k * chunk) for k in range(int(node.attrs["num_outputs"]))]
    else:
        if length % parts:
            raise OpUnsupported(f"axis length {length} does not split into {parts} equal parts")
        sizes = [length // parts] * parts
    if len(sizes) != parts or sum(sizes) != length or min(sizes) < 0:
        raise OpUnsupported(f"split sizes {sizes} do not cut length {length} into {parts} outputs")
    return axis, sizes


@register
class Split(Op):
    name = "Split"

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]

    def check(self, node: Node, graph: Graph) -> None:
        split_sizes(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        shape = in_shape(node, graph)
        axis, sizes = split_sizes(node, graph)
        return [((*shape[:axis], s, *shape[axis + 1 :]), in_dtype(node, graph)) for s in sizes]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        shape = in_shape(node, graph)
        axis, sizes = split_sizes(node, graph)
        outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1 :]))
        row = shape[axis] * inner
        assert io.inputs[0] is not None
        outputs = iter(io.outputs)  # one variable per named output
        lines, start = [], 0
        for name, size in zip(node.outputs, sizes, strict=True):
            if name:
                copy = StridedCopy((outer, size * inner), (row, 1), start * inner)
                lines.append(copy.emit(io.inputs[0], next(outputs), graph.tensor(node.inputs[0]).size))
            start += size
        return "\n".join(lines)
