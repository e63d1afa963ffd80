"""Reduce* (Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp) and ArgMax / ArgMin, f32 input.
Kernel: kernels/src/ops/reduce.rs; the parallel axis is the outputs.

Axes come from the `axes` attribute, or from a constant second input (ReduceSum from opset 13,
the others from 18). No axes reduces everything, unless `noop_with_empty_axes` is set: then each
output reduces just its own element (ReduceSumSquare squares, ReduceL1 takes |x|, ...)."""

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
    require_const,
    require_dtype,
    rust_array,
)
from ariel_build.ops.transpose import contiguous_strides

MAX_DIMS = 4  # kernels/src/ops/reduce.rs MAX_DIMS


def _axes_from_input(node: Node, graph: Graph) -> bool:
    return graph.opset >= (13 if node.op == "ReduceSum" else 18)


def reduced_axes(node: Node, graph: Graph) -> set[int]:
    rank = len(in_shape(node, graph))
    if _axes_from_input(node, graph):
        axes = [int(a) for a in require_const(node, graph, 1, "axes")] if node.input(1) else []
        if not axes and int(node.attrs.get("noop_with_empty_axes", 0)):
            return set()
    else:
        axes = [int(a) for a in node.attrs.get("axes", [])]
    if not axes:
        return set(range(rank))
    normalized = {normalize_axis(a, rank) for a in axes}
    if len(normalized) != len(axes):
        raise OpUnsupported(f"axes {axes} repeat an axis")
    return normalized


def _merged(shape: tuple[int, ...], reduced: set[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(kept, reduced) lists of (size, stride): size-1 axes dropped, neighbours of a kind merged."""
    strides = contiguous_strides(shape)
    groups: list[tuple[bool, int, int]] = []  # (reduced, size, stride)
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if groups and groups[-1][0] == (d in reduced):
            groups[-1] = (d in reduced, groups[-1][1] * size, strides[d])
        else:
            groups.append((d in reduced, size, strides[d]))
    kept = [(s, st) for r, s, st in groups if not r]
    red = [(s, st) for r, s, st in groups if r]
    if len(kept) > MAX_DIMS or len(red) > MAX_DIMS:
        raise OpUnsupported(f"the axes interleave too finely (more than {MAX_DIMS} separate groups)")
    return kept, red


def _padded(dims: list[tuple[int, int]]) -> tuple[str, str]:
    dims = [(1, 0)] * (MAX_DIMS - len(dims)) + dims
    return rust_array([s for s, _ in dims]), rust_array([st for _, st in dims])


class Reduce(Op):
    kind: str  # kernels/src/ops/reduce.rs Kind

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        if min(in_shape(node, graph), default=1) < 1:
            raise OpUnsupported(f"empty input {list(in_shape(node, graph))}")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x = in_shape(node, graph)
        axes = reduced_axes(node, graph)
        _merged(x, axes)  # rejects what the kernel cannot describe
        keep = int(node.attrs.get("keepdims", 1))
        out = (
            tuple(1 if d in axes else n for d, n in enumerate(x))
            if keep
            else tuple(n for d, n in enumerate(x) if d not in axes)
        )
        return [(out, DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return graph.tensor(node.inputs[0]).size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        kept, red = _merged(in_shape(node, graph), reduced_axes(node, graph))
        (ks, kst), (rs, rst) = _padded(kept), _padded(red)
        params = (
            f"k::ops::reduce::Reduce {{ kept: {ks}, kept_strides: {kst}, reduced: {rs}, "
            f"reduced_strides: {rst}, kind: k::ops::reduce::Kind::{self.kind} }}"
        )
        n = graph.tensor(node.outputs[0]).size
        return f"k::ops::reduce::reduce(&{params}, {io.inputs[0]}, {io.outputs[0]}, 0..{n});"


for _op, _kind in {
    "ReduceSum": "Sum",
    "ReduceMean": "Mean",
    "ReduceMax": "Max",
    "ReduceMin": "Min",
    "ReduceProd": "Prod",
    "ReduceL1": "L1",
    "ReduceL2": "L2",
    "ReduceSumSquare": "SumSquare",
    "ReduceLogSum": "LogSum",
    "ReduceLogSumExp": "LogSumExp",
}.items():
    register(type(_op, (Reduce,), {"name": _op, "kind": _kind}))


class ArgReduce(Op):
    is_max: bool

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        x = in_shape(node, graph)
        if not x or min(x) < 1:
            raise OpUnsupported(f"input {list(x)} must be non-empty with rank >= 1")

    def axis(self, node: Node, graph: Graph) -> int:
        return normalize_axis(int(node.attrs.get("axis", 0)), len(in_shape(node, graph)))

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x, axis = in_shape(node, graph), self.axis(node, graph)
        keep = (1,) if int(node.attrs.get("keepdims", 1)) else ()
        return [((*x[:axis], *keep, *x[axis + 1 :]), DType.I64)]

    def macs(self, node: Node, graph: Graph) -> int:
        return graph.tensor(node.inputs[0]).size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        x, axis = in_shape(node, graph), self.axis(node, graph)
        inner = math.prod(x[axis + 1 :])
        last = str(bool(int(node.attrs.get("select_last_index", 0)))).lower()
        params = (
            f"k::ops::reduce::ArgReduce {{ axis: {x[axis]}, inner: {inner}, "
            f"max: {str(self.is_max).lower()}, last: {last} }}"
        )
        n = graph.tensor(node.outputs[0]).size
        return f"k::ops::reduce::arg_reduce(&{params}, {io.inputs[0]}, {io.outputs[0]}, 0..{n});"


@register
class ArgMax(ArgReduce):
    name = "ArgMax"
    is_max = True


@register
class ArgMin(ArgReduce):
    name = "ArgMin"
    is_max = False
