from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.model_case import ModelCase, single_node_case
from fixtures.ops.pool import cases, pool_case
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("pool"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_max_pool_indices_output_is_rejected_with_a_reason(tmp_path: Path) -> None:
    x = np.zeros((1, 1, 4, 4), np.float32)
    case = single_node_case("max_indices", "MaxPool", {"x": x}, attrs={"kernel_shape": [2, 2]}, n_outputs=2)
    with pytest.raises(UnsupportedOpsError, match="Indices output"):
        compile_model(case.save(tmp_path))


def test_window_entirely_in_padding_is_rejected(tmp_path: Path) -> None:
    case = pool_case("pad_too_big", "MaxPool", (1, 1, 4, 4), kernel_shape=[2, 2], pads=[2, 0, 0, 0])
    with pytest.raises(UnsupportedOpsError, match="entirely in the padding"):
        compile_model(case.save(tmp_path))


@pytest.mark.parametrize(
    ("case", "macs"),
    [
        # Out 5x4 ((9+2-3)//2+1, (8+2-3)//2+1), 9 taps each, 2*3 planes.
        (
            pool_case("m1", "MaxPool", (2, 3, 9, 8), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
            6 * 20 * 9,
        ),
        # One addition per input element.
        (pool_case("m2", "GlobalAveragePool", (2, 5, 7, 6)), 2 * 5 * 7 * 6),
    ],
)
def test_macs_by_hand(case: ModelCase, macs: int, tmp_path: Path) -> None:
    graph = compile_model(case.save(tmp_path)).graph
    assert sum(lookup(n.op).macs(n, graph) for n in graph.nodes) == macs
