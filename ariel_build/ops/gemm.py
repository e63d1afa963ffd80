"""Gemm, f32: Y = alpha * A' B' + beta * C, C broadcast to [M, N]. Kernel: kernels/src/ops/gemm.rs.

Constant B arrives as [N, K] with transB = 1 (passes/choose_layout.py); a run-time B is read in
whichever layout it has. The parallel axis is the output columns."""

from __future__ import annotations

from dataclasses import dataclass

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.activation import FusesActivation, rust_act
from ariel_build.ops.base import Operands, OpUnsupported, in_shape, register, require_dtype, rust_f32


@dataclass(frozen=True)
class GemmShape:
    m: int
    n: int
    k: int
    trans_a: bool
    trans_b: bool
    bias_strides: tuple[int, int] | None  # C element (i, j) at i * s[0] + j * s[1]


def _bias_strides(c: tuple[int, ...], m: int, n: int) -> tuple[int, int]:
    """Strides that read C broadcast (unidirectionally) to [M, N]."""
    full = (1,) * (2 - len(c)) + c
    if len(c) > 2 or full[0] not in (1, m) or full[1] not in (1, n):
        raise OpUnsupported(f"C {list(c)} does not broadcast to [{m}, {n}]")
    row = full[1] if full[0] == m and m > 1 else 0
    return row, 1 if full[1] == n and n > 1 else 0


def gemm_shape(node: Node, graph: Graph) -> GemmShape:
    a, b = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if len(a) != 2 or len(b) != 2:
        raise OpUnsupported(f"A {list(a)} and B {list(b)} must both be 2-D")
    trans_a, trans_b = bool(node.attrs.get("transA", 0)), bool(node.attrs.get("transB", 0))
    m, k = (a[1], a[0]) if trans_a else a
    k_b, n = (b[1], b[0]) if trans_b else b
    if k != k_b:
        raise OpUnsupported(
            f"inner dimensions differ: A {list(a)}, B {list(b)} (transA {trans_a}, transB {trans_b})"
        )
    if min(m, n, k) < 1:
        raise OpUnsupported(f"empty A {list(a)} or B {list(b)}")
    strides = _bias_strides(in_shape(node, graph, 2), m, n) if node.input(2) else None
    return GemmShape(m, n, k, trans_a, trans_b, strides)


@register
class Gemm(FusesActivation):
    name = "Gemm"

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(len(node.inputs)):
            if node.input(i):
                require_dtype(node, graph, (DType.F32,), i)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        s = gemm_shape(node, graph)
        return [((s.m, s.n), DType.F32)]

    def macs(self, node: Node, graph: Graph) -> int:
        s = gemm_shape(node, graph)
        return s.m * s.n * s.k

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = gemm_shape(node, graph)
        alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
        layout = "NK" if s.trans_b else "KN"
        params = (
            f"k::ops::gemm::Gemm {{ m: {s.m}, n: {s.n}, k: {s.k}, trans_a: {str(s.trans_a).lower()}, "
            f"b_layout: k::ops::gemm::BLayout::{layout}, alpha: {rust_f32(alpha)}, beta: {rust_f32(beta)} }}"
        )
        bias = "None"
        if s.bias_strides is not None:
            rows, cols = s.bias_strides
            bias = f"Some(({io.inputs[2]}, k::ops::gemm::Bias {{ row_stride: {rows}, col_stride: {cols} }}))"
        a, b, y = io.inputs[0], io.inputs[1], io.outputs[0]
        return f"k::ops::gemm::gemm(&{params}, {a}, {b}, {bias}, {y}, 0..{s.n}, {rust_act(node.activation)});"
