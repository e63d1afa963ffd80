import numpy as np
import pytest

from ariel_build.pipeline import emit_module
from fixtures.ops.gather import cases, out_of_range_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch([*CASES, out_of_range_case()], tmp_path_factory.mktemp("gather"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_runtime_indices_out_of_range_are_clamped(batch: CaseBatch) -> None:
    case = out_of_range_case()
    x, indices = case.inputs
    wrapped = np.where(indices < 0, indices + x.shape[0], indices)
    want = x[np.clip(wrapped, 0, x.shape[0] - 1)]
    (got,) = batch.harness.run(case.name, case.inputs)
    np.testing.assert_array_equal(got, want)


def test_constant_progressions_become_strided_copies(batch: CaseBatch) -> None:
    for name in ("const_scalar_axis1", "const_progression", "const_reversed", "const_scalar_negative_last"):
        source = emit_module(batch.compiled[name], name).source
        assert "copy_strided" in source and "gather(" not in source, name
    assert "gather::gather(" in emit_module(batch.compiled["const_arbitrary_2d"], "g").source
