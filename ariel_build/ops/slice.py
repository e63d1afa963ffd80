"""Slice with constant starts / ends / axes / steps (inputs from opset 10, attributes before):
negative indices, clamping, negative steps. One strided copy (kernels/src/ops/transpose.rs)."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import OpUnsupported, in_dtype, in_shape, normalize_axis, register, require_const
from ariel_build.ops.transpose import CopyOp, StridedCopy, contiguous_strides


def _slice_params(node: Node, graph: Graph) -> tuple[list[int], list[int], list[int], list[int]]:
    """starts, ends, axes, steps as given (one entry per sliced axis)."""
    if graph.opset < 10:
        starts = [int(v) for v in node.attrs["starts"]]
        ends = [int(v) for v in node.attrs["ends"]]
        axes = [int(v) for v in node.attrs.get("axes", range(len(starts)))]
        return starts, ends, axes, [1] * len(starts)

    def values(i: int, what: str) -> list[int]:
        return [int(v) for v in require_const(node, graph, i, what).reshape(-1)]

    starts, ends = values(1, "starts"), values(2, "ends")
    axes = values(3, "axes") if node.input(3) else list(range(len(starts)))
    steps = values(4, "steps") if node.input(4) else [1] * len(starts)
    return starts, ends, axes, steps


def slice_copy(node: Node, graph: Graph) -> StridedCopy:
    shape = in_shape(node, graph)
    starts, ends, axes, steps = _slice_params(node, graph)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise OpUnsupported(f"starts {starts}, ends {ends}, axes {axes}, steps {steps} differ in length")
    axes = [normalize_axis(a, len(shape)) for a in axes]
    if len(set(axes)) != len(axes):
        raise OpUnsupported(f"axes {axes} repeat an axis")
    first, count, step = [0] * len(shape), list(shape), [1] * len(shape)
    for axis, start, end, s in zip(axes, starts, ends, steps, strict=True):
        dim = shape[axis]
        if s == 0:
            raise OpUnsupported("a step of 0")
        start, end = start + dim if start < 0 else start, end + dim if end < 0 else end
        if s > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
        first[axis], step[axis] = start, s
        count[axis] = max(0, math.ceil((end - start) / s))
    strides = contiguous_strides(shape)
    offset = sum(f * st for f, st in zip(first, strides, strict=True)) if min(count, default=1) > 0 else 0
    return StridedCopy(tuple(count), tuple(st * s for st, s in zip(strides, step, strict=True)), offset)


@register
class Slice(CopyOp):
    name = "Slice"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        return slice_copy(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(slice_copy(node, graph).shape, in_dtype(node, graph))]
