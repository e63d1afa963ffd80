"""Compile, build and run one model on a board: what `ariel-build run` and the demo do."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ariel_build.errors import RunError

if TYPE_CHECKING:
    from ariel_build.boards import Board


@dataclass
class RunResult:
    outputs: dict[str, np.ndarray]  # graph output name → value
    report: dict[str, Any]


@contextmanager
def _step(progress: Progress, name: str) -> Iterator[None]:
    """One named step of the run: a spinner while it works, a tick and its time once done."""
    task = progress.add_task(name, total=1)
    yield
    progress.update(task, completed=1)


def run_model(
    model_path: str | Path,
    board_name: str,
    cores: int,
    inputs: list[np.ndarray],
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    console: Console | None = None,
    input_files: list[str] | None = None,
    int8_weights: str = "auto",
) -> RunResult:
    """`input_files` names where the inputs came from, for the error messages; `int8_weights`:
    the int8 weight layout (ops/quantized/packing.py)."""
    from ariel_build.boards import load_board

    console = console or Console(stderr=True)
    board = load_board(board_name)
    if board.runner.kind not in ("host", "qemu"):
        raise RunError(
            f"board '{board.name}' is a real board ({board.runner.kind}); `run` drives the host and QEMU only",
            fix="use --board host or an emulated board (qemu-an386, qemu-riscv32, ...)",
        )
    progress = Progress(
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        return _run(model_path, board, cores, inputs, input_shapes, progress, input_files, int8_weights)


def _run(
    model_path: str | Path,
    board: Board,
    cores: int,
    inputs: list[np.ndarray],
    input_shapes: dict[str, tuple[int, ...]] | None,
    progress: Progress,
    input_files: list[str] | None,
    int8_weights: str,
) -> RunResult:
    from ariel_build.pipeline import compile_model
    from ariel_build.report import add_board_measurements, summary
    from ariel_build.runners.qemu_firmware import io_bytes, wide_weight_budget
    from ariel_build.schedule.multicore import board_cores
    from ariel_build.tflm import tflm_arena

    with _step(progress, f"compiling {Path(model_path).name} for {cores} core(s)"):
        model = compile_model(
            model_path, input_shapes or {}, board_cores(board, cores), wide_weight_budget(board), int8_weights
        )
    g = model.graph
    if len(inputs) != len(g.inputs):
        raise RunError(
            f"the model has {len(g.inputs)} input(s) {g.inputs}; {len(inputs)} given",
            fix="pass one --input FILE.npy per graph input, in graph-input order",
        )
    arrays = []
    for k, (arr, name) in enumerate(zip(inputs, g.inputs, strict=True)):
        t = g.tensor(name)
        if arr.size != t.size:
            given = input_files[k] if input_files else f"input {k}"
            raise RunError(f"{given} has shape {arr.shape}; input '{name}' needs {t.shape}")
        arrays.append(arr.astype(t.dtype.numpy).reshape(t.shape))
    report = summary(model)
    report.update(board=board.name, cores=cores, outputs=list(dict.fromkeys(g.outputs)))
    report.update(io_bytes=io_bytes(model), tflm_arena=tflm_arena(Path(model_path)))
    if model.multicore is not None:
        report["schedule"] = model.multicore.summary()
    with tempfile.TemporaryDirectory(prefix="ariel-run-") as work:
        if board.emulated:
            from ariel_build.runners.qemu import QemuHarness

            qemu = QemuHarness({"model": model}, Path(work), board)
            with _step(progress, f"building the firmware for {board.name} (cargo)"):
                qemu.build()
            with _step(progress, f"running on {board.name} (QEMU)"):
                result = qemu.run("model", arrays)
            outputs = result.outputs
            add_board_measurements(report, qemu.report("model", result.counts, result.stack_bytes))
        else:
            from ariel_build.runners.host import HostHarness

            with _step(progress, "building the host harness (cargo)"):
                harness = HostHarness({"model": model}, Path(work))
                harness.build()
            with _step(progress, "running on the host"):
                outputs = harness.run("model", arrays)
            report.update(
                flash_bytes=model.plan.weight_bytes,
                per_core_instructions=None,
                critical_path_instructions=None,
            )
    return RunResult(dict(zip(dict.fromkeys(g.outputs), outputs, strict=True)), report)
