"""QConv: int8 convolution with per-channel requantization (TFLite CONV_2D and DEPTHWISE_CONV_2D,
the latter as a grouped convolution). NCHW activations, OIHW weights, int32 bias.
Kernels: kernels/src/ops/int8/gemm.rs (one group: packed columns, input zero point folded into
the bias at build time), kernels/src/ops/int8/depthwise.rs (one input channel per group: padded
plane, zero point folded likewise), kernels/src/ops/int8/conv.rs (other groupings)."""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, register, rust_array
from ariel_build.ops.conv import conv_shape
from ariel_build.ops.quantized.fixed_point import (
    activation_bounds,
    folded_bias,
    optional_bias,
    per_tensor,
    quantize_multiplier,
    require_int8,
    require_int32_accumulator,
    rust_channel_requants,
    rust_requant,
    symmetric_weight_scales,
)
from ariel_build.ops.quantized.packing import (
    PACKED_INPUT,
    channels_last,
    is_wide,
    keeps_ring,
    pack_bytes,
    packed_weights,
    rust_weights,
    wide_accumulator_bytes,
)


def _is_product(node: Node, graph: Graph) -> bool:
    """One group and constant weights: the packed matrix-product kernel (gemm.rs)."""
    return conv_shape(node, graph).groups == 1 and graph.const(node.input(1)) is not None


def _packed(node: Node, graph: Graph) -> bool:
    """The weights were packed (passes/pack_int8_weights.py): gemm.rs runs this node."""
    return _is_product(node, graph) and packed_weights(node) is not None


def _is_depthwise(node: Node, graph: Graph) -> bool:
    """One input channel per group and constant weights: depthwise.rs."""
    s = conv_shape(node, graph)
    return s.groups == s.c_in > 1 and graph.const(node.input(1)) is not None


# Attribute of a multicore part (schedule/split.py): the output pixels [lo, hi) it computes.
PIXELS = "pixels"

# depthwise.rs BLOCK_POSITIONS: accumulators of one block of output rows.
_BLOCK_POSITIONS = 128


def _depthwise_scratch_bytes(node: Node, graph: Graph) -> int:
    """depthwise.rs `scratch_words`: the padded input plane (rows a multiple of 4 bytes apart, each
    interior starting on a word; + 4 bytes) and a block of i32 accumulators."""
    axes = conv_shape(node, graph).win.axes
    height, width = axes
    pitch = -(-(width.pad_begin + width.size + width.pad_end) // 4) * 4
    origin = -(-width.pad_begin // 4) * 4 - width.pad_begin
    plane = origin + (height.size + height.pad_begin + height.pad_end) * pitch
    return 4 * (-(-plane // 4) + 1 + max(width.out, _BLOCK_POSITIONS))


def ring_bytes(node: Node, graph: Graph) -> int:
    """gemm.rs `ring_words` (packed `channels_last`, not 1x1 stride 1 without leading padding): the
    padded input rows one output row's windows cover, 8 bytes per 4 input channels and position;
    else 0."""
    s = conv_shape(node, graph)
    height, width = s.win.axes
    pointwise = all(a.kernel == a.stride == 1 and a.pad_begin == 0 for a in s.win.axes)
    if not _packed(node, graph) or not channels_last(node) or pointwise or not keeps_ring(node):
        return 0
    rows = min(height.span, height.size + height.pad_begin + height.pad_end)
    return 8 * rows * (width.size + width.pad_begin + width.pad_end) * (s.c_in // 4)


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
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        if _is_product(node, graph) or _is_depthwise(node, graph):
            folded_bias(node, graph, s.c_out, in_zero)
        activation_bounds(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(conv_shape(node, graph).out_shape, DType.I8)]

    def macs(self, node: Node, graph: Graph) -> int:
        s = conv_shape(node, graph)
        if PIXELS not in node.attrs:
            return s.macs
        lo, hi = node.attrs[PIXELS]
        return s.macs * (hi - lo) // math.prod(s.out_shape[2:])

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """Two packed input columns for the matrix-product path (one group, constant weights),
        with wide weights followed by accumulators."""
        s = conv_shape(node, graph)
        if _is_depthwise(node, graph):
            return _depthwise_scratch_bytes(node, graph)
        if not _packed(node, graph):
            return 0
        ring = ring_bytes(node, graph)
        return (
            ring
            + pack_bytes(s.c_in * s.win.taps, 2 if ring else 3)
            + (wide_accumulator_bytes(s.c_out, 2) if is_wide(node) else 0)
        )

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0, PACKED_INPUT] if _packed(node, graph) else [0, 1, 2]

    def multipliers(self, node: Node, graph: Graph, channels: int) -> list[tuple[int, int]]:
        in_scale, _ = per_tensor(graph, node.inputs[0], "input")
        out_scale, _ = per_tensor(graph, node.outputs[0], "output")
        weight_scales = symmetric_weight_scales(node, graph, 1, channels)
        return [quantize_multiplier(in_scale * float(w) / out_scale) for w in weight_scales]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = conv_shape(node, graph)
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        _, out_zero = per_tensor(graph, node.outputs[0], "output")
        multipliers, bounds = self.multipliers(node, graph, s.c_out), activation_bounds(node, graph)
        params = (
            f"k::ops::int8::conv::Conv {{ batch: {s.batch}, c_in: {s.c_in}, c_out: {s.c_out}, "
            f"groups: {s.groups}, win: {s.win.rust()}, input_offset: {-in_zero}, "
            f"channels_last: {str(channels_last(node)).lower()} }}"
        )
        if _packed(node, graph):
            bias = rust_array(folded_bias(node, graph, s.c_out, in_zero))
            rq = rust_channel_requants(multipliers, out_zero, bounds, s.c_out)
            plane = math.prod(s.out_shape[2:])
            pixels = node.attrs.get(PIXELS)
            # gemm.rs: one function per column source and output kind, so that the linker keeps
            # only those the model calls.
            if ring_bytes(node, graph):
                kernel = "conv_ring"
            elif channels_last(node) and not keeps_ring(node):  # `drop_rings` took it away
                kernel = "conv_planes"
            else:
                kernel = "conv"
            if pixels is None:  # the whole plane: consecutive rows, one per channel
                lo, hi = 0, plane
            else:  # a multicore part: the output is already `Rows` of its pixels
                kernel, (lo, hi) = f"{kernel}_rows", pixels
            return (
                f"k::ops::int8::gemm::{kernel}(&{params}, {io.inputs[0]}, "
                f"{rust_weights(node, io.inputs[PACKED_INPUT])}, &{bias}, "
                f"{rq}, {io.outputs[0]}, {lo}..{hi}, k::cast_mut({io.scratch}));"
            )
        if _is_depthwise(node, graph):
            bias = rust_array(folded_bias(node, graph, s.c_out, in_zero))
            rq = rust_channel_requants(multipliers, out_zero, bounds, s.c_out)
            return (
                f"k::ops::int8::depthwise::depthwise(&{params}, {io.inputs[0]}, {io.inputs[1]}, &{bias}, "
                f"{rq}, {io.outputs[0]}, k::cast_mut({io.scratch}));"
            )
        rq = rust_requant(multipliers, out_zero, bounds)
        bias = f"Some({io.inputs[2]})" if len(io.inputs) > 2 and io.inputs[2] else "None"
        return (
            f"k::ops::int8::conv::conv(&{params}, {io.inputs[0]}, {io.inputs[1]}, {bias}, &{rq}, "
            f"{io.outputs[0]}, 0..{s.c_out});"
        )
