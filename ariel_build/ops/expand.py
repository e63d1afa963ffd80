"""Expand: broadcast to a constant shape, a strided copy with step 0 on the broadcast axes
(kernels/src/ops/transpose.rs)."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import broadcast_shapes, in_dtype, in_shape, register, require_const
from ariel_build.ops.transpose import CopyOp, StridedCopy, contiguous_strides


def broadcast_copy(shape: tuple[int, ...], out: tuple[int, ...]) -> StridedCopy:
    """Reads `shape` (right-aligned) broadcast to `out`."""
    padded = (1,) * (len(out) - len(shape)) + tuple(shape)
    strides = contiguous_strides(padded)
    return StridedCopy(out, tuple(0 if d == 1 else s for d, s in zip(padded, strides, strict=True)))


@register
class Expand(CopyOp):
    name = "Expand"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        shape = in_shape(node, graph)
        target = tuple(int(d) for d in require_const(node, graph, 1, "the target shape").reshape(-1))
        return broadcast_copy(shape, broadcast_shapes(shape, target))

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(self.copy(node, graph).shape, in_dtype(node, graph))]
