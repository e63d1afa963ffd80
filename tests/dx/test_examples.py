"""The Embassy and RTIC example crates: the QEMU ones run and print the model's output (checked
against onnxruntime), the real-board ones cross-build. They are what `cargo ariel new` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.scaffold import scaffold
from tests.dx.cargo_ariel import MNIST, REPO, cargo_ariel, cargo_ariel_binary, prediction
from tests.oracle import onnxruntime_outputs

pytestmark = pytest.mark.cargo

EXAMPLES = REPO / "examples"
# name -> cores of the model
CORES = {
    "embassy-qemu-an524": 2,
    "rtic-qemu-an524": 2,
    "embassy-qemu-an386": 1,
    "rtic-qemu-an386": 1,
    "embassy-rp2350": 1,
    "embassy-stm32h743": 1,
    "rtic-nrf52840": 1,
}
QEMU_EXAMPLES = [
    "embassy-qemu-an524",
    "rtic-qemu-an524",
    pytest.param("embassy-qemu-an386", marks=pytest.mark.slow),
    pytest.param("rtic-qemu-an386", marks=pytest.mark.slow),
]
BOARD_EXAMPLES = ["embassy-rp2350", "embassy-stm32h743", "rtic-nrf52840"]  # all cross-build in CI


@pytest.fixture(scope="module")
def binary() -> Path:
    return cargo_ariel_binary()


@pytest.mark.parametrize("name", CORES)
def test_example_is_what_cargo_ariel_new_writes(name: str, tmp_path: Path) -> None:
    framework, board = name.split("-", 1)
    crate = scaffold(name, board, framework, MNIST, tmp_path, CORES[name])
    assert f"cores = {CORES[name]}" in (EXAMPLES / name / "Cargo.toml").read_text()
    for rel in ("src/main.rs", ".cargo/config.toml", "memory.x"):
        assert (crate / rel).read_text() == (EXAMPLES / name / rel).read_text(), rel


@pytest.mark.parametrize("name", QEMU_EXAMPLES)
def test_qemu_example_runs_and_matches_onnxruntime(name: str, binary: Path) -> None:
    result = cargo_ariel(binary, EXAMPLES / name, "run", "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    label, scores = prediction(result.stdout)
    want = onnxruntime_outputs(MNIST, [np.zeros((1, 1, 28, 28), np.float32)])[0].reshape(-1)
    np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-5)
    assert label == int(np.argmax(want))


@pytest.mark.parametrize("name", BOARD_EXAMPLES)
def test_board_example_cross_builds(name: str, binary: Path) -> None:
    result = cargo_ariel(binary, EXAMPLES / name, "build", "--release", "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
