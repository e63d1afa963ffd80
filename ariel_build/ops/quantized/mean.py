"""QMean: int8 mean over constant axes (TFLite MEAN: the offset sum times one fixed-point
multiplier `in_scale / out_scale / count`, TFLM's integer path). Kernel: kernels/src/ops/int8/mean.rs."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, normalize_axis, register
from ariel_build.ops.quantized.fixed_point import per_tensor, quantize_multiplier, require_int8
from ariel_build.ops.transpose import contiguous_strides

MAX_AXES = 4


def _axes(node: Node, graph: Graph) -> list[int]:
    rank = len(in_shape(node, graph))
    axes = sorted({normalize_axis(int(a), rank) for a in node.attrs.get("axes", range(rank))})
    return axes


def _merged(dims: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(size, stride) axes without unit axes, neighbours merged when contiguous."""
    merged: list[tuple[int, int]] = []
    for d, s in dims:
        if d == 1:
            continue
        if merged and merged[-1][1] == s * d:
            merged[-1] = (merged[-1][0] * d, s)
        else:
            merged.append((d, s))
    return merged


@register
class QMean(Op):
    """Attributes `axes` (IR axes) and `keepdims` (0/1)."""

    name = "QMean"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        per_tensor(graph, node.inputs[0], "input")
        per_tensor(graph, node.outputs[0], "output")
        kept, reduced = self.plan(node, graph)
        if len(kept) > MAX_AXES or len(reduced) > MAX_AXES:
            raise OpUnsupported(f"more than {MAX_AXES} separate kept or reduced axes")
        if math.prod(d for d, _ in reduced) * 255 >= 2**31:
            raise OpUnsupported("too many elements per mean for an int32 sum")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        shape = in_shape(node, graph)
        axes = _axes(node, graph)
        keep = bool(node.attrs.get("keepdims", 1))
        out = tuple(1 if k in axes else d for k, d in enumerate(shape) if keep or k not in axes)
        return [(out, DType.I8)]

    def macs(self, node: Node, graph: Graph) -> int:
        return math.prod(in_shape(node, graph))

    def plan(self, node: Node, graph: Graph) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        shape = in_shape(node, graph)
        strides = contiguous_strides(shape)
        axes = _axes(node, graph)
        dims = list(zip(shape, strides, strict=True))
        kept = _merged([dims[k] for k in range(len(shape)) if k not in axes])
        reduced = _merged([dims[k] for k in axes])
        return kept, reduced

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        kept, reduced = self.plan(node, graph)
        count = math.prod(d for d, _ in reduced)
        in_scale, in_zero = per_tensor(graph, node.inputs[0], "input")
        out_scale, out_zero = per_tensor(graph, node.outputs[0], "output")
        multiplier, shift = quantize_multiplier(in_scale / out_scale)
        # Fold 1/count into the multiplier as TFLM does (truncating division, shift bounded).
        extra = min(count.bit_length() - 1, 32, 31 + shift)
        multiplier, shift = (multiplier << extra) // count, shift - extra

        def axes4(dims: list[tuple[int, int]]) -> str:
            padded = [(1, 0)] * (MAX_AXES - len(dims)) + dims
            return "[" + ", ".join(f"({d}, {s})" for d, s in padded) + "]"

        params = (
            f"k::ops::int8::mean::Mean {{ kept: {axes4(kept)}, reduced: {axes4(reduced)}, "
            f"input_zero_point: {in_zero}, multiplier: {multiplier}, shift: {shift}, "
            f"output_zero_point: {out_zero} }}"
        )
        return f"k::ops::int8::mean::mean(&{params}, {io.inputs[0]}, {io.outputs[0]});"
