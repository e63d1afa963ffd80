"""`ariel-build run --board host --cores N` on a real model: same outputs as one core, estimates in report.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.errors import ConfigError
from ariel_build.schedule.multicore import board_cores
from tests.conftest import SHARED_MODELS


def test_run_on_three_host_cores_matches_one_core(tmp_path: Path) -> None:
    model = SHARED_MODELS / "onnx" / "mnist.onnx"
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32))
    outs = {}
    for n in (1, 3):
        out = tmp_path / f"out{n}"
        r = subprocess.run(
            [sys.executable, "-m", "ariel_build", "run", str(model), "--board", "host", "--cores", str(n)]
            + ["--input", str(tmp_path / "x.npy"), "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        outs[n] = np.load(out / "Plus214_Output_0.npy")
    np.testing.assert_array_equal(outs[3], outs[1])
    report = json.loads((tmp_path / "out3" / "report.json").read_text())
    schedule = report["schedule"]
    assert report["cores"] == schedule["cores"] == 3
    assert len(schedule["per_core_busy_estimate"]) == 3
    assert 0 < schedule["critical_path_estimate"] < schedule["one_core_estimate"]
    assert "schedule" not in json.loads((tmp_path / "out1" / "report.json").read_text())


def test_core_count_is_checked_against_the_board(tmp_path: Path) -> None:
    rp2040 = load_board("rp2040")  # two Cortex-M0+ cores
    assert len(board_cores(rp2040, 2)) == 2
    with pytest.raises(ConfigError, match="2 core"):
        board_cores(rp2040, 3)
    assert board_cores(load_board("host"), 5) == (load_board("host").cores[0],) * 5  # threads
    model = SHARED_MODELS / "onnx" / "mnist.onnx"
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 28, 28), np.float32))
    r = subprocess.run(
        [sys.executable, "-m", "ariel_build", "run", str(model), "--board", "host", "--cores", "0"]
        + ["--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--cores 0" in r.stderr and "Traceback" not in r.stderr
