"""`ariel-build plan`: the schedule's critical path, the terminal Gantt chart and the PNG."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from ariel_build.plan_view import build_plan_view, critical_path
from ariel_build.schedule.cost import SYNC
from fixtures.models.inception import inception_case
from tests.schedule.test_scheduler import _schedule


def test_critical_path_follows_the_binding_dependency() -> None:
    # core 0: a [0, 10], c [10 + SYNC + 5, ...]; core 1: b [0, 5 + ...]. c reads b: b's finish
    # plus SYNC decides c's start, so the path is b -> c, not a -> c.
    b_end = 10.0 + 5.0
    s, ids = _schedule(
        [[("a", 0, 10), ("c", b_end + SYNC, b_end + SYNC + 4)], [("b", 0, b_end)]], {"c": ["a", "b"]}
    )
    assert critical_path(s) == [ids["b"], ids["c"]]
    # Reading only a (same core), c starts when a ends: the path is a -> c, b is off it.
    s, ids = _schedule([[("a", 0, 10), ("c", 10, 14)], [("b", 0, 3)]], {"c": ["a"]})
    assert critical_path(s) == [ids["a"], ids["c"]]


def test_critical_path_of_inception_spans_the_schedule(tmp_path: Path) -> None:
    view = build_plan_view(inception_case().save(tmp_path), "qemu-riscv32", 4)
    s = view.schedule
    path = critical_path(s)
    assert s.start[path[0]] == 0.0 and s.finish[path[-1]] == s.makespan
    for prev, nxt in zip(path, path[1:], strict=False):
        same_core = s.core[prev] == s.core[nxt]
        gap = 0.0 if same_core else SYNC
        assert abs(s.finish[prev] + gap - s.start[nxt]) < 1e-6
        assert prev in s.tasks[nxt].preds or (
            same_core and s.order[s.core[nxt]].index(nxt) == s.order[s.core[prev]].index(prev) + 1
        )


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plan_command_prints_every_core_and_the_critical_path_and_writes_a_png(tmp_path: Path) -> None:
    model = inception_case().save(tmp_path)
    png = tmp_path / "plan.png"
    r = subprocess.run(
        [sys.executable, "-m", "ariel_build", "plan", str(model), "--board", "qemu-an524", "--png", str(png)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert r.returncode == 0, r.stderr
    view = build_plan_view(model, "qemu-an524")
    s = view.schedule
    for c in range(2):
        assert f"core {c} (cortex-m33" in r.stdout
        assert any(line.startswith(f"core {c}  ▏") for line in r.stdout.splitlines())
    path_line = " → ".join(f"{s.tasks[t].label} (core {s.core[t]})" for t in critical_path(s))
    assert f"critical path ({len(critical_path(s))} task(s)" in r.stdout
    assert path_line in r.stdout
    data = png.read_bytes()
    width, height = _png_size(data)
    assert 800 <= width <= 3000 and 200 <= height <= 2000 and len(data) > 10_000
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[:, :, :3]
    assert pixels.shape[:2] == (height, width)
    conv_blue = np.array([0x46, 0x82, 0xB4]) / 255  # the first op's colour: the bars are drawn
    assert np.sum(np.all(np.abs(pixels - conv_blue) < 0.01, axis=-1)) > 10_000


def test_plan_command_rejects_too_many_cores(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ariel_build", "plan", str(inception_case().save(tmp_path))]
        + ["--board", "qemu-an524", "--cores", "3"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--cores 3" in r.stderr and "Traceback" not in r.stderr
