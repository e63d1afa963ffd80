"""Elementwise unary f32 ops: y[i] = f(x[i]). Kernel: kernels/src/ops/unary.rs."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, in_dtype, in_shape, register, require_dtype


class Unary(Op):
    inplace = True
    function: str  # name of the scalar function in kernels/src/ops/unary.rs

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), in_dtype(node, graph))]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return f"k::ops::unary::map({io.inputs[0]}, {io.outputs[0]}, k::ops::unary::{self.function});"

    def emit_inplace(self, node: Node, graph: Graph, output: str) -> str:
        return f"k::ops::unary::map_inplace({output}, k::ops::unary::{self.function});"


def _unary(op_name: str, function: str) -> None:
    register(type(op_name, (Unary,), {"name": op_name, "function": function}))


for _op, _fn in {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
}.items():
    _unary(_op, _fn)
