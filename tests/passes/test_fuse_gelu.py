"""fuse_gelu on hand-built exporter patterns: node count after the pass, numbers vs onnxruntime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import NodeProto, helper

from fixtures.model_case import ModelCase, graph_case
from fixtures.ops.gemm import rand
from tests.oracle import CaseBatch


def _c(v: float) -> np.ndarray:
    return np.array(v, np.float32)


def _case(
    name: str, nodes: list[NodeProto], consts: dict[str, float], outputs: tuple[str, ...] = ("y",)
) -> ModelCase:
    """x = a @ w feeds the pattern, so x is an intermediate like in a real MLP."""
    nodes = [helper.make_node("MatMul", ["a", "w"], ["x"]), *nodes]
    values = {k: _c(v) for k, v in consts.items()} | {"w": rand(2, 8, 6) * 2}
    return graph_case(name, nodes, {"a": rand(1, 3, 8) * 2}, values, list(outputs), opset=13)


def m(op: str, a: str, b: str, out: str) -> NodeProto:
    return helper.make_node(op, [a, b], [out])


ERF = {"sqrt2": math.sqrt(2), "one": 1.0, "half": 0.5}
TANH = {"beta": math.sqrt(2 / math.pi), "kappa": 0.044715, "one": 1.0, "half": 0.5, "three": 3.0}


def cases() -> list[tuple[ModelCase, str | None]]:
    """(model, the approximate attribute expected, None = must not be fused)."""
    erf_tail = [m("Div", "x", "sqrt2", "t"), helper.make_node("Erf", ["t"], ["e"]), m("Add", "e", "one", "s")]
    tanh_inner = [
        m("Mul", "kappa", "cube", "kc"),
        m("Add", "x", "kc", "v"),
        m("Mul", "beta", "v", "u"),
        helper.make_node("Tanh", ["u"], ["th"]),
        m("Add", "one", "th", "s"),
    ]
    return [
        # PyTorch (opset < 20): (x * (1 + erf(x / sqrt2))) * 0.5
        (_case("erf_torch", [*erf_tail, m("Mul", "x", "s", "xs"), m("Mul", "xs", "half", "y")], ERF), "none"),
        # 0.5 * x first, 1 + erf with the constant first.
        (
            _case(
                "erf_half_first",
                [
                    m("Mul", "half", "x", "hx"),
                    m("Div", "x", "sqrt2", "t"),
                    helper.make_node("Erf", ["t"], ["e"]),
                    m("Add", "one", "e", "s"),
                    m("Mul", "s", "hx", "y"),
                ],
                ERF,
            ),
            "none",
        ),
        # x * (1/sqrt2) instead of x / sqrt2; x * ((1 + erf) * 0.5)
        (
            _case(
                "erf_mul_rsqrt2",
                [
                    m("Mul", "x", "rsqrt2", "t"),
                    helper.make_node("Erf", ["t"], ["e"]),
                    m("Add", "e", "one", "s"),
                    m("Mul", "s", "half", "sh"),
                    m("Mul", "x", "sh", "y"),
                ],
                {"rsqrt2": 1 / math.sqrt(2), "one": 1.0, "half": 0.5},
            ),
            "none",
        ),
        # PyTorch tanh form: x * (x * x) cube, 0.5 * (x * (1 + tanh))
        (
            _case(
                "tanh_torch",
                [
                    m("Mul", "x", "x", "xx"),
                    m("Mul", "x", "xx", "cube"),
                    *tanh_inner,
                    m("Mul", "x", "s", "xs"),
                    m("Mul", "half", "xs", "y"),
                ],
                TANH,
            ),
            "tanh",
        ),
        # Hugging Face gelu_new: Pow(x, 3)
        (
            _case(
                "tanh_pow",
                [
                    m("Pow", "x", "three", "cube"),
                    *tanh_inner,
                    m("Mul", "half", "x", "hx"),
                    m("Mul", "hx", "s", "y"),
                ],
                TANH,
            ),
            "tanh",
        ),
        # The Erf output is also a graph output: the pattern must stay.
        (
            _case(
                "erf_shared",
                [*erf_tail, m("Mul", "x", "s", "xs"), m("Mul", "xs", "half", "y")],
                ERF,
                outputs=("y", "e"),
            ),
            None,
        ),
        # Not a GELU: 0.6 instead of 0.5.
        (
            _case(
                "erf_wrong_half",
                [*erf_tail, m("Mul", "x", "s", "xs"), m("Mul", "xs", "half", "y")],
                ERF | {"half": 0.6},
            ),
            None,
        ),
    ]


CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch([c for c, _ in CASES], tmp_path_factory.mktemp("gelu"))


@pytest.mark.parametrize(("case", "approximate"), CASES, ids=[c.name for c, _ in CASES])
def test_pattern_becomes_one_gelu_and_matches_onnxruntime(
    batch: CaseBatch, case: ModelCase, approximate: str | None
) -> None:
    graph = batch.compiled[case.name].graph
    ops = [n.op for n in graph.nodes]
    if approximate is None:
        assert "Gelu" not in ops and len(ops) == len(case.model.graph.node)
    else:
        assert ops == ["MatMul", "Gelu"]
        assert graph.nodes[1].attrs["approximate"] == approximate
    batch.check(case.name)
