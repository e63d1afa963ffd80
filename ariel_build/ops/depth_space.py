"""DepthToSpace (DCR and CRD) and SpaceToDepth on NCHW: a reshape, a transpose and a reshape,
i.e. one strided copy (kernels/src/ops/transpose.rs)."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import OpUnsupported, in_dtype, in_shape, register
from ariel_build.ops.transpose import CopyOp, StridedCopy, transpose_copy


def _nchw(node: Node, graph: Graph) -> tuple[tuple[int, int, int, int], int]:
    shape = in_shape(node, graph)
    block = int(node.attrs.get("blocksize", 0))
    if len(shape) != 4 or block < 1:
        raise OpUnsupported(f"needs a 4-D NCHW input (got {list(shape)}) and blocksize >= 1")
    n, c, h, w = shape
    return (n, c, h, w), block


@register
class DepthToSpace(CopyOp):
    name = "DepthToSpace"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        (n, c, h, w), b = _nchw(node, graph)
        if c % (b * b):
            raise OpUnsupported(f"channels {c} not divisible by blocksize² {b * b}")
        if node.attrs.get("mode", "DCR") == "CRD":
            return transpose_copy((n, c // (b * b), b, b, h, w), [0, 1, 4, 2, 5, 3])
        return transpose_copy((n, b, b, c // (b * b), h, w), [0, 3, 4, 1, 5, 2])

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        (n, c, h, w), b = _nchw(node, graph)
        self.copy(node, graph)
        return [((n, c // (b * b), h * b, w * b), in_dtype(node, graph))]


@register
class SpaceToDepth(CopyOp):
    name = "SpaceToDepth"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        (n, c, h, w), b = _nchw(node, graph)
        if h % b or w % b:
            raise OpUnsupported(f"spatial size {h}x{w} not divisible by blocksize {b}")
        return transpose_copy((n, c, h // b, b, w // b, b), [0, 3, 5, 1, 2, 4])

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        (n, c, h, w), b = _nchw(node, graph)
        self.copy(node, graph)
        return [((n, c * b * b, h // b, w // b), in_dtype(node, graph))]
