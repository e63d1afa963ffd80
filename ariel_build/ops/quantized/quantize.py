"""Quantize (f32 → int8, or int8 → int8 with new parameters) and Dequantize (int8 → f32), per
tensor, as TFLite QUANTIZE / DEQUANTIZE compute them. Kernel: kernels/src/ops/int8/quantize.rs."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_dtype, in_shape, register, rust_f32
from ariel_build.ops.quantized.fixed_point import per_tensor, quantize_multiplier


def emit_requantize(node: Node, graph: Graph, io: Operands, bounds: tuple[int, int]) -> str:
    """int8 input 0 → int8 output 0 with the output's parameters, clamped to `bounds`."""
    in_scale, in_zero = per_tensor(graph, node.inputs[0], "input")
    scale, zero = per_tensor(graph, node.outputs[0], "output")
    multiplier, shift = quantize_multiplier(in_scale / scale)
    params = (
        f"k::ops::int8::quantize::Requantize {{ input_zero_point: {in_zero}, multiplier: {multiplier}, "
        f"shift: {shift}, output_zero_point: {zero}, min: {bounds[0]}, max: {bounds[1]} }}"
    )
    return f"k::ops::int8::quantize::requantize(&{params}, {io.inputs[0]}, {io.outputs[0]});"


@register
class Quantize(Op):
    """Named `Quantize` (not ONNX QuantizeLinear): parameters come from the output's `quant`.
    Float inputs round ties away from zero (TFLM) or, with attribute `ties_to_even`, to even (ONNX)."""

    name = "Quantize"

    def check(self, node: Node, graph: Graph) -> None:
        if in_dtype(node, graph) not in (DType.F32, DType.I8):
            raise OpUnsupported(f"input is {in_dtype(node, graph).numpy_name}; float32 or int8 are supported")
        if in_dtype(node, graph) is DType.I8:
            per_tensor(graph, node.inputs[0], "input")
        per_tensor(graph, node.outputs[0], "output")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.I8)]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        scale, zero = per_tensor(graph, node.outputs[0], "output")
        x, y = io.inputs[0], io.outputs[0]
        if in_dtype(node, graph) is DType.F32:
            even = "true" if node.attrs.get("ties_to_even") else "false"
            return f"k::ops::int8::quantize::quantize({x}, {y}, {rust_f32(scale)}, {zero}, {even});"
        return emit_requantize(node, graph, io, (-128, 127))


@register
class Dequantize(Op):
    name = "Dequantize"

    def check(self, node: Node, graph: Graph) -> None:
        if in_dtype(node, graph) is not DType.I8:
            raise OpUnsupported(f"input is {in_dtype(node, graph).numpy_name}; int8 is supported")
        per_tensor(graph, node.inputs[0], "input")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.F32)]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        scale, zero = per_tensor(graph, node.inputs[0], "input")
        return (
            f"k::ops::int8::quantize::dequantize({io.inputs[0]}, {io.outputs[0]}, {rust_f32(scale)}, {zero});"
        )
