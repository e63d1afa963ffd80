from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.pipeline import compile_model
from fixtures.ops.resize import cases, resize_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("resize"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


@pytest.mark.parametrize(
    ("attrs", "match"),
    [
        ({"mode": "cubic"}, "mode 'cubic'"),
        ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
    ],
)
def test_unsupported_modes_are_named(tmp_path: Path, attrs: dict[str, object], match: str) -> None:
    case = resize_case("bad", np.zeros((1, 1, 2, 2), np.float32), scales=[1, 1, 2, 2], **attrs)
    with pytest.raises(UnsupportedOpsError, match=match):
        compile_model(case.save(tmp_path))


def test_linear_resize_of_channels_is_rejected(tmp_path: Path) -> None:
    case = resize_case("channels", np.zeros((1, 2, 2, 2), np.float32), scales=[1, 2, 2, 2], mode="linear")
    with pytest.raises(UnsupportedOpsError, match="last two"):
        compile_model(case.save(tmp_path))
