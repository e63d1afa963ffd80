"""ONNX ConvInteger and MatMulInteger: int32 outputs `sum((x - x_zero) * (w - w_zero))` over int8 or
uint8 operands, no requantization. Zero points are build-time constants: one for the input, one
for ConvInteger's weight (per-channel ones are reported, as onnxruntime rejects them too), one or
one per column for MatMulInteger's B.
Kernel: kernels/src/ops/int8/integer.rs."""

from __future__ import annotations

import math

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register, require_dtype, rust_array
from ariel_build.ops.conv import ConvShape, conv_shape
from ariel_build.ops.matmul import matmul_shape

EIGHT_BIT = (DType.I8, DType.U8)


def _zero_points(node: Node, graph: Graph, i: int, operand: int, counts: tuple[int, ...]) -> list[int]:
    """Input i: the zero point(s) of input `operand` (default 0), of its dtype, `counts` values long."""
    if not node.input(i):
        return [0]
    data = graph.const(node.inputs[i])
    if data is None:
        raise OpUnsupported(f"zero point input {i} must be a constant")
    if graph.tensor(node.inputs[i]).dtype is not graph.tensor(node.inputs[operand]).dtype:
        raise OpUnsupported(f"zero point input {i} differs in type from input {operand}")
    if data.size not in counts:
        raise OpUnsupported(f"zero point input {i} has {data.size} values (supported: {sorted(set(counts))})")
    return [int(v) for v in data.reshape(-1)]


def _require_no_overflow(node: Node, graph: Graph, terms: int, zeros: list[list[int]]) -> None:
    """`terms` products of offset values (each below 2^8 in magnitude per factor) fit in int32."""
    largest = 1
    for operand, zero in enumerate(zeros):
        info = np.iinfo(graph.tensor(node.inputs[operand]).dtype.numpy)
        largest *= max(max(abs(int(info.min) - z), abs(int(info.max) - z)) for z in zero)
    if terms * largest >= 2**31:
        raise OpUnsupported(f"{terms} products per output could overflow the int32 sum")


def _rust_type(graph: Graph, name: str) -> str:
    return "u8" if graph.tensor(name).dtype is DType.U8 else "i8"


def _conv(node: Node, graph: Graph) -> ConvShape:
    return conv_shape(Node("Conv", node.name, node.inputs[:2], node.outputs, node.attrs), graph)


@register
class ConvInteger(Op):
    name = "ConvInteger"

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, EIGHT_BIT, 0)
        require_dtype(node, graph, EIGHT_BIT, 1)
        s = _conv(node, graph)
        zeros = [_zero_points(node, graph, 2, 0, (1,)), _zero_points(node, graph, 3, 1, (1,))]
        _require_no_overflow(node, graph, s.c_in // s.groups * s.win.taps, zeros)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(_conv(node, graph).out_shape, DType.I32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return _conv(node, graph).macs

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0, 1]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = _conv(node, graph)
        (x_zero,) = _zero_points(node, graph, 2, 0, (1,))
        w_zero = _zero_points(node, graph, 3, 1, (1,))
        params = (
            f"k::ops::int8::integer::ConvInteger {{ batch: {s.batch}, c_in: {s.c_in}, c_out: {s.c_out}, "
            f"groups: {s.groups}, win: {s.win.rust()} }}"
        )
        types = f"{_rust_type(graph, node.inputs[0])}, {_rust_type(graph, node.inputs[1])}"
        return (
            f"k::ops::int8::integer::conv_integer::<{types}>(&{params}, {io.inputs[0]}, {x_zero}, "
            f"{io.inputs[1]}, &{rust_array(w_zero)}, {io.outputs[0]}, 0..{s.c_out});"
        )


def _matmul_dims(node: Node, graph: Graph) -> tuple[int, int, int]:
    """(rows, depth, columns) with A's leading dimensions as rows; B must be 2-D."""
    a, b = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if len(a) < 2 or len(b) != 2:
        raise OpUnsupported(f"A {list(a)} must have rank >= 2 and B {list(b)} rank 2")
    matmul_shape(node, graph)
    return math.prod(a[:-1]), a[-1], b[1]


@register
class MatMulInteger(Op):
    name = "MatMulInteger"

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, EIGHT_BIT, 0)
        require_dtype(node, graph, EIGHT_BIT, 1)
        _, depth, columns = _matmul_dims(node, graph)
        zeros = [_zero_points(node, graph, 2, 0, (1,)), _zero_points(node, graph, 3, 1, (1, columns))]
        _require_no_overflow(node, graph, depth, zeros)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(matmul_shape(node, graph).out_shape, DType.I32)]

    def macs(self, node: Node, graph: Graph) -> int:
        return math.prod(_matmul_dims(node, graph))

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0, 1]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        m, k, n = _matmul_dims(node, graph)
        (a_zero,) = _zero_points(node, graph, 2, 0, (1,))
        b_zero = _zero_points(node, graph, 3, 1, (1, n))
        types = f"{_rust_type(graph, node.inputs[0])}, {_rust_type(graph, node.inputs[1])}"
        return (
            f"k::ops::int8::integer::matmul_integer::<{types}>(&k::ops::int8::integer::MatMulInteger "
            f"{{ m: {m}, k: {k}, n: {n} }}, {io.inputs[0]}, {a_zero}, {io.inputs[1]}, "
            f"&{rust_array(b_zero)}, {io.outputs[0]}, 0..{m});"
        )
