"""Builds many test models into one firmware per board and compares runs with onnxruntime."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ariel_build.boards import load_board
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness, RunResult
from ariel_build.runners.qemu_firmware import wide_weight_budget
from ariel_build.schedule.multicore import board_cores
from fixtures.model_case import ModelCase
from tests.oracle import onnxruntime_outputs


class QemuBatch:
    """One firmware for `cases` + `models` (name -> ONNX path) on `board`.

    The work directory is keyed by board and model names, so pytest workers asking for the same
    batch share one build (the harness builds under a lock; cargo finds it fresh the second time).
    """

    def __init__(self, board: str, cases: list[ModelCase], models: dict[str, Path], tmp: Path) -> None:
        self.cases = {c.name: c for c in cases}
        self.paths = {c.name: c.save(tmp / "models") for c in cases} | dict(models)
        flash = wide_weight_budget(load_board(board), len(self.paths))
        cores = board_cores(load_board(board), 1)
        self.compiled: dict[str, CompiledModel] = {
            n: compile_model(p, cores=cores, flash=flash) for n, p in self.paths.items()
        }
        # Keyed by the models' bytes too: processes with different models never share a firmware.
        digest = hashlib.sha1(board.encode())
        for name in sorted(self.paths):
            digest.update(name.encode() + b"\0" + self.paths[name].read_bytes())
        key = digest.hexdigest()[:12]
        workdir = cache_dir() / "test-firmware" / f"{board}-{key}"
        self.harness = QemuHarness(self.compiled, workdir, load_board(board))
        self.harness.build()

    def run(self, name: str, inputs: list[np.ndarray]) -> RunResult:
        return self.harness.run(name, inputs, timeout=300)

    def check(self, name: str, inputs: list[np.ndarray] | None = None) -> RunResult:
        case = self.cases.get(name)
        inputs = inputs if inputs is not None else case.inputs if case else []
        rtol, atol = (case.rtol, case.atol) if case else (1e-4, 1e-5)
        result = self.run(name, inputs)
        want = onnxruntime_outputs(self.paths[name], inputs)
        assert len(result.outputs) == len(want)
        for k, (got, ref) in enumerate(zip(result.outputs, want, strict=True)):
            assert got.shape == ref.shape, f"{name} output {k}: shape {got.shape} != onnxruntime {ref.shape}"
            if np.issubdtype(ref.dtype, np.floating):
                np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{name} output {k}")
            else:
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} output {k}")
        return result
