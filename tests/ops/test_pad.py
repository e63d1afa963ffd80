from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.pipeline import compile_model
from fixtures.model_case import single_node_case
from fixtures.ops.pad import cases, pad_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("pad"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_reflect_wider_than_the_input_is_rejected(tmp_path: Path) -> None:
    case = pad_case("reflect_too_wide", np.zeros((2, 3), np.float32), [0, 3, 0, 0], mode="reflect")
    with pytest.raises(UnsupportedOpsError, match="reflect pads"):
        compile_model(case.save(tmp_path))


def test_runtime_pads_are_rejected(tmp_path: Path) -> None:
    x = np.zeros((2, 3), np.float32)
    case = single_node_case("runtime_pads", "Pad", {"x": x, "pads": np.zeros(4, np.int64)})
    with pytest.raises(UnsupportedOpsError, match="pads"):
        compile_model(case.save(tmp_path))
