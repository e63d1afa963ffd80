"""Quantize (f32 → int8, or int8/int16 → int8/int16/int32 with new parameters) and Dequantize
(int8 → f32), per tensor, as TFLite QUANTIZE / DEQUANTIZE compute them.
Kernel: kernels/src/ops/int8/quantize.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_dtype,
    in_shape,
    register,
    rust_f32,
    rust_literal,
)
from ariel_build.ops.quantized.fixed_point import per_tensor, quantize_multiplier


def emit_requantize(
    node: Node, graph: Graph, io: Operands, bounds: tuple[int | str, int | str], kernel: str = "requantize"
) -> str:
    """Integer input 0 → integer output 0 with the output's parameters, clamped to `bounds`
    (`kernel` `requantize`: int8 → int8; `requantize_to`: any integer types)."""
    in_scale, in_zero = per_tensor(graph, node.inputs[0], "input")
    scale, zero = per_tensor(graph, node.outputs[0], "output")
    multiplier, shift = quantize_multiplier(in_scale / scale)
    params = (
        f"k::ops::int8::quantize::Requantize {{ input_zero_point: {in_zero}, multiplier: {multiplier}, "
        f"shift: {shift}, output_zero_point: {zero}, min: {bounds[0]}, max: {bounds[1]} }}"
    )
    return f"k::ops::int8::quantize::{kernel}(&{params}, {io.inputs[0]}, {io.outputs[0]});"


INTEGER_INPUTS = (DType.I8, DType.I16)
INTEGER_OUTPUTS = (DType.I8, DType.I16, DType.I32)


@register
class Quantize(Op):
    """Named `Quantize` (not ONNX QuantizeLinear): parameters come from the output's `quant`.
    Float inputs round ties away from zero (TFLM) or, with attribute `ties_to_even`, to even (ONNX).
    Attribute `output_dtype` (numpy name, default int8): int16 and int32 for integer inputs."""

    name = "Quantize"

    def output_dtype(self, node: Node) -> DType:
        return DType.from_numpy(node.attrs.get("output_dtype", "int8"))

    def check(self, node: Node, graph: Graph) -> None:
        x, y = in_dtype(node, graph), self.output_dtype(node)
        if x not in (DType.F32, *INTEGER_INPUTS):
            raise OpUnsupported(f"input is {x.numpy_name}; float32, int8 or int16 are supported")
        if y not in INTEGER_OUTPUTS or (x is DType.F32 and y is not DType.I8):
            raise OpUnsupported(f"{x.numpy_name} → {y.numpy_name} is not supported")
        if x is not DType.F32:
            per_tensor(graph, node.inputs[0], "input")
        per_tensor(graph, node.outputs[0], "output")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), self.output_dtype(node))]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        scale, zero = per_tensor(graph, node.outputs[0], "output")
        x, y = io.inputs[0], io.outputs[0]
        x_dtype, y_dtype = in_dtype(node, graph), self.output_dtype(node)
        if x_dtype is DType.F32:
            even = "true" if node.attrs.get("ties_to_even") else "false"
            return f"k::ops::int8::quantize::quantize({x}, {y}, {rust_f32(scale)}, {zero}, {even});"
        if x_dtype is y_dtype is DType.I8:
            return emit_requantize(node, graph, io, (-128, 127))
        info = np.iinfo(y_dtype.numpy)
        bounds = (rust_literal(info.min, DType.I32), rust_literal(info.max, DType.I32))
        return emit_requantize(node, graph, io, bounds, "requantize_to")


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
