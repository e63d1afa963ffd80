"""report.json sets ariel's RAM beside TFLite Micro's arena for the same .tflite model."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from ariel_build.cli import main as cli_main
from ariel_build.tflm import tflm_arena
from tests.conftest import SHARED_MODELS

SINE = SHARED_MODELS / "microflow" / "sine.tflite"


def interpreter_printout(model: Path) -> str:
    script = (
        "import sys; from tflite_micro.python.tflite_micro import runtime; "
        "runtime.Interpreter.from_file(sys.argv[1]).print_allocations()"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(model)], capture_output=True, text=True, check=True
    )
    return out.stdout + out.stderr


def test_run_reports_tflite_micros_arena_beside_ariels(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([[-5]], dtype=np.int8))
    assert (
        cli_main(["run", str(SINE), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "out")]) == 0
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    printed = interpreter_printout(SINE)
    for key, label in [("total_bytes", "total"), ("head_bytes", "head")]:
        match = re.search(rf"Arena allocation {label} (\d+) bytes", printed)
        assert match and report["tflm_arena"][key] == int(match.group(1))
    assert report["io_bytes"] == 2  # one int8 input, one int8 output
    assert report["arena_bytes"] + report["io_bytes"] < report["tflm_arena"]["total_bytes"]


def test_no_tflite_micro_arena_for_other_models(tmp_path: Path) -> None:
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"not read")
    assert tflm_arena(onnx_file) is None
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\0" * 64)
    assert tflm_arena(broken) is None
