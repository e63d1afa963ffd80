from pathlib import Path

import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ir.graph import Activation
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.ops.matmul import cases, matmul_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("matmul"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_batchnorm_folds_into_a_gemm(batch: CaseBatch) -> None:
    (node,) = batch.compiled["matmul_batchnorm"].graph.nodes
    assert node.op == "Gemm"


def test_activation_is_fused(batch: CaseBatch) -> None:
    graph = batch.compiled["matmul_relu"].graph
    assert [(n.op, n.activation) for n in graph.nodes] == [("MatMul", Activation("relu"))]


def test_too_many_batch_dims_are_rejected(tmp_path: Path) -> None:
    case = matmul_case("rank7", (2, 1, 1, 1, 1, 3, 4), (4, 2))
    with pytest.raises(UnsupportedOpsError, match="more than 4 batch dimensions"):
        compile_model(case.save(tmp_path))


@pytest.mark.parametrize(
    ("a", "b", "macs"),
    [((2, 1, 3, 4), (1, 5, 4, 2), 2 * 5 * 3 * 2 * 4), ((7,), (7, 5), 35), ((4, 7), (7,), 28)],
)
def test_macs_by_hand(a: tuple[int, ...], b: tuple[int, ...], macs: int, tmp_path: Path) -> None:
    graph = compile_model(matmul_case("m", a, b).save(tmp_path)).graph
    assert sum(lookup(n.op).macs(n, graph) for n in graph.nodes) == macs
