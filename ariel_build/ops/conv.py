"""Conv, f32, NCHW, 1-D and 2-D, any groups. Kernel: kernels/src/ops/conv.rs (pointwise and
windowed paths; depthwise is the windowed path with one input channel per group)."""

from __future__ import annotations

from dataclasses import dataclass

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.activation import FusesActivation, rust_act
from ariel_build.ops.base import Operands, OpUnsupported, in_shape, register, require_dtype
from ariel_build.ops.window import Window, window


@dataclass(frozen=True)
class ConvShape:
    batch: int
    c_in: int
    c_out: int
    groups: int
    win: Window

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.batch, self.c_out, *self.win.out_spatial)

    @property
    def macs(self) -> int:
        out = self.batch * self.c_out
        for d in self.win.out_spatial:
            out *= d
        return out * (self.c_in // self.groups) * self.win.taps


def conv_shape(node: Node, graph: Graph) -> ConvShape:
    x, w = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if len(x) < 3 or len(w) != len(x):
        raise OpUnsupported(f"input {list(x)} and weight {list(w)} must both be [N, C, spatial...]")
    groups = int(node.attrs.get("group", 1))
    batch, c_in, c_out = x[0], x[1], w[0]
    if groups < 1 or c_in % groups or c_out % groups or w[1] * groups != c_in:
        raise OpUnsupported(f"group {groups} does not fit input channels {c_in} and weight {list(w)}")
    if min(batch, c_in, c_out) < 1:
        raise OpUnsupported(f"empty input {list(x)} or weight {list(w)}")
    kernel = tuple(w[2:])
    if "kernel_shape" in node.attrs and tuple(int(k) for k in node.attrs["kernel_shape"]) != kernel:
        raise OpUnsupported(
            f"kernel_shape {list(node.attrs['kernel_shape'])} differs from the weight {list(w)}"
        )
    if node.input(2) and in_shape(node, graph, 2) != (c_out,):
        raise OpUnsupported(f"bias shape {list(in_shape(node, graph, 2))} is not [{c_out}]")
    return ConvShape(batch, c_in, c_out, groups, window(node, tuple(x[2:]), kernel))


@register
class Conv(FusesActivation):
    name = "Conv"

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(len(node.inputs)):
            if node.input(i):
                require_dtype(node, graph, (DType.F32,), i)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(conv_shape(node, graph).out_shape, DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return conv_shape(node, graph).macs

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = conv_shape(node, graph)
        params = (
            f"k::ops::conv::Conv {{ batch: {s.batch}, c_in: {s.c_in}, c_out: {s.c_out}, "
            f"groups: {s.groups}, win: {s.win.rust()} }}"
        )
        bias = f"Some({io.inputs[2]})" if len(io.inputs) > 2 and io.inputs[2] else "None"
        x, w, y = io.inputs[0], io.inputs[1], io.outputs[0]
        return f"k::ops::conv::conv(&{params}, {x}, {w}, {bias}, {y}, 0..{s.c_out}, {rust_act(node.activation)});"
