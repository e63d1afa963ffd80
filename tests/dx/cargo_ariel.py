"""Running `cargo ariel` (the binary of cargo-ariel-shim) the way a user does, in tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from ariel_build.runners.host import cache_dir
from tests.conftest import SHARED_MODELS

REPO = Path(__file__).resolve().parents[2]
SHIM = REPO / "cargo-ariel-shim"
MNIST = SHARED_MODELS / "onnx" / "mnist.onnx"
# One target directory for every crate these tests build: `core` and the dependencies build once.
FIRMWARE_TARGET = "dx-firmware-target"
PREDICTION = re.compile(r"prediction: (\d+) \[([^\]]*)\]")


def cargo_ariel_binary() -> Path:
    """Builds `cargo-ariel` (quick when up to date) and returns its path."""
    target = cache_dir() / "dx-host-target"
    subprocess.run(
        ["cargo", "build", "--quiet", "--bins"],
        cwd=SHIM,
        check=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
    )
    return target / "debug" / "cargo-ariel"


def cargo_ariel(
    binary: Path, cwd: Path, *args: str, path: str | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """`cargo ariel ARGS` as cargo starts it (`cargo-ariel ariel ARGS`); the tool runs with this
    test's Python."""
    env = {
        **os.environ,
        "ARIEL_BUILD": sys.executable,
        "CARGO_TARGET_DIR": str(cache_dir() / FIRMWARE_TARGET),
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [str(binary), "ariel", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


def prediction(stdout: str) -> tuple[int, np.ndarray]:
    """The class and the scores a firmware printed."""
    match = PREDICTION.search(stdout)
    assert match, f"no prediction in the output:\n{stdout}"
    return int(match.group(1)), np.array([float(v) for v in match.group(2).split(",")], dtype=np.float32)
