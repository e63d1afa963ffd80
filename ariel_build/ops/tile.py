"""Tile with constant repeats: each axis d becomes (repeat, d) read with step (0, stride), one
strided copy (kernels/src/ops/transpose.rs)."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import OpUnsupported, in_dtype, in_shape, register, require_const
from ariel_build.ops.transpose import CopyOp, StridedCopy, contiguous_strides


@register
class Tile(CopyOp):
    name = "Tile"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        shape = in_shape(node, graph)
        if graph.opset < 6:
            raise OpUnsupported("Tile before opset 6 (tiles/axis inputs) is not supported")
        repeats = [int(r) for r in require_const(node, graph, 1, "repeats").reshape(-1)]
        if len(repeats) != len(shape) or min(repeats, default=0) < 0:
            raise OpUnsupported(f"repeats {repeats} must be one non-negative count per axis of {list(shape)}")
        out_shape: list[int] = []
        strides: list[int] = []
        for d, s, r in zip(shape, contiguous_strides(shape), repeats, strict=True):
            out_shape += [r, d]
            strides += [0, s]
        return StridedCopy(tuple(out_shape), tuple(strides))

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        copy = self.copy(node, graph)
        return [
            (
                tuple(r * d for r, d in zip(copy.shape[::2], copy.shape[1::2], strict=True)),
                in_dtype(node, graph),
            )
        ]
