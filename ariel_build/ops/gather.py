"""Gather and GatherElements. Kernel: kernels/src/ops/gather.rs.

Gather with constant indices is checked at build time; a progression of indices (one index,
a range, a reversed range) becomes a strided copy. Indices read at run time (i64 or i32) are
resolved by the kernel: negative ones count from the end and any still outside [0, n) are
clamped to 0 or n - 1 (ONNX leaves them undefined; this never reads out of bounds)."""

from __future__ import annotations

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
    require_dtype,
    rust_array,
)
from ariel_build.ops.transpose import StridedCopy, contiguous_strides, emit_copy

INDEX_TYPES = (DType.I64, DType.I32)


def _constant_indices(node: Node, graph: Graph, axis_len: int) -> np.ndarray | None:
    """Constant indices made non-negative, or None when they are read at run time."""
    indices = graph.const(node.input(1))
    if indices is None:
        return None
    if indices.size and (indices.min() < -axis_len or indices.max() >= axis_len):
        raise OpUnsupported(f"constant indices outside [-{axis_len}, {axis_len})")
    return np.where(indices < 0, indices + axis_len, indices).astype(np.int64)


def _geometry(node: Node, graph: Graph) -> tuple[int, int, int, int]:
    """axis, outer, axis length, inner of the data tensor."""
    shape = in_shape(node, graph)
    if not shape:
        raise OpUnsupported("data must have rank >= 1")
    axis = normalize_axis(int(node.attrs.get("axis", 0)), len(shape))
    if shape[axis] < 1:
        raise OpUnsupported(f"empty gather axis in data shape {list(shape)}")
    return axis, int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1 :]))


def _progression(indices: np.ndarray, outer: int, axis_len: int, inner: int) -> StridedCopy | None:
    flat = indices.reshape(-1)
    if flat.size == 0:
        return None
    steps = np.diff(flat)
    if steps.size and not (steps == steps[0]).all():
        return None
    step = int(steps[0]) if steps.size else 1
    return StridedCopy((outer, flat.size, inner), (axis_len * inner, step * inner, 1), int(flat[0]) * inner)


@register
class Gather(Op):
    name = "Gather"

    def copy(self, node: Node, graph: Graph) -> StridedCopy | None:
        _, outer, axis_len, inner = _geometry(node, graph)
        indices = _constant_indices(node, graph, axis_len)
        return None if indices is None else _progression(indices, outer, axis_len, inner)

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0] if self.copy(node, graph) is not None else [0, 1]

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, INDEX_TYPES, 1)
        _, _, axis_len, _ = _geometry(node, graph)
        _constant_indices(node, graph, axis_len)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        shape = in_shape(node, graph)
        axis = _geometry(node, graph)[0]
        return [((*shape[:axis], *in_shape(node, graph, 1), *shape[axis + 1 :]), in_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        copy = self.copy(node, graph)
        if copy is not None:
            return emit_copy(copy, node, graph, io)
        _, outer, axis_len, inner = _geometry(node, graph)
        params = f"k::ops::gather::Gather {{ outer: {outer}, axis_len: {axis_len}, inner: {inner} }}"
        return f"k::ops::gather::gather(&{params}, {io.inputs[0]}, {io.inputs[1]}, {io.outputs[0]});"


@register
class GatherElements(Op):
    """Indices outside the data are handled like Gather's (wrap once, then clamp)."""

    name = "GatherElements"

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, INDEX_TYPES, 1)
        shape, index_shape = in_shape(node, graph), in_shape(node, graph, 1)
        axis = normalize_axis(int(node.attrs.get("axis", 0)), len(shape))
        if len(index_shape) != len(shape) or any(
            i > d for k, (i, d) in enumerate(zip(index_shape, shape, strict=True)) if k != axis
        ):
            raise OpUnsupported(f"indices {list(index_shape)} do not fit data {list(shape)} off axis {axis}")
        if shape[axis] < 1:
            raise OpUnsupported(f"empty gather axis in data shape {list(shape)}")
        _constant_indices(node, graph, shape[axis])

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph, 1), in_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        shape, index_shape = in_shape(node, graph), in_shape(node, graph, 1)
        if int(np.prod(index_shape)) == 0:
            return "// empty output: nothing to gather"
        axis = normalize_axis(int(node.attrs.get("axis", 0)), len(shape))
        params = (
            f"k::ops::gather::GatherElements {{ shape: {rust_array(index_shape)}, "
            f"x_strides: {rust_array(contiguous_strides(shape))}, axis: {axis}, axis_len: {shape[axis]} }}"
        )
        return f"k::ops::gather::gather_elements(&{params}, {io.inputs[0]}, {io.inputs[1]}, {io.outputs[0]});"
