"""MaxPool, AveragePool (1-D and 2-D) and the global pools, f32 NCHW. Kernel: kernels/src/ops/pool.rs.

The kernels run over planes (batch x channels), the parallel axis."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register, require_dtype
from ariel_build.ops.window import Window, window


def _planes(node: Node, graph: Graph) -> tuple[int, ...]:
    """Input shape, checked to be [N, C, spatial...] and not empty."""
    x = in_shape(node, graph)
    if len(x) < 3:
        raise OpUnsupported(f"input {list(x)} must be [N, C, spatial...]")
    if min(x) < 1:
        raise OpUnsupported(f"empty input {list(x)}")
    return x


class WindowPool(Op):
    kernel_function: str  # in kernels/src/ops/pool.rs

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        if "kernel_shape" not in node.attrs:
            raise OpUnsupported("attribute kernel_shape is required")

    def geometry(self, node: Node, graph: Graph) -> Window:
        x = _planes(node, graph)
        kernel = tuple(int(k) for k in node.attrs["kernel_shape"])
        win = window(node, x[2:], kernel, ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
        if any(a.has_empty_window() for a in win.axes):
            raise OpUnsupported("a pooling window lies entirely in the padding (pads too large)")
        return win

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x = in_shape(node, graph)
        return [((x[0], x[1], *self.geometry(node, graph).out_spatial), DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        """One comparison or addition per tap of every output."""
        return graph.tensor(node.outputs[0]).size * self.geometry(node, graph).taps

    def extra_args(self, node: Node) -> str:
        return ""

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        x = in_shape(node, graph)
        win = self.geometry(node, graph).rust()
        return (
            f"k::ops::pool::{self.kernel_function}(&{win}, {self.extra_args(node)}"
            f"{io.inputs[0]}, {io.outputs[0]}, 0..{x[0] * x[1]});"
        )


@register
class MaxPool(WindowPool):
    name = "MaxPool"
    kernel_function = "max_pool"

    def check(self, node: Node, graph: Graph) -> None:
        super().check(node, graph)
        if len([o for o in node.outputs if o]) > 1:
            raise OpUnsupported("the Indices output (argmax positions) is not supported; use only Y")


@register
class AveragePool(WindowPool):
    name = "AveragePool"
    kernel_function = "average_pool"

    def check(self, node: Node, graph: Graph) -> None:
        super().check(node, graph)
        if any(int(d) != 1 for d in node.attrs.get("dilations", [])):
            raise OpUnsupported("dilations other than 1 are not supported for AveragePool")

    def extra_args(self, node: Node) -> str:
        return "true, " if int(node.attrs.get("count_include_pad", 0)) else "false, "


class GlobalPool(Op):
    kernel_function: str

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        _planes(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        x = _planes(node, graph)
        return [((x[0], x[1]) + (1,) * (len(x) - 2), DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return graph.tensor(node.inputs[0]).size

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        x = in_shape(node, graph)
        plane = math.prod(x[2:])
        return f"k::ops::pool::{self.kernel_function}({plane}, {io.inputs[0]}, {io.outputs[0]}, 0..{x[0] * x[1]});"


@register
class GlobalMaxPool(GlobalPool):
    name = "GlobalMaxPool"
    kernel_function = "global_max_pool"


@register
class GlobalAveragePool(GlobalPool):
    name = "GlobalAveragePool"
    kernel_function = "global_average_pool"
