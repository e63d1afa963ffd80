"""`ariel-build demo`: an example firmware crate for the board through plain `cargo build` and
`cargo run` (QEMU, all cores), then a real model on one core and on all cores of the board, with
the prediction, the work per core and the speed-up."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ariel_build.boards import load_board
from ariel_build.errors import RunError
from ariel_build.run import RunResult, run_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "mnist-bare"
MODEL = ROOT.parent / "shared" / "models" / "onnx" / "mnist.onnx"
INK_LEVELS = ".,:-=+*#%@"  # examples/mnist-bare/digits/*.txt: background … ink


def digit_image(digit: int) -> np.ndarray:
    """A drawn digit from the example crate as the model's input: 1×1×28×28 floats in 0…1."""
    art = (EXAMPLE / "digits" / f"{digit}.txt").read_text()
    levels = [INK_LEVELS.index(c) if c in INK_LEVELS else 0 for c in art if not c.isspace()]
    return (np.array(levels, np.float32) / (len(INK_LEVELS) - 1)).reshape(1, 1, 28, 28)


def example_for(board_name: str) -> Path:
    """The firmware crate the demo builds: the Embassy example of an emulated board, else the host one."""
    embassy = ROOT / "examples" / f"embassy-{board_name}"
    return embassy if embassy.is_dir() else EXAMPLE


def build_example(board_name: str, console: Console) -> None:
    from ariel_build.runners.host import cache_dir
    from ariel_build.runners.qemu import cargo, cross_env

    crate = example_for(board_name)
    board = load_board(board_name)
    if crate == EXAMPLE:
        tool, env = "cargo", {**os.environ, "CARGO_TARGET_DIR": str(cache_dir() / "demo-target")}
    else:  # `core` from source with Debian's Rust (the crate's .cargo/config.toml has the target and runner)
        tool, env = cargo(), cross_env(str(board.target))
    what = f"{crate.relative_to(ROOT)} for {board_name}"
    console.print(f"[bold]1. cargo build[/] of {what} (its build.rs runs ariel-build on ariel.toml)")
    start = time.monotonic()
    with console.status("cargo build --release …"):
        build = subprocess.run(
            [tool, "build", "--release"], cwd=crate, env=env, capture_output=True, text=True
        )
    if build.returncode != 0:
        raise RunError(f"cargo build of {crate} failed:\n{build.stderr.strip()[-3000:]}")
    console.print(f"   built in {time.monotonic() - start:.1f} s; [bold]cargo run[/]:")
    with console.status("cargo run --release …"):
        run = subprocess.run(
            [tool, "run", "--release", "--quiet"],
            cwd=crate,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    if run.returncode != 0:
        raise RunError(f"cargo run of {crate} failed:\n{(run.stderr or run.stdout).strip()[-3000:]}")
    for line in run.stdout.strip().splitlines():
        console.print("   " + line, highlight=False, markup=False)
    if crate != EXAMPLE:
        console.print("   (its stand-in sensor task sends an all-zero image; step 2 runs a drawn 7)")


def _prediction(result: RunResult) -> int:
    return int(np.argmax(next(iter(result.outputs.values()))))


def _work(results: dict[int, RunResult], counted: bool) -> dict[int, tuple[list[float], float]]:
    """Per core count: (work per core, critical path): measured instructions, or else the
    scheduler's estimate (the N-core schedule also estimates the 1-core time)."""
    if counted:
        return {
            k: (r.report["per_core_instructions"], r.report["critical_path_instructions"])
            for k, r in results.items()
        }
    work = {}
    for k, r in results.items():
        schedule = r.report.get("schedule")
        if schedule is not None:
            work[k] = (schedule["per_core_busy_estimate"], schedule["critical_path_estimate"])
            work[1] = ([schedule["one_core_estimate"]], schedule["one_core_estimate"])
    return work


def demo(board_name: str, cores: int | None, console: Console) -> None:
    board = load_board(board_name)
    n = cores or len(board.cores)
    build_example(board.name, console)
    if not MODEL.exists():
        raise RunError(
            f"the demo model {MODEL} is missing", fix="check out the shared models beside this repository"
        )
    image = digit_image(7)
    console.print(f"\n[bold]2. {MODEL.name}[/] on [bold]{board.name}[/] ({board.description})")
    results = {}
    for k in dict.fromkeys((1, n)):
        with console.status(f"compiling, building and running on {k} core(s)…"):
            results[k] = run_model(MODEL, board.name, k, [image], console=console)
    counted = results[1].report.get("per_core_instructions") is not None
    unit = "instructions" if counted else "cost estimate (scheduler units; the host counts no instructions)"
    table = Table(caption=f"work per core and critical path: {unit}")
    for col in ("cores", "prediction", "work per core", "critical path", "speed-up"):
        table.add_column(col, justify="right")
    work = _work(results, counted)
    for k, r in results.items():
        per_core, critical = work.get(k, ([], 0.0))
        table.add_row(
            str(k),
            str(_prediction(r)),
            " + ".join(f"{c:,.0f}" for c in per_core) or "-",
            f"{critical:,.0f}" if critical else "-",
            f"{work[1][1] / critical:.2f}×" if critical else "-",
        )
    console.print(table)
    if len(results) > 1 and any(
        not np.array_equal(a, b) for a, b in zip(*(r.outputs.values() for r in results.values()), strict=True)
    ):
        raise RunError("outputs on 1 core and on all cores differ; please report this bug")
    r = results[n]
    console.print(
        f"MACs {r.report['macs']:,} · weights {r.report['weight_bytes']:,} B · arena {r.report['arena_bytes']:,} B"
        + (f" · firmware flash {r.report['flash_bytes']:,} B" if board.emulated else "")
    )
