from pathlib import Path

import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.pipeline import compile_model
from fixtures.ops.layernorm import cases, layernorm_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("layernorm"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_scale_that_broadcasts_along_leading_axes_is_rejected(tmp_path: Path) -> None:
    case = layernorm_case("leading", (2, 3, 4), (3, 1), None, axis=1)
    with pytest.raises(UnsupportedOpsError, match="trailing normalized dimensions"):
        compile_model(case.save(tmp_path))
