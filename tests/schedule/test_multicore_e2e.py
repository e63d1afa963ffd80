"""Multicore runs on the host (threads stand in for cores): for cores 1..4, outputs bit-identical
to the one-core `run` and equal to onnxruntime within tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import HostHarness
from ariel_build.schedule.multicore import board_cores
from fixtures.model_case import ModelCase
from fixtures.models import inception, transformer
from fixtures.ops import conv, pool
from tests.oracle import onnxruntime_outputs

CORES = (1, 2, 3, 4)
# Batch-1 convolutions (split by output channel or group) and every pool case (split by plane,
# batch 2 included); ConvTranspose cases run whole; the branchy CNNs; a transformer block (MatMul
# rows and heads, LayerNorm and softmax rows, bias adds by rows, elementwise ops; transposes whole).
# tests/schedule/test_split_rules.py runs every rule with forced splits.
CASES = [
    *(c for c in conv.cases() if c.inputs[0].shape[0] == 1),
    *pool.cases(),
    *inception.cases(),
    *transformer.cases(),
]


class MulticoreBatch:
    """Every case compiled for each core count, all in one harness (one cargo build)."""

    def __init__(self, cases: list[ModelCase], workdir: Path) -> None:
        host = load_board("host")
        self.cases = {c.name: c for c in cases}
        self.paths = {c.name: c.save(workdir / "models") for c in cases}
        self.compiled: dict[str, CompiledModel] = {
            f"{name}_c{n}": compile_model(path, cores=board_cores(host, n))
            for name, path in self.paths.items()
            for n in CORES
        }
        self.harness = HostHarness(self.compiled, workdir / "harness")
        self.harness.build()

    def outputs(self, name: str, cores: int) -> list[np.ndarray]:
        return self.harness.run(f"{name}_c{cores}", self.cases[name].inputs, timeout=60)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> MulticoreBatch:
    return MulticoreBatch(CASES, tmp_path_factory.mktemp("multicore"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_bit_identical_to_one_core_and_matches_onnxruntime(batch: MulticoreBatch, name: str) -> None:
    case = batch.cases[name]
    one = batch.outputs(name, 1)
    want = onnxruntime_outputs(batch.paths[name], case.inputs)
    for k, (got, w) in enumerate(zip(one, want, strict=True)):
        np.testing.assert_allclose(got, w, rtol=case.rtol, atol=case.atol, err_msg=f"{name} output {k}")
    for n in CORES[1:]:
        for k, (got, ref) in enumerate(zip(batch.outputs(name, n), one, strict=True)):
            np.testing.assert_array_equal(got, ref, err_msg=f"{name} output {k} on {n} cores")


def test_inception_uses_every_core_and_splits(batch: MulticoreBatch) -> None:
    for n in CORES[1:]:
        mc = batch.compiled[f"inception_block_c{n}"].multicore
        assert mc is not None
        s = mc.program.schedule
        assert all(s.order[c] for c in range(n)), f"an idle core with {n} cores"
        assert any(t.index > 0 for t in s.tasks), "no node was split"
        assert mc.summary()["critical_path_estimate"] < mc.summary()["one_core_estimate"]
