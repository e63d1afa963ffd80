"""ConvTranspose, f32, NCHW, 1-D and 2-D: strides, pads / auto_pad / output_shape, output_padding,
dilations, groups, optional bias. Kernel: `conv_transpose` in kernels/src/ops/conv.rs.

The window is that of the forward convolution it transposes: its input axis sizes are this
op's output sizes and its output sizes this op's input sizes, so the kernel reuses the window
code, and `ConvShape.macs` (N * C_out * prod(input spatial) * C_in / groups * taps) is this
op's MAC count too."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Operands, OpUnsupported, in_shape, register
from ariel_build.ops.conv import ConvFamily, ConvShape, check_kernel_and_bias, emit_conv_call
from ariel_build.ops.window import AUTO_PADS, Axis, Window, ints_attr


def _axis(node: Node, size: int, kernel: int, i: int, rank: int) -> Axis:
    """Axis of the forward convolution: `size` is this op's input size (that conv's output)."""
    stride = ints_attr(node, "strides", rank, 1)[i]
    dilation = ints_attr(node, "dilations", rank, 1)[i]
    extra = ints_attr(node, "output_padding", rank, 0)[i]
    pads = ints_attr(node, "pads", 2 * rank, 0)
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if auto_pad not in AUTO_PADS:
        raise OpUnsupported(f"auto_pad '{auto_pad}' is not one of {', '.join(AUTO_PADS)}")
    if min(stride, dilation, kernel) < 1 or min(pads) < 0 or not 0 <= extra < max(stride, dilation):
        raise OpUnsupported(
            "strides, dilations and kernel must be positive, pads >= 0, output_padding < stride"
        )
    full = stride * (size - 1) + extra + (kernel - 1) * dilation + 1
    target: int | None = None
    if "output_shape" in node.attrs:
        shape = [int(v) for v in node.attrs["output_shape"]]
        if len(shape) != rank:
            raise OpUnsupported(f"output_shape {shape} must give the {rank} spatial dimensions")
        target = shape[i]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = size * stride
    if target is None:
        begin, end = (0, 0) if auto_pad == "VALID" else (pads[i], pads[i + rank])
    else:
        total = full - target
        if total < 0:
            raise OpUnsupported(f"output size {target} is larger than the full transposed output {full}")
        begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        end = total - begin
    out = full - begin - end
    if out < 1:
        raise OpUnsupported(f"pads {begin}, {end} leave no output")
    return Axis(out, kernel, stride, dilation, begin, end, size)


def transpose_shape(node: Node, graph: Graph) -> ConvShape:
    x, w = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if len(x) not in (3, 4) or len(w) != len(x):
        raise OpUnsupported(
            f"input {list(x)} and weight {list(w)} must both be [N, C, spatial...] with 1 or 2 spatial"
        )
    groups = int(node.attrs.get("group", 1))
    batch, c_in, c_out = x[0], x[1], w[1] * groups
    if groups < 1 or c_in % groups or w[0] != c_in:
        raise OpUnsupported(f"group {groups} does not fit input channels {c_in} and weight {list(w)}")
    if min(x) < 1 or min(w) < 1:
        raise OpUnsupported(f"empty input {list(x)} or weight {list(w)}")
    kernel = check_kernel_and_bias(node, graph, c_out)
    rank = len(x) - 2
    win = Window(tuple(_axis(node, x[2 + i], kernel[i], i, rank) for i in range(rank)))
    return ConvShape(batch, c_in, c_out, groups, win)


@register
class ConvTranspose(ConvFamily):
    name = "ConvTranspose"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        s = transpose_shape(node, graph)
        return [((s.batch, s.c_out, *(a.size for a in s.win.axes)), DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return transpose_shape(node, graph).macs

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return emit_conv_call("conv_transpose", "ConvTranspose", transpose_shape(node, graph), node, io)
