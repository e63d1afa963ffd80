from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.model_case import single_node_case
from fixtures.ops.reduce import cases, reduce_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("reduce"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_axes_interleaving_beyond_the_kernel_is_rejected(tmp_path: Path) -> None:
    # Ten alternating groups: five kept, five reduced.
    case = reduce_case("too_fine", "ReduceSum", (2,) * 10, [0, 2, 4, 6, 8], 11)
    with pytest.raises(UnsupportedOpsError, match="interleave"):
        compile_model(case.save(tmp_path))


def test_runtime_axes_are_rejected(tmp_path: Path) -> None:
    inputs = {"x": np.ones((2, 3), np.float32), "axes": np.array([1], np.int64)}
    case = single_node_case("runtime_axes", "ReduceSum", inputs, opset=13)
    with pytest.raises(UnsupportedOpsError, match="axes"):
        compile_model(case.save(tmp_path))


def test_macs_count_every_input_element(tmp_path: Path) -> None:
    graph = compile_model(reduce_case("m", "ReduceMean", (2, 8, 5, 5), [2, 3], 13).save(tmp_path)).graph
    assert sum(lookup(n.op).macs(n, graph) for n in graph.nodes) == 2 * 8 * 5 * 5
