from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ops.binary import collapse
from ariel_build.pipeline import compile_model
from fixtures.model_case import single_node_case
from fixtures.ops.binary import cases
from tests.oracle import CaseBatch

# Before opset 7, B is aligned with A at `axis` (onnxruntime no longer runs these models).
LEGACY_A = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
LEGACY_B = np.arange(12, dtype=np.float32).reshape(3, 4) * 100
LEGACY = single_node_case(
    "add_opset6_axis1", "Add", {"a": LEGACY_A, "b": LEGACY_B}, attrs={"broadcast": 1, "axis": 1}, opset=6
)
CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch([*CASES, LEGACY], tmp_path_factory.mktemp("binary"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_legacy_broadcast_aligns_b_at_axis(batch: CaseBatch) -> None:
    (got,) = batch.harness.run(LEGACY.name, LEGACY.inputs)
    np.testing.assert_array_equal(got, LEGACY_A + LEGACY_B[None, :, :, None])


def test_chain_runs_in_place(batch: CaseBatch) -> None:
    compiled = batch.compiled["binary_inplace_chain"]
    ops = {n.name: n.op for n in compiled.graph.nodes}
    # Not in place: the first Mul reads the caller's x, the second Mul's input c is read again
    # by Max, Greater changes the element type, Where writes the caller's y. Every other step
    # (Mean with three operands too) overwrites its input 0's arena buffer.
    assert sorted(ops[n] for n in compiled.plan.inplace_nodes) == ["Add", "Max", "Mean", "Not", "Sub"]


@pytest.mark.parametrize(
    ("out", "operands", "shape", "strides"),
    [
        # Same shape: one contiguous row.
        ((3, 5, 7), [(3, 5, 7), (3, 5, 7)], [105], [[1], [1]]),
        # Per-channel bias: N kept apart from H*W because the bias is broadcast along both.
        ((2, 3, 5, 7), [(2, 3, 5, 7), (1, 3, 1, 1)], [2, 3, 35], [[105, 35, 1], [0, 1, 0]]),
        # Scalar: one row, stride 0.
        ((4, 6), [(4, 6), ()], [24], [[1], [0]]),
        # Size-1 output dims vanish; both sides broadcast.
        ((1, 3, 1, 7), [(3, 1, 1), (1, 7)], [3, 7], [[1, 0], [0, 1]]),
        # A 1-element output.
        ((1, 1), [(1,), (1, 1)], [1], [[1], [1]]),
    ],
)
def test_collapse_by_hand(
    out: tuple[int, ...], operands: list[tuple[int, ...]], shape: list[int], strides: list[list[int]]
) -> None:
    assert collapse(out, operands) == (shape, strides)


def test_float_mod_without_fmod_is_rejected_with_reason(tmp_path: Path) -> None:
    x = np.ones((2, 3), np.float32)
    case = single_node_case("m", "Mod", {"a": x, "b": x})
    with pytest.raises(UnsupportedOpsError, match="fmod=0 on floating-point inputs"):
        compile_model(case.save(tmp_path))


def test_prelu_slope_larger_than_x_is_rejected(tmp_path: Path) -> None:
    case = single_node_case("p", "PRelu", {"x": np.ones((3,), np.float32), "s": np.ones((2, 3), np.float32)})
    with pytest.raises(UnsupportedOpsError, match=r"slope \[2, 3\] does not broadcast to X \[3\]"):
        compile_model(case.save(tmp_path))
