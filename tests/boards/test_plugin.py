"""The QEMU counting plugin: built once, rejects bad arguments, and its output parses."""

from __future__ import annotations

import subprocess

from ariel_build.runners.qemu import Counts
from ariel_build.toolchain import build_plugin


def test_plugin_builds_once() -> None:
    first = build_plugin()
    stamp = first.stat().st_mtime_ns
    assert build_plugin() == first and first.stat().st_mtime_ns == stamp  # up to date: not rebuilt


def test_qemu_refuses_a_bad_plugin_argument() -> None:
    plugin = f"{build_plugin()},out=/dev/null,nmarks=many"
    r = subprocess.run(
        ["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-plugin", plugin],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0 and "bad argument 'nmarks=many'" in r.stderr


def test_counts_parse_per_core_and_per_op() -> None:
    text = "mark 0 0 50\nmark 0 1 300\nmark 0 3 100\ntotal 0 450\nmark 1 2 700\ntotal 1 720\n"
    counts = Counts.parse(text)
    assert counts.totals == [450, 720]
    assert [counts.op_instructions(k) for k in range(3)] == [300, 700, 100]  # mark k + 1 is op k
    assert counts.critical_path == 700  # core 1's ops: 700 > core 0's 300 + 100
