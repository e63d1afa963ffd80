"""`ariel-build run --int8-weights`: both layouts give TFLite Micro's outputs; wide weights take
more flash than compact ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ariel_build.cli import main as cli_main
from tests.conftest import SHARED_MODELS
from tests.oracle import tflite_micro_outputs

SINE = SHARED_MODELS / "microflow" / "sine.tflite"


def test_compact_and_wide_layouts_equal_tflite_micro(tmp_path: Path) -> None:
    x = np.array([[37]], dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    weights = {}
    for layout in ("compact", "wide"):
        out = tmp_path / layout
        argv = [
            "run",
            str(SINE),
            "--input",
            str(tmp_path / "x.npy"),
            "--out",
            str(out),
            "--int8-weights",
            layout,
        ]
        assert cli_main(argv) == 0
        (got,) = [np.load(p) for p in out.glob("*.npy")]
        np.testing.assert_array_equal(got, tflite_micro_outputs(SINE, [x])[0].reshape(got.shape))
        weights[layout] = json.loads((out / "report.json").read_text())["weight_bytes"]
    assert weights["wide"] > weights["compact"]
