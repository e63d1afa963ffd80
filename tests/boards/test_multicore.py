"""The static multicore schedule on emulated boards: qemu-an524 (2 x M33) and qemu-riscv32 (4 harts).

N-core outputs are bit-identical to the one-core `run` and match onnxruntime/LiteRT; every core
executes instructions, and the replayed critical path is shorter than one core's work.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.cli import main as cli_main
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness, RunResult, replay
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.program import Run, Signal, Wait
from tests.conftest import SHARED_MODELS
from tests.oracle import litert_outputs, onnxruntime_outputs

MODELS = {
    "mnist": SHARED_MODELS / "onnx" / "mnist.onnx",
    "kws": SHARED_MODELS / "mlperf_tiny" / "kws_ref_model_float32.tflite",
    "resnet": SHARED_MODELS / "mlperf_tiny" / "pretrainedResnet.tflite",
}
# LiteRT runs the KWS model's weights as int8 (dynamic range): close, not float-exact
# (tests/frontends/test_tflite.py checks the exact float semantics on the host).
HYBRID = {"kws"}
slow = pytest.mark.slow
CASES = [
    pytest.param("qemu-an524", "mnist", 2, marks=pytest.mark.cargo),
    pytest.param("qemu-riscv32", "mnist", 2, marks=pytest.mark.cargo),
    pytest.param("qemu-riscv32", "mnist", 4, marks=pytest.mark.cargo),
    pytest.param("qemu-riscv32", "kws", 4, marks=pytest.mark.cargo),
    pytest.param("qemu-an524", "kws", 2, marks=[pytest.mark.cargo, slow]),
    pytest.param("qemu-riscv32", "kws", 2, marks=[pytest.mark.cargo, slow]),
    pytest.param("qemu-an524", "resnet", 2, marks=[pytest.mark.cargo, slow]),
    pytest.param("qemu-riscv32", "resnet", 2, marks=[pytest.mark.cargo, slow]),
    pytest.param("qemu-riscv32", "resnet", 4, marks=[pytest.mark.cargo, slow]),
]


class Runs:
    """One firmware per (board, model, cores) (the an524's flash holds one ResNet), one run each."""

    def __init__(self) -> None:
        self.harnesses: dict[tuple[str, str, int], QemuHarness] = {}
        self.results: dict[tuple[str, str, int], RunResult] = {}

    def harness(self, board: str, model: str, cores: int) -> QemuHarness:
        key = (board, model, cores)
        if key not in self.harnesses:
            b = load_board(board)
            compiled = compile_model(MODELS[model], cores=board_cores(b, cores))
            workdir = cache_dir() / "test-firmware" / f"multicore-{board}-{model}-{cores}"
            self.harnesses[key] = QemuHarness({model: compiled}, workdir, b)
            self.harnesses[key].build()
        return self.harnesses[key]

    def result(self, board: str, model: str, cores: int) -> RunResult:
        key = (board, model, cores)
        if key not in self.results:
            self.results[key] = self.harness(*key).run(model, model_inputs(model), timeout=300)
        return self.results[key]


def model_inputs(model: str) -> list[np.ndarray]:
    graph = compile_model(MODELS[model]).graph
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, graph.tensor(n).shape).astype(np.float32) for n in graph.inputs]


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs()


@pytest.mark.parametrize(("board", "model", "cores"), CASES)
def test_n_cores_bit_identical_to_one_and_match_the_oracle(
    runs: Runs, board: str, model: str, cores: int
) -> None:
    one = runs.result(board, model, 1)
    many = runs.result(board, model, cores)
    for got, ref in zip(many.outputs, one.outputs, strict=True):
        np.testing.assert_array_equal(got, ref, err_msg=f"{model} on {cores} cores of {board}")
    path = MODELS[model]
    oracle = litert_outputs if path.suffix == ".tflite" else onnxruntime_outputs
    for got, ref in zip(many.outputs, oracle(path, model_inputs(model)), strict=True):
        if model in HYBRID:
            np.testing.assert_allclose(got, ref.reshape(got.shape), atol=5e-3)
            assert np.argmax(got) == np.argmax(ref)
        else:
            np.testing.assert_allclose(got, ref.reshape(got.shape), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("board", "model", "cores"), CASES)
def test_every_core_works_and_the_critical_path_is_shorter(
    runs: Runs, board: str, model: str, cores: int
) -> None:
    serial = runs.harness(board, model, 1).report(model, runs.result(board, model, 1).counts)
    report = runs.harness(board, model, cores).report(model, runs.result(board, model, cores).counts)
    busy = report["per_core_instructions"]
    assert len(busy) == cores and all(n > 0 for n in busy)
    # The replay: no core finishes before its own work; together they did at least the work.
    assert max(busy) <= report["critical_path_instructions"] < serial["critical_path_instructions"]
    # Per-op rows: every task ran on the core it was given; the cores' work is the ops' (and
    # core 0 copying the outputs).
    compiled = runs.harness(board, model, cores).models[model]
    assert compiled.multicore is not None
    schedule = compiled.multicore.program.schedule
    rows = dict(zip((n.name for n in compiled.graph.nodes), report["op_instructions_per_core"], strict=True))
    for task, core in zip(schedule.tasks, schedule.core, strict=True):
        assert rows[task.node.name][core] > 0, task.label
    assert 0 <= sum(busy) - sum(report["op_instructions"]) < 0.01 * sum(busy)
    assert len(report["per_core_wait_instructions"]) == cores


@pytest.mark.cargo
def test_busy_counts_do_not_depend_on_thread_timing(runs: Runs) -> None:
    """The vCPU threads interleave differently on every run: the cores' own instructions do not."""
    harness = runs.harness("qemu-riscv32", "mnist", 4)
    first = harness.report("mnist", runs.result("qemu-riscv32", "mnist", 4).counts)
    again = harness.report("mnist", harness.run("mnist", model_inputs("mnist")).counts)
    assert again["per_core_instructions"] == first["per_core_instructions"]
    assert again["critical_path_instructions"] == first["critical_path_instructions"]


def test_replay_waits_for_the_signal() -> None:
    # Core 0: task 0 (100), signal f0, wait f1, task 2 (50). Core 1: wait f0, task 1 (30), signal f1.
    steps = [[Run(0), Signal(0), Wait(1), Run(2)], [Wait(0), Run(1), Signal(1)]]
    assert replay(steps, [100, 30, 50]) == [100 + 30 + 50, 100 + 30]
    # Core 1 already finished what core 0 waits for: no waiting.
    steps = [[Run(0), Wait(0), Run(2)], [Run(1), Signal(0)]]
    assert replay(steps, [100, 30, 50]) == [150, 30]


@pytest.mark.cargo
def test_cli_runs_two_cores_on_qemu(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", model_inputs("mnist")[0])
    code = cli_main(
        ["run", str(MODELS["mnist"]), "--board", "qemu-riscv32", "--cores", "2"]
        + ["--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "out")]
    )
    assert code == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["cores"] == 2 and report["schedule"]["cores"] == 2
    assert len(report["per_core_instructions"]) == 2 and report["critical_path_instructions"] > 0
    for row in report["ops"]:
        assert len(row["instructions_per_core"]) == 2
        assert sum(row["instructions_per_core"]) == row["instructions"]
