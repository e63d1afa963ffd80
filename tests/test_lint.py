"""The project's own standards, checked in CI: ruff on the Python, rustfmt + clippy -D warnings and
the unit tests of the Rust crates, no `unsafe` in generated code and none in the kernels and the
board runtime outside their audited modules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_MODELS

RUST_CRATES = ["kernels", "cargo-ariel-shim"]
# The only places of the kernels and the board runtime allowed to write `unsafe` (each module
# documents its safety argument; cortex_m.rs has the exception handlers cortex-m-rt declares unsafe).
AUDITED_UNSAFE = {
    "kernels/src/sync.rs",
    "kernels/src/ops/int8/dsp.rs",
    "board-support/runtime/src/cores.rs",
    "board-support/runtime/src/cortex_m.rs",
}
UNSAFE = re.compile(r"\bunsafe\b")


def _run(cmd: list[str], cwd: Path) -> None:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"{' '.join(cmd)} in {cwd}:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff(args: list[str]) -> None:
    _run([sys.executable, "-m", "ruff", *args, "ariel_build", "tests", "fixtures"], ROOT)


@pytest.mark.cargo
@pytest.mark.parametrize("crate", RUST_CRATES)
def test_rustfmt_clippy_and_unit_tests(crate: str) -> None:
    _run(["cargo", "fmt", "--check"], ROOT / crate)
    _run(["cargo", "clippy", "--quiet", "--all-targets", "--", "-D", "warnings"], ROOT / crate)
    _run(["cargo", "test", "--quiet"], ROOT / crate)


def _code(path: Path) -> str:
    """The file without its comments."""
    return "\n".join(line.split("//")[0] for line in path.read_text().splitlines())


def test_unsafe_only_in_audited_modules() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "*.rs"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    ours = [p for p in listed if p.startswith(("kernels/", "board-support/"))]
    assert "kernels/src/arena.rs" in ours
    offenders = [p for p in ours if p not in AUDITED_UNSAFE and UNSAFE.search(_code(ROOT / p))]
    assert not offenders, f"`unsafe` outside the audited modules: {offenders}"


def test_generated_code_has_no_unsafe() -> None:
    from ariel_build.boards import load_board
    from ariel_build.pipeline import compile_model, emit_module
    from ariel_build.schedule.multicore import board_cores

    board = load_board("qemu-an524")
    for cores in (1, 2):
        model = compile_model(SHARED_MODELS / "onnx" / "mnist.onnx", cores=board_cores(board, cores))
        assert (model.multicore is not None) == (cores > 1)
        assert not UNSAFE.search(emit_module(model, "mnist", "w.bin").source)
