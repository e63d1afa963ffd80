from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.model_case import single_node_case
from fixtures.ops.reshape import cases
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("reshape"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_dropout_in_training_mode_is_rejected(tmp_path: Path) -> None:
    x = np.zeros((2, 3), np.float32)
    case = single_node_case(
        "training",
        "Dropout",
        {"x": x},
        constants={"ratio": np.array(0.5, np.float32), "training_mode": np.array(True)},
    )
    with pytest.raises(UnsupportedOpsError, match="training_mode"):
        compile_model(case.save(tmp_path))


def test_squeeze_of_a_non_unit_axis_is_rejected(tmp_path: Path) -> None:
    x = np.zeros((1, 3), np.float32)
    case = single_node_case("squeeze_bad", "Squeeze", {"x": x}, constants={"axes": np.array([1], np.int64)})
    with pytest.raises(UnsupportedOpsError, match="not all of size 1"):
        compile_model(case.save(tmp_path))


def test_views_generate_no_code(batch: CaseBatch) -> None:
    for name, compiled in batch.compiled.items():
        assert all(lookup(n.op).view for n in compiled.graph.nodes), name
