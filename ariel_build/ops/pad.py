"""Pad: constant / reflect / edge / wrap, any rank and element type, negative pads crop.
Kernel: kernels/src/ops/pad.rs. Pads, axes and the constant value must be build-time constants."""

from __future__ import annotations

from dataclasses import dataclass

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
    rust_literal,
)

MODES = {"constant": "Constant", "reflect": "Reflect", "edge": "Edge", "wrap": "Wrap"}


@dataclass(frozen=True)
class PadSpec:
    begin: tuple[int, ...]
    end: tuple[int, ...]
    mode: str
    value: float | int

    def out_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(d + b + e for d, b, e in zip(shape, self.begin, self.end, strict=True))


def pad_spec(node: Node, graph: Graph) -> PadSpec:
    shape = in_shape(node, graph)
    rank = len(shape)
    mode = node.attrs.get("mode", "constant")
    if mode not in MODES or (mode == "wrap" and graph.opset < 19):
        raise OpUnsupported(f"mode '{mode}' is not supported (constant, reflect, edge; wrap from opset 19)")
    if graph.opset < 11:
        pads = [int(p) for p in node.attrs.get("pads", node.attrs.get("paddings", []))]
        value: float | int = float(node.attrs.get("value", 0.0))
        axes = list(range(rank))
    else:
        pads = [int(p) for p in require_const(node, graph, 1, "pads").reshape(-1)]
        value_input = (
            require_const(node, graph, 2, "the constant value")
            if node.input(2)
            else np.zeros((), in_dtype(node, graph).numpy)
        )
        if value_input.size != 1:
            raise OpUnsupported("the constant value (input 2) must hold one element")
        value = value_input.reshape(-1)[0].item()
        axes_input = require_const(node, graph, 3, "axes") if node.input(3) else np.arange(rank)
        axes = [normalize_axis(int(a), rank) for a in axes_input.reshape(-1)]
    if len(pads) != 2 * len(axes) or len(set(axes)) != len(axes):
        raise OpUnsupported(f"{len(pads)} pads for axes {axes} (need 2 per axis, each axis once)")
    begin, end = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        begin[axis], end[axis] = pads[k], pads[k + len(axes)]
    spec = PadSpec(tuple(begin), tuple(end), mode, value)
    if min(shape, default=1) < 1 or min(spec.out_shape(shape), default=1) < 1:
        raise OpUnsupported(f"empty input {list(shape)} or output {list(spec.out_shape(shape))}")
    if mode == "reflect" and any(max(b, e) >= d for d, b, e in zip(shape, begin, end, strict=True)):
        raise OpUnsupported(f"reflect pads {pads} must be smaller than the padded dimensions {list(shape)}")
    return spec


@register
class Pad(Op):
    name = "Pad"

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]

    def check(self, node: Node, graph: Graph) -> None:
        pad_spec(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(pad_spec(node, graph).out_shape(in_shape(node, graph)), in_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        spec = pad_spec(node, graph)
        shape = in_shape(node, graph)
        params = (
            f"k::ops::pad::Pad {{ in_shape: {list(shape)}, out_shape: {list(spec.out_shape(shape))}, "
            f"begin: {list(spec.begin)}, mode: k::ops::pad::PadMode::{MODES[spec.mode]} }}"
        )
        value = rust_literal(spec.value, in_dtype(node, graph))
        return f"k::ops::pad::pad(&{params}, {io.inputs[0]}, {io.outputs[0]}, {value});"
