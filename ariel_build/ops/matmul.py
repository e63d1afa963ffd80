"""MatMul, f32, numpy semantics: 1-D operands promoted (and the added dimension dropped from the
result), batch dimensions broadcast. Kernel: kernels/src/ops/gemm.rs (`matmul`); the parallel
axis is the output columns."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.activation import FusesActivation, rust_act
from ariel_build.ops.base import (
    Operands,
    OpUnsupported,
    broadcast_shapes,
    in_shape,
    register,
    require_dtype,
    rust_array,
)
from ariel_build.ops.transpose import contiguous_strides

MAX_BATCH_DIMS = 4  # kernels/src/ops/gemm.rs MAX_BATCH_DIMS


@dataclass(frozen=True)
class MatMulShape:
    batch: tuple[int, ...]
    a_strides: tuple[int, ...]  # per batch dimension, in whole matrices; 0 = broadcast
    b_strides: tuple[int, ...]
    m: int
    n: int
    k: int
    out_shape: tuple[int, ...]


def _matrix_strides(batch_dims: tuple[int, ...], batch: tuple[int, ...]) -> tuple[int, ...]:
    dims = (1,) * (len(batch) - len(batch_dims)) + batch_dims
    return tuple(s if d > 1 else 0 for d, s in zip(dims, contiguous_strides(dims), strict=True))


def matmul_shape(node: Node, graph: Graph) -> MatMulShape:
    a, b = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if not a or not b:
        raise OpUnsupported(f"operands must have rank >= 1, got A {list(a)}, B {list(b)}")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    (m, k), (k_b, n) = a2[-2:], b2[-2:]
    if k != k_b:
        raise OpUnsupported(f"inner dimensions differ: A {list(a)}, B {list(b)}")
    batch = broadcast_shapes(a2[:-2], b2[:-2])
    if len(batch) > MAX_BATCH_DIMS:
        raise OpUnsupported(f"more than {MAX_BATCH_DIMS} batch dimensions")
    if min(m, n, k, *batch) < 1:
        raise OpUnsupported(f"empty A {list(a)} or B {list(b)}")
    out = (*batch, *((m,) if len(a) > 1 else ()), *((n,) if len(b) > 1 else ()))
    return MatMulShape(batch, _matrix_strides(a2[:-2], batch), _matrix_strides(b2[:-2], batch), m, n, k, out)


@register
class MatMul(FusesActivation):
    name = "MatMul"

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,), 0)
        require_dtype(node, graph, (DType.F32,), 1)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(matmul_shape(node, graph).out_shape, DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        s = matmul_shape(node, graph)
        return math.prod(s.batch) * s.m * s.n * s.k

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = matmul_shape(node, graph)
        pad = MAX_BATCH_DIMS - len(s.batch)
        params = (
            f"k::ops::gemm::MatMul {{ batch: {rust_array(s.batch + (1,) * pad)}, "
            f"a_strides: {rust_array(s.a_strides + (0,) * pad)}, "
            f"b_strides: {rust_array(s.b_strides + (0,) * pad)}, m: {s.m}, n: {s.n}, k: {s.k} }}"
        )
        a, b, y = io.inputs[0], io.inputs[1], io.outputs[0]
        return f"k::ops::gemm::matmul(&{params}, {a}, {b}, {y}, 0..{s.n}, {rust_act(node.activation)});"
