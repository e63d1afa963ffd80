from pathlib import Path

import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ir.graph import Activation
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.ops.gemm import cases, gemm_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("gemm"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_constant_b_is_stored_n_by_k(batch: CaseBatch) -> None:
    graph = batch.compiled["fc_kn"].graph
    (node,) = graph.nodes
    assert node.attrs["transB"] == 1
    assert graph.tensor(node.inputs[1]).shape == (10, 64)


@pytest.mark.parametrize(("name", "kind"), [("gemm_relu", "relu"), ("gemm_sigmoid", "sigmoid")])
def test_activation_is_fused(batch: CaseBatch, name: str, kind: str) -> None:
    graph = batch.compiled[name].graph
    assert [(n.op, n.activation) for n in graph.nodes] == [("Gemm", Activation(kind))]


def test_batchnorm_is_folded(batch: CaseBatch) -> None:
    assert [n.op for n in batch.compiled["gemm_batchnorm"].graph.nodes] == ["Gemm"]


def test_inner_dimension_mismatch_is_rejected(tmp_path: Path) -> None:
    case = gemm_case("bad_k", (2, 5), (4, 3), (3,), b_const=False)
    case.model.graph.ClearField("value_info")
    with pytest.raises(UnsupportedOpsError, match="inner dimensions differ"):
        compile_model(case.save(tmp_path))


def test_macs_by_hand(tmp_path: Path) -> None:
    graph = compile_model(gemm_case("m", (5, 33), (33, 17), (17,)).save(tmp_path)).graph
    assert sum(lookup(n.op).macs(n, graph) for n in graph.nodes) == 5 * 17 * 33
