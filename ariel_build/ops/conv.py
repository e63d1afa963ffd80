"""Conv, f32, NCHW, 1-D and 2-D, any groups. Kernel: kernels/src/ops/conv.rs (pointwise and
windowed paths; depthwise is the windowed path with one input channel per group)."""

from __future__ import annotations

import math
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
        return (
            self.batch
            * self.c_out
            * math.prod(self.win.out_spatial)
            * (self.c_in // self.groups)
            * self.win.taps
        )


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
    kernel = check_kernel_and_bias(node, graph, c_out)
    return ConvShape(batch, c_in, c_out, groups, window(node, tuple(x[2:]), kernel))


def check_kernel_and_bias(node: Node, graph: Graph, c_out: int) -> tuple[int, ...]:
    """The kernel's spatial shape from the weight (input 1), checked against kernel_shape and the bias."""
    w = in_shape(node, graph, 1)
    kernel = tuple(w[2:])
    if "kernel_shape" in node.attrs and tuple(int(k) for k in node.attrs["kernel_shape"]) != kernel:
        raise OpUnsupported(
            f"kernel_shape {list(node.attrs['kernel_shape'])} differs from the weight {list(w)}"
        )
    if node.input(2) and in_shape(node, graph, 2) != (c_out,):
        raise OpUnsupported(f"bias shape {list(in_shape(node, graph, 2))} is not [{c_out}]")
    return kernel


def emit_conv_call(function: str, struct: str, s: ConvShape, node: Node, io: Operands) -> str:
    """Call of a kernel taking (params, x, w, bias, y, output channels, act); `s` in the kernel's terms."""
    params = (
        f"k::ops::conv::{struct} {{ batch: {s.batch}, c_in: {s.c_in}, c_out: {s.c_out}, "
        f"groups: {s.groups}, win: {s.win.rust()} }}"
    )
    bias = f"Some({io.inputs[2]})" if len(io.inputs) > 2 and io.inputs[2] else "None"
    x, w, y = io.inputs[0], io.inputs[1], io.outputs[0]
    act = rust_act(node.activation)
    return f"k::ops::conv::{function}(&{params}, {x}, {w}, {bias}, {y}, 0..{s.c_out}, {act});"


class ConvFamily(FusesActivation):
    """Conv and ConvTranspose: f32 input, weight and bias."""

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(len(node.inputs)):
            if node.input(i):
                require_dtype(node, graph, (DType.F32,), i)


@register
class Conv(ConvFamily):
    name = "Conv"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(conv_shape(node, graph).out_shape, DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return conv_shape(node, graph).macs

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return emit_conv_call("conv", "Conv", conv_shape(node, graph), node, io)
