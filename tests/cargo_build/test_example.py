"""examples/mnist-bare: plain `cargo build` generates the model, and the binary agrees with onnxruntime."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ariel_build.runners.host import cache_dir
from tests.cargo_build.cargo import EXAMPLE, cargo
from tests.oracle import onnxruntime_outputs

pytestmark = pytest.mark.cargo

MODEL = (EXAMPLE / "../../../shared/models/onnx/mnist.onnx").resolve()
LEVELS = ".,:-=+*#%@"  # the drawings' grey levels, as in src/main.rs
DIGITS = sorted(EXAMPLE.glob("digits/*.txt"))


def from_art(path: Path) -> np.ndarray:
    chars = [c for c in path.read_text() if not c.isspace()]
    return np.array([LEVELS.index(c) * 255 // (len(LEVELS) - 1) for c in chars], dtype=np.uint8).reshape(
        28, 28
    )


@pytest.fixture(scope="module")
def binary() -> Path:
    result = cargo(EXAMPLE, target="examples-target")
    assert result.returncode == 0, result.stderr
    return cache_dir() / "examples-target" / "debug" / "mnist-bare"


def classify(binary: Path, *args: str) -> tuple[int, np.ndarray]:
    out = subprocess.run([str(binary), *args], capture_output=True, text=True, check=True).stdout
    digit = re.search(r"^prediction: (\d)$", out, re.M)
    scores = re.search(r"^scores: (.*)$", out, re.M)
    assert digit and scores, out
    return int(digit.group(1)), np.array([float(s) for s in scores.group(1).split()], dtype=np.float32)


def expected_scores(image: np.ndarray) -> np.ndarray:
    x = (image.astype(np.float32) / np.float32(255)).reshape(1, 1, 28, 28)
    return onnxruntime_outputs(MODEL, [x])[0].reshape(-1)


def test_builtin_drawing_is_a_seven(binary: Path) -> None:
    digit, scores = classify(binary)
    want = expected_scores(from_art(EXAMPLE / "digits" / "7.txt"))
    np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-5)
    assert digit == int(np.argmax(want)) == 7


@pytest.mark.parametrize("drawing", DIGITS, ids=[p.stem for p in DIGITS])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_prediction_matches_onnxruntime(binary: Path, tmp_path: Path, drawing: Path, dtype: str) -> None:
    image = from_art(drawing)
    npy = tmp_path / "digit.npy"
    np.save(npy, image if dtype == "uint8" else image.astype(np.float32) / np.float32(255))
    digit, scores = classify(binary, str(npy))
    want = expected_scores(image)
    np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-5)
    assert digit == int(np.argmax(want)) == int(drawing.stem)


def test_a_bad_image_is_one_line_of_error(binary: Path, tmp_path: Path) -> None:
    npy = tmp_path / "wrong.npy"
    np.save(npy, np.zeros((3, 3), np.uint8))
    result = subprocess.run([str(binary), str(npy)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {npy}: need 784 values") and "panicked" not in result.stderr


@pytest.mark.skipif(
    shutil.which("/usr/bin/cargo") is None,
    reason="/usr/bin/cargo (Debian cargo-web, for build-std) is not installed; run `ariel-build setup`",
)
def test_library_cross_builds_without_std() -> None:
    result = cargo(
        EXAMPLE,
        "-Zbuild-std=core",
        "--target",
        "thumbv7em-none-eabihf",
        "--lib",
        target="examples-target",
        program="/usr/bin/cargo",
        RUSTC="/usr/bin/rustc",
        RUSTC_BOOTSTRAP="1",
    )
    assert result.returncode == 0, result.stderr
    rlib = cache_dir() / "examples-target" / "thumbv7em-none-eabihf" / "debug" / "libmnist_bare.rlib"
    assert rlib.is_file()
