"""QConv: int8 convolution with per-channel requantization (TFLite CONV_2D and DEPTHWISE_CONV_2D,
the latter as a grouped convolution). NCHW activations, OIHW weights, int32 bias.
Kernel: kernels/src/ops/int8/conv.rs."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, register
from ariel_build.ops.conv import conv_shape
from ariel_build.ops.quantized.fixed_point import (
    activation_bounds,
    optional_bias,
    per_tensor,
    quantize_multiplier,
    require_int8,
    require_int32_accumulator,
    rust_requant,
    symmetric_weight_scales,
)


@register
class QConv(Op):
    """Attributes as ONNX Conv, plus `activation` (TFLite fused activation name)."""

    name = "QConv"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0, 1)
        s = conv_shape(node, graph)
        if len(s.win.axes) != 2:
            raise OpUnsupported(f"{len(s.win.axes)}-D int8 convolution is not supported (2-D is)")
        optional_bias(node, graph, s.c_out)
        require_int32_accumulator(node, graph, s.c_in // s.groups * s.win.taps)
        symmetric_weight_scales(node, graph, 1, s.c_out)
        per_tensor(graph, node.inputs[0], "input")
        activation_bounds(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(conv_shape(node, graph).out_shape, DType.I8)]

    def macs(self, node: Node, graph: Graph) -> int:
        return conv_shape(node, graph).macs

    def multipliers(self, node: Node, graph: Graph, channels: int) -> list[tuple[int, int]]:
        in_scale, _ = per_tensor(graph, node.inputs[0], "input")
        out_scale, _ = per_tensor(graph, node.outputs[0], "output")
        weight_scales = symmetric_weight_scales(node, graph, 1, channels)
        return [quantize_multiplier(in_scale * float(w) / out_scale) for w in weight_scales]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = conv_shape(node, graph)
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        _, out_zero = per_tensor(graph, node.outputs[0], "output")
        rq = rust_requant(self.multipliers(node, graph, s.c_out), out_zero, activation_bounds(node, graph))
        params = (
            f"k::ops::int8::conv::Conv {{ batch: {s.batch}, c_in: {s.c_in}, c_out: {s.c_out}, "
            f"groups: {s.groups}, win: {s.win.rust()}, input_offset: {-in_zero} }}"
        )
        bias = f"Some({io.inputs[2]})" if len(io.inputs) > 2 and io.inputs[2] else "None"
        return (
            f"k::ops::int8::conv::conv(&{params}, {io.inputs[0]}, {io.inputs[1]}, {bias}, &{rq}, "
            f"{io.outputs[0]}, 0..{s.c_out});"
        )
