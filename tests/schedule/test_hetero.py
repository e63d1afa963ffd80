"""Heterogeneous boards: split ops are shared in proportion to the cores' declared speeds, and
outputs stay bit-identical to one core (host threads, and QEMU's qemu-riscv32-hetero board,
whose two harts are declared at speeds 1.0 and 0.5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.frontends import load_model
from ariel_build.passes import optimize
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness, cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.schedule.cost import SYNC, part_cost
from ariel_build.schedule.list_scheduler import schedule
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.split import split_rule
from fixtures.models import inception, transformer
from tests.conftest import SHARED_MODELS
from tests.oracle import onnxruntime_outputs

MNIST = SHARED_MODELS / "onnx" / "mnist.onnx"
# Board -> the slower core's speed relative to core 0 (both f32 and int8).
HETERO = {"qemu-riscv32-hetero": 0.5, "stm32h747": 0.4}


def test_board_definitions_declare_unequal_speeds() -> None:
    riscv = load_board("qemu-riscv32-hetero")
    assert [(c.f32_speed, c.int8_speed) for c in riscv.cores] == [(1.0, 1.0), (0.5, 0.5)]
    assert (
        "-smp" in riscv.runner.command and riscv.runner.command[riscv.runner.command.index("-smp") + 1] == "2"
    )
    h747 = load_board("stm32h747")
    assert [(c.arch, c.mhz) for c in h747.cores] == [("cortex-m7", 480), ("cortex-m4f", 240)]
    # The M4 has half the clock and no dual issue: below half the M7's throughput.
    assert [(c.f32_speed, c.int8_speed) for c in h747.cores] == [(1.0, 1.0), (0.4, 0.4)]


@pytest.mark.parametrize("board", list(HETERO))
def test_split_ops_are_shared_by_speed(board: str, tmp_path: Path) -> None:
    slow = HETERO[board]
    g = optimize(load_model(inception.inception_case().save(tmp_path)))
    cores = board_cores(load_board(board), 2)
    s = schedule(g, cores)
    fine = 0
    for name in {t.node.name for t in s.tasks if t.index > 0}:
        tasks = {s.core[t.id]: t for t in s.tasks if t.node.name == name}
        assert set(tasks) == {0, 1}
        rule = split_rule(next(n for n in g.nodes if n.name == name), g)
        assert rule is not None
        size = {c: t.part.output_range[1] - t.part.output_range[0] for c, t in tasks.items()}
        unit = (size[0] + size[1]) // rule.units
        # Sized to finish together, give or take one unit on either core.
        one_unit = sum(part_cost(t.part, cores[c]) * unit / size[c] for c, t in tasks.items())
        assert abs(s.finish[tasks[0].id] - s.finish[tasks[1].id]) <= one_unit + 1e-6, name
        if rule.units >= 1000 and abs(s.start[tasks[0].id] - s.start[tasks[1].id]) <= SYNC:
            # Fine-grained ops started together: the fast core gets 1 / slow times the slow one's
            # share (within the per-part call cost, paid at the slow core's speed).
            assert size[0] / size[1] == pytest.approx(1 / slow, rel=0.05), (name, size)
            fine += 1
    assert fine >= 3


def _key(model: str, board: str) -> str:
    return f"{model}_{board.replace('-', '_')}"


@pytest.mark.cargo
def test_host_threads_run_heterogeneous_schedules_bit_identical(tmp_path: Path) -> None:
    cases = [*inception.cases(), *transformer.cases()]
    paths = {c.name: c.save(tmp_path / "models") for c in cases} | {"mnist": MNIST}
    models = {f"{name}_c1": compile_model(path) for name, path in paths.items()}
    for board in HETERO:
        cores = board_cores(load_board(board), 2)
        models |= {_key(name, board): compile_model(path, cores=cores) for name, path in paths.items()}
    harness = HostHarness(models, tmp_path / "harness")
    harness.build()
    rng = np.random.default_rng(3)
    for name, path in paths.items():
        g = models[f"{name}_c1"].graph
        inputs = [rng.uniform(-1, 1, g.tensor(i).shape).astype(np.float32) for i in g.inputs]
        one = harness.run(f"{name}_c1", inputs, timeout=60)
        for ref, got in zip(onnxruntime_outputs(path, inputs), one, strict=True):
            np.testing.assert_allclose(got, ref.reshape(got.shape), rtol=1e-4, atol=1e-5)
        for board in HETERO:
            for got, ref in zip(harness.run(_key(name, board), inputs, timeout=60), one, strict=True):
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {board}")


@pytest.mark.cargo
def test_qemu_hetero_board_bit_identical_and_work_follows_speeds() -> None:
    board = load_board("qemu-riscv32-hetero")
    x = [np.random.default_rng(5).uniform(-1, 1, (1, 1, 28, 28)).astype(np.float32)]
    results, reports = {}, {}
    for n in (1, 2):
        model = compile_model(MNIST, cores=board_cores(board, n))
        harness = QemuHarness({"mnist": model}, cache_dir() / "test-firmware" / f"hetero-mnist-{n}", board)
        harness.build()
        results[n] = harness.run("mnist", x, timeout=120)
        reports[n] = harness.report("mnist", results[n].counts)
    for got, ref in zip(results[2].outputs, results[1].outputs, strict=True):
        np.testing.assert_array_equal(got, ref)
    core0, core1 = reports[2]["per_core_instructions"]
    # Declared speeds 1.0 and 0.5: hart 0 gets two thirds of every split op (QEMU runs both at
    # the same rate, so the counts show the shares, not a slower hart).
    assert 1.7 < core0 / core1 < 2.4, (core0, core1)
    assert reports[2]["critical_path_instructions"] < reports[1]["critical_path_instructions"]
