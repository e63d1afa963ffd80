"""Running `cargo build` on firmware crates the way a user does, with a cached target directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ariel_build.runners.host import cache_dir

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "mnist-bare"


def cargo(
    crate: Path, *args: str, target: str, program: str = "cargo", **env: str
) -> subprocess.CompletedProcess[str]:
    """`cargo build ARGS` in `crate`; the build script runs ariel-build with this test's Python."""
    return subprocess.run(
        [program, "build", *args],
        cwd=crate,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "CARGO_TARGET_DIR": str(cache_dir() / target),
            "ARIEL_BUILD": sys.executable,
            **env,
        },
    )
