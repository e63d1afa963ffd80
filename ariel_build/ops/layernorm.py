"""LayerNormalization (all three outputs) and InstanceNormalization, f32.
Kernel: kernels/src/ops/layernorm.rs; the parallel axis is rows (planes)."""

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
    require_dtype,
    rust_f32,
)


def _suffix_len(shape: tuple[int, ...], normalized: tuple[int, ...], what: str) -> int:
    """Elements of a Scale/B that broadcasts as a trailing block of the normalized dimensions."""
    trimmed = list(shape)
    while trimmed and trimmed[0] == 1:
        trimmed.pop(0)
    tail = list(normalized[len(normalized) - len(trimmed) :]) if trimmed else []
    if len(trimmed) > len(normalized) or trimmed != tail:
        raise OpUnsupported(
            f"{what} {list(shape)} must equal the trailing normalized dimensions {list(normalized)}"
        )
    return math.prod(trimmed)


@register
class LayerNormalization(Op):
    name = "LayerNormalization"

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(len(node.inputs)):
            if node.input(i):
                require_dtype(node, graph, (DType.F32,), i)

    def split(self, node: Node, graph: Graph) -> tuple[int, int]:
        """(rows, row length): the dimensions before `axis` and from `axis` on."""
        x = in_shape(node, graph)
        axis = normalize_axis(int(node.attrs.get("axis", -1)), len(x))
        normalized = x[axis:]
        _suffix_len(in_shape(node, graph, 1), normalized, "Scale")
        if node.input(2):
            _suffix_len(in_shape(node, graph, 2), normalized, "B")
        return math.prod(x[:axis]), math.prod(normalized)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x = in_shape(node, graph)
        self.split(node, graph)
        axis = normalize_axis(int(node.attrs.get("axis", -1)), len(x))
        stats = x[:axis] + (1,) * (len(x) - axis)
        return [(x, DType.F32), (stats, DType.F32), (stats, DType.F32)][: len(node.outputs)]

    def macs(self, node: Node, graph: Graph) -> int:
        return 4 * graph.tensor(node.inputs[0]).size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        rows, length = self.split(node, graph)
        eps = rust_f32(float(node.attrs.get("epsilon", 1e-5)))
        params = f"k::ops::layernorm::LayerNorm {{ len: {length}, epsilon: {eps} }}"
        bias = f"Some({io.inputs[2]})" if len(io.inputs) > 2 and io.inputs[2] else "None"
        # io.outputs lists only the outputs the model names; Mean and InvStdDev are optional.
        named = iter(io.outputs[1:])
        stats = [
            f"Some({next(named)})" if k < len(node.outputs) and node.outputs[k] else "None" for k in (1, 2)
        ]
        x, scale, y = io.inputs[0], io.inputs[1], io.outputs[0]
        return f"k::ops::layernorm::layer_norm(&{params}, {x}, {scale}, {bias}, {y}, {stats[0]}, {stats[1]}, 0..{rows});"


@register
class InstanceNormalization(Op):
    name = "InstanceNormalization"

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(3):
            require_dtype(node, graph, (DType.F32,), i)
        x = in_shape(node, graph)
        if len(x) < 3:
            raise OpUnsupported(f"input {list(x)} must be [N, C, spatial...]")
        for i, what in ((1, "scale"), (2, "B")):
            if in_shape(node, graph, i) != (x[1],):
                raise OpUnsupported(f"{what} {list(in_shape(node, graph, i))} is not [{x[1]}]")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return 4 * graph.tensor(node.inputs[0]).size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        x = in_shape(node, graph)
        eps = rust_f32(float(node.attrs.get("epsilon", 1e-5)))
        x_in, scale, bias = io.inputs
        return (
            f"k::ops::layernorm::instance_norm({math.prod(x[2:])}, {x[1]}, {eps}, {x_in}, {scale}, {bias}, "
            f"{io.outputs[0]}, 0..{x[0] * x[1]});"
        )
