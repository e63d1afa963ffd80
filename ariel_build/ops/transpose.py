"""Transpose, and the strided-copy plan every data-movement op that is one lowers to.
Kernel: kernels/src/ops/transpose.rs.

A `StridedCopy` says: output element (i0, .., ik) = input[offset + sum(i_j * strides[j])]. At
build time it merges axes that stay adjacent and drops unit axes, so the kernel walks the fewest
axes and copies whole contiguous runs with `copy_from_slice`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_dtype, in_shape, register, rust_array

Shape = tuple[int, ...]


def contiguous_strides(shape: Shape) -> tuple[int, ...]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


@dataclass(frozen=True)
class StridedCopy:
    shape: Shape  # output shape
    strides: tuple[int, ...]  # input step per output axis, in elements
    offset: int = 0

    def simplified(self) -> StridedCopy:
        """Unit axes dropped, then axis k merged into k+1 when stride[k] = stride[k+1] * shape[k+1]."""
        axes = [(d, s) for d, s in zip(self.shape, self.strides, strict=True) if d != 1]
        merged: list[tuple[int, int]] = []
        for d, s in axes:
            if merged and merged[-1][1] == s * d:
                merged[-1] = (merged[-1][0] * d, s)
            else:
                merged.append((d, s))
        merged = merged or [(1, 1)]
        return StridedCopy(tuple(d for d, _ in merged), tuple(s for _, s in merged), self.offset)

    def source_indices(self) -> np.ndarray:
        """The input index of every output element (for build-time checks and tests)."""
        index = np.full(self.shape, self.offset, np.int64)
        for axis, (d, s) in enumerate(zip(self.shape, self.strides, strict=True)):
            index += (np.arange(d, dtype=np.int64) * s).reshape(
                [-1 if k == axis else 1 for k in range(len(self.shape))]
            )
        return index

    def emit(self, x: str, y: str, in_size: int) -> str:
        """The kernel call; chooses a single copy or a blocked transpose when the plan is one."""
        plan = self.simplified()
        size = int(np.prod(plan.shape))
        if size == 0:
            return "// empty output: nothing to copy"
        index = plan.source_indices()
        if index.min() < 0 or index.max() >= in_size:
            raise OpUnsupported(f"strided copy reads outside the input ({in_size} elements)")
        if plan.strides[-1] == 1 and len(plan.shape) == 1:
            return f"{y}.copy_from_slice(&{x}[{plan.offset}..{plan.offset + size}]);"
        transpose = plan.as_transpose_2d()
        if transpose is not None:
            batch, rows, cols = transpose
            params = f"k::ops::transpose::Transpose2d {{ batch: {batch}, rows: {rows}, cols: {cols} }}"
            return f"k::ops::transpose::transpose_2d(&{params}, {x}, {y});"
        params = (
            f"k::ops::transpose::Strided {{ shape: {rust_array(plan.shape)}, "
            f"strides: {rust_array(plan.strides)}, offset: {plan.offset} }}"
        )
        return f"k::ops::transpose::copy_strided(&{params}, {x}, {y});"

    def as_transpose_2d(self) -> tuple[int, int, int] | None:
        """(batch, rows, cols) when this copies `batch` [rows, cols] matrices into [cols, rows]."""
        if self.offset != 0 or len(self.shape) not in (2, 3):
            return None
        *outer, cols, rows = self.shape
        batch = outer[0] if outer else 1
        want = ((rows * cols,) if outer else ()) + (1, cols)
        return (batch, rows, cols) if self.strides == want else None


def transpose_copy(shape: Shape, perm: list[int]) -> StridedCopy:
    strides = contiguous_strides(shape)
    return StridedCopy(tuple(shape[p] for p in perm), tuple(strides[p] for p in perm))


def transpose_perm(node: Node, rank: int) -> list[int]:
    perm = [int(p) for p in node.attrs.get("perm", range(rank - 1, -1, -1))]
    if sorted(p % rank if rank else p for p in perm) != list(range(rank)) or any(
        not -rank <= p < rank for p in perm
    ):
        raise OpUnsupported(f"perm {perm} is not a permutation of the {rank} axes")
    return [p % rank for p in perm]


def emit_copy(copy: StridedCopy, node: Node, graph: Graph, io: Operands) -> str:
    """Emits `copy` from input 0 to output 0."""
    assert io.inputs[0] is not None
    return copy.emit(io.inputs[0], io.outputs[0], graph.tensor(node.inputs[0]).size)


class CopyOp(Op):
    """An op that is one strided copy of input 0 (other inputs are build-time parameters)."""

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        raise NotImplementedError

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return emit_copy(self.copy(node, graph), node, graph, io)


@register
class Transpose(CopyOp):
    name = "Transpose"

    def copy(self, node: Node, graph: Graph) -> StridedCopy:
        shape = in_shape(node, graph)
        return transpose_copy(shape, transpose_perm(node, len(shape)))

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, DType]]:
        return [(self.copy(node, graph).shape, in_dtype(node, graph))]
