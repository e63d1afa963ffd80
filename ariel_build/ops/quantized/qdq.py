"""ONNX QuantizeLinear / DequantizeLinear (QDQ format). They only exist between import and the
`fuse_qdq` pass, which turns each DQ → op → Q group into a quantized op and the rest into
`Quantize`/`Dequantize` (or folds them); so they infer shapes but never emit code. A
DequantizeLinear of a constant is not folded at import, so the pass still sees the int8 weights."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node, Quant
from ariel_build.ops.base import Op, OpUnsupported, in_shape, register, require_const

INTEGER_TYPES = (DType.I8, DType.U8, DType.I32)


def qdq_quant(node: Node, graph: Graph) -> Quant:
    """The node's scale (input 1) and zero point (input 2, default 0), as stored."""
    scale = require_const(node, graph, 1, "scale").astype(np.float32).reshape(-1)
    zero_data = graph.const(node.input(2))
    zero = np.zeros(scale.size, np.int64) if zero_data is None else zero_data.astype(np.int64).reshape(-1)
    if zero.size != scale.size:
        raise OpUnsupported(f"{scale.size} scales but {zero.size} zero points")
    axis = None
    if scale.size > 1:
        rank = len(in_shape(node, graph))
        axis = int(node.attrs.get("axis", 1)) % rank
    return Quant(scale, zero, axis)


def dequantize(data: np.ndarray, q: Quant) -> np.ndarray:
    shape = [1] * data.ndim
    if q.axis is not None:
        shape[q.axis] = q.scale.size
    zero = q.zero_point.reshape(shape) if q.axis is not None else q.zero_point[0]
    scale = q.scale.reshape(shape) if q.axis is not None else q.scale[0]
    return ((data.astype(np.float64) - zero) * scale).astype(np.float32)


@register
class QuantizeLinear(Op):
    name = "QuantizeLinear"

    def check(self, node: Node, graph: Graph) -> None:
        if graph.tensor(node.inputs[0]).dtype is not DType.F32:
            raise OpUnsupported("only float32 inputs are supported")
        if qdq_quant(node, graph).axis is not None:
            raise OpUnsupported("per-axis quantization of activations is not supported")
        zero = graph.tensor(node.inputs[2]).dtype if node.input(2) else DType.U8
        if zero not in (DType.I8, DType.U8):
            raise OpUnsupported(f"{zero.numpy_name} quantization is not supported (int8, uint8 are)")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        zero = graph.tensor(node.inputs[2]).dtype if node.input(2) else DType.U8
        return [(in_shape(node, graph), zero)]


@register
class DequantizeLinear(Op):
    name = "DequantizeLinear"

    def check(self, node: Node, graph: Graph) -> None:
        dtype = graph.tensor(node.inputs[0]).dtype
        if dtype not in INTEGER_TYPES:
            raise OpUnsupported(f"{dtype.numpy_name} input is not supported (int8, uint8, int32 are)")
        qdq_quant(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), DType.F32)]

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        raise OpUnsupported("kept for the fuse_qdq pass")
