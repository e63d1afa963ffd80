"""QAveragePool and QMaxPool: int8 pools over NCHW planes (TFLite AVERAGE_POOL_2D, MAX_POOL_2D).
Input and output share scale and zero point (TFLM requires it). Kernel: kernels/src/ops/int8/pool.rs."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register
from ariel_build.ops.quantized.fixed_point import activation_bounds, per_tensor, require_int8
from ariel_build.ops.window import Window, ints_attr, window


def _window(node: Node, graph: Graph) -> Window:
    x = in_shape(node, graph)
    if len(x) != 4:
        raise OpUnsupported(f"input {list(x)} must be [N, C, H, W]")
    return window(node, x[2:], tuple(ints_attr(node, "kernel_shape", 2, 1)))


class QPool(Op):
    function: str

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0)
        if per_tensor(graph, node.inputs[0], "input") != per_tensor(graph, node.outputs[0], "output"):
            raise OpUnsupported("input and output quantization must be equal")
        win = _window(node, graph)
        if any(a.has_empty_window() for a in win.axes):
            raise OpUnsupported("a window lies entirely in the padding")
        activation_bounds(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x = in_shape(node, graph)
        return [((x[0], x[1], *_window(node, graph).out_spatial), DType.I8)]

    def macs(self, node: Node, graph: Graph) -> int:
        x = in_shape(node, graph)
        win = _window(node, graph)
        return x[0] * x[1] * math.prod(win.out_spatial) * win.taps

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        x = in_shape(node, graph)
        lo, hi = activation_bounds(node, graph)
        planes = x[0] * x[1]
        return (
            f"k::ops::int8::pool::{self.function}(&{_window(node, graph).rust()}, {io.inputs[0]}, "
            f"{io.outputs[0]}, 0..{planes}, {lo}, {hi});"
        )


@register
class QAveragePool(QPool):
    name = "QAveragePool"
    function = "average_pool"


@register
class QMaxPool(QPool):
    name = "QMaxPool"
    function = "max_pool"
