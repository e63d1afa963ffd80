"""The stack high-water mark the firmware measures (painted stack, deepest overwritten word).

A one-core model's arena and I/O arrays are locals of its `run_<mod>` on core 0's stack
(qemu_firmware.py `_runner_fn`), so its stack use is at least their size and, by the budget,
within `STACK_MARGIN` of it; a multicore model keeps only its I/O there (the arena is a static).
"""

from __future__ import annotations

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import STACK_MARGIN, io_bytes, model_ram, static_bytes
from ariel_build.schedule.multicore import board_cores
from tests.boards.qemu_batch import QemuBatch
from tests.boards.test_qemu import model_inputs, real_models, sample_cases
from tests.conftest import SHARED_MODELS

pytestmark = pytest.mark.cargo


@pytest.fixture(scope="module", params=["qemu-an386", "qemu-riscv32"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> QemuBatch:
    # The same models as tests/boards/test_qemu.py: the same work directory, one build for both.
    return QemuBatch(request.param, sample_cases(), real_models(), tmp_path_factory.mktemp("stack"))


def stack_of(batch: QemuBatch, name: str) -> int:
    inputs = batch.cases[name].inputs if name in batch.cases else model_inputs(batch, name)
    result = batch.run(name, inputs)
    assert len(result.stack_bytes) == 1  # one-core models report core 0 only
    memory = batch.harness.report(name, result.counts, result.stack_bytes)["memory"]
    assert memory["stack_bytes"] == result.stack_bytes[0]
    assert "stack_bytes_per_core" not in memory
    return result.stack_bytes[0]


@pytest.mark.parametrize("name", ["relu_1k", "relu_4k", "mnist"])
def test_stack_holds_arena_and_io_within_the_budget_margin(batch: QemuBatch, name: str) -> None:
    model = batch.compiled[name]
    on_stack = model.plan.arena_bytes + io_bytes(model)
    stack = stack_of(batch, name)
    assert on_stack < stack < on_stack + STACK_MARGIN
    board = batch.harness.board
    assert board.ram is not None and stack < board.ram.size


def test_bigger_model_uses_more_stack(batch: QemuBatch) -> None:
    small, big = stack_of(batch, "relu_1k"), stack_of(batch, "relu_4k")
    # Same code path, 4x the input and output arrays: at least their growth, little more.
    growth = io_bytes(batch.compiled["relu_4k"]) - io_bytes(batch.compiled["relu_1k"])
    assert growth <= big - small < growth + 1024
    assert stack_of(batch, "mnist") > small


def test_every_core_of_a_multicore_run_reports_its_stack() -> None:
    board = load_board("qemu-riscv32")
    path = SHARED_MODELS / "onnx" / "mnist.onnx"
    model = compile_model(path, cores=board_cores(board, 4))
    # tests/boards/test_multicore.py builds this very crate: cargo finds it fresh.
    harness = QemuHarness(
        {"mnist": model}, cache_dir() / "test-firmware" / "multicore-qemu-riscv32-mnist-4", board
    )
    rng = np.random.default_rng(7)
    result = harness.run("mnist", [rng.uniform(-1, 1, (1, 1, 28, 28)).astype(np.float32)])
    memory = harness.report("mnist", result.counts, result.stack_bytes)["memory"]
    per_core = memory["stack_bytes_per_core"]
    assert len(per_core) == 4 and memory["stack_bytes"] == per_core[0]
    hart_stack = model_ram(board, static_bytes({"mnist": model}, board))
    # Core 0 holds the I/O arrays (the arena is a static); the others only their kernels' frames.
    assert io_bytes(model) < per_core[0] < io_bytes(model) + STACK_MARGIN
    assert all(0 < used < min(STACK_MARGIN, hart_stack) for used in per_core[1:])
