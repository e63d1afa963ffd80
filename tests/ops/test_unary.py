import math
from pathlib import Path

import numpy as np
import onnx
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.pipeline import compile_model
from fixtures.model_case import ModelCase, single_node_case
from fixtures.ops.unary import cases
from tests.oracle import CaseBatch

# Dense grid over erf's curved part, for the accuracy check against float64.
ERF_GRID = np.linspace(-4, 4, 8001, dtype=np.float32)
ERF_CASE = single_node_case("unary_erf_dense", "Erf", {"x": ERF_GRID})
CASES = [*cases(), ERF_CASE]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("unary"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_erf_is_within_two_ulp_of_float64(batch: CaseBatch) -> None:
    (got,) = batch.harness.run(ERF_CASE.name, ERF_CASE.inputs)
    exact = np.array([math.erf(float(v)) for v in ERF_GRID])
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - exact) / ulp) <= 2.0


def test_chain_runs_in_place(batch: CaseBatch) -> None:
    compiled = batch.compiled["unary_inplace_chain"]
    ops = {n.name: n.op for n in compiled.graph.nodes}
    # Exp reads the caller's input and Clip's successor writes the caller's output; Neg and Clip
    # overwrite their input's arena buffer.
    assert sorted(ops[n] for n in compiled.plan.inplace_nodes) == ["Clip", "Neg"]
    assert compiled.plan.arena_bytes == 3 * 5 * 7 * 4 + 12  # one buffer, 16-byte aligned


def _unsupported(case: ModelCase, tmp_path: Path) -> str:
    with pytest.raises(UnsupportedOpsError) as e:
        compile_model(case.save(tmp_path))
    return str(e.value)


def test_clip_with_a_bound_of_several_elements_is_rejected_with_reason(tmp_path: Path) -> None:
    x = np.zeros((2, 3), np.float32)
    case = single_node_case("c", "Clip", {"x": x, "lo": np.zeros(3, np.float32)}, opset=13)
    assert "bound (input 1) must be one float32, not float32[3]" in _unsupported(case, tmp_path)


def test_cast_to_a_type_outside_the_ir_is_rejected_with_reason(tmp_path: Path) -> None:
    x = np.zeros((2, 3), np.float32)
    case = single_node_case("c", "Cast", {"x": x}, attrs={"to": onnx.TensorProto.FLOAT16})
    assert "cast to FLOAT16" in _unsupported(case, tmp_path)
