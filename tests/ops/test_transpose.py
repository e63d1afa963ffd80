import pytest

from ariel_build.ops.transpose import StridedCopy, transpose_copy
from ariel_build.pipeline import emit_module
from fixtures.ops.transpose import cases
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("transpose"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def _source(batch: CaseBatch, name: str) -> str:
    return emit_module(batch.compiled[name], name).source


def test_nchw_nhwc_and_matrices_use_the_blocked_transpose(batch: CaseBatch) -> None:
    for name in (
        "nchw_to_nhwc",
        "nhwc_to_nchw",
        "matrix_default_perm_odd",
        "int8_matrix",
        "uint8_nchw_to_nhwc",
    ):
        assert "transpose_2d" in _source(batch, name), name
    assert "copy_strided" in _source(batch, "rank5")


def test_perms_moving_only_unit_axes_are_views(batch: CaseBatch) -> None:
    for name in ("unit_axes_only_view", "identity_perm_view"):
        assert [n.op for n in batch.compiled[name].graph.nodes] == ["Reshape"], name


def test_adjacent_axes_merge() -> None:
    # [2, 3, 4, 5] -> perm [2, 3, 0, 1] is a [6, 20] matrix transpose.
    plan = transpose_copy((2, 3, 4, 5), [2, 3, 0, 1]).simplified()
    assert plan.as_transpose_2d() == (1, 6, 20)
    # Unit axes vanish; reversing an axis' runs keeps them separate.
    assert StridedCopy((1, 4, 1), (99, 1, 7)).simplified() == StridedCopy((4,), (1,))
    assert StridedCopy((3, 4), (-4, 1), 8).simplified().shape == (3, 4)
