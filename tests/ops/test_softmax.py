import pytest

from fixtures.ops.softmax import cases
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("softmax"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_runs_in_place_when_its_input_dies(batch: CaseBatch) -> None:
    compiled = batch.compiled["scores_softmax"]
    assert [n.op for n in compiled.graph.nodes] == ["MatMul", "Softmax", "MatMul"]
    assert compiled.plan.inplace_nodes == {compiled.graph.nodes[1].name}
