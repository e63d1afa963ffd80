"""ONNX QLinearConv and QLinearMatMul (operator-format quantization). Like QuantizeLinear they only
exist between import and the `expand_qlinear` pass, which rewrites each into DequantizeLinear →
Conv/MatMul → QuantizeLinear for `fuse_qdq` to fold into QConv / QFullyConnected; so they check and
infer shapes but never emit code."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, OpUnsupported, in_dtype, register, require_const
from ariel_build.ops.conv import conv_shape
from ariel_build.ops.matmul import matmul_shape

# Input positions: (value, its scale, its zero point) per operand, then the output's scale and zero point.
QLINEAR_CONV_INPUTS = {"x": (0, 1, 2), "w": (3, 4, 5), "y": (None, 6, 7)}
QLINEAR_MATMUL_INPUTS = {"a": (0, 1, 2), "b": (3, 4, 5), "y": (None, 6, 7)}


def _check_parameters(node: Node, graph: Graph, positions: dict[str, tuple[int | None, int, int]]) -> None:
    """Constant scales and zero points, one value each except a constant operand's (per channel)."""
    for operand, (value, scale_at, zero_at) in positions.items():
        scale = require_const(node, graph, scale_at, f"{operand}_scale")
        zero = require_const(node, graph, zero_at, f"{operand}_zero_point")
        if in_dtype(node, graph, zero_at) not in (DType.I8, DType.U8):
            raise OpUnsupported(f"{operand} is {in_dtype(node, graph, zero_at).numpy_name} (int8, uint8 are)")
        if scale.size != zero.size:
            raise OpUnsupported(f"{operand}: {scale.size} scales but {zero.size} zero points")
        constant = value is not None and graph.const(node.input(value)) is not None
        if scale.size != 1 and not constant:
            raise OpUnsupported(f"per-channel quantization of run-time {operand} is not supported")
        if not np.all(scale.astype(np.float32) > 0):
            raise OpUnsupported(f"{operand}_scale must be positive")


def conv_view(node: Node) -> Node:
    """The Conv this QLinearConv computes (x, w, optional bias), for the shape rule."""
    inputs = [node.inputs[0], node.inputs[3], *([node.inputs[8]] if node.input(8) else [])]
    return Node("Conv", node.name, inputs, node.outputs, node.attrs)


@register
class QLinearConv(Op):
    name = "QLinearConv"

    def check(self, node: Node, graph: Graph) -> None:
        if len(node.inputs) < 8:
            raise OpUnsupported("needs 8 inputs (x, scales and zero points, w, y's)")
        _check_parameters(node, graph, QLINEAR_CONV_INPUTS)
        if node.input(8) and (
            graph.const(node.input(8)) is None or in_dtype(node, graph, 8) is not DType.I32
        ):
            raise OpUnsupported("the bias must be a constant int32 tensor")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(conv_shape(conv_view(node), graph).out_shape, in_dtype(node, graph, 7))]

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        raise OpUnsupported("kept for the expand_qlinear pass")


@register
class QLinearMatMul(Op):
    name = "QLinearMatMul"

    def check(self, node: Node, graph: Graph) -> None:
        if len(node.inputs) != 8:
            raise OpUnsupported("needs 8 inputs (a, b, their scales and zero points, y's)")
        _check_parameters(node, graph, QLINEAR_MATMUL_INPUTS)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        view = Node("MatMul", node.name, [node.inputs[0], node.inputs[3]], node.outputs)
        return [(matmul_shape(view, graph).out_shape, in_dtype(node, graph, 7))]

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        raise OpUnsupported("kept for the expand_qlinear pass")
