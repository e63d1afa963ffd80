"""`ariel-build report`: the HTML page's op table, arena picture, schedule and budget, checked
against the model's shapes, the memory plan and the board definition."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ariel_build.boards import load_board
from ariel_build.html_report import write_report
from ariel_build.pipeline import compile_model
from ariel_build.runners.qemu_firmware import CODE_ALLOWANCE
from ariel_build.schedule.multicore import board_cores
from ariel_build.tflm import tflm_arena
from fixtures.ops.conv import conv_case
from tests.conftest import SHARED_MODELS
from tests.dx.cargo_ariel import MNIST


class Page(HTMLParser):
    """Elements by class (with their attributes) and the cells of each op row."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.by_class: dict[str, list[dict[str, str]]] = {}
        self.rows: list[list[str]] = []
        self.external: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.by_class.setdefault(a.get("class", ""), []).append(a)
        self.external += [v for k, v in a.items() if k in ("src", "href")]
        if tag == "tr" and a.get("class") == "op":
            self.rows.append([])
        if tag == "td" and self.rows:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_op_table_and_budget_of_a_convolution(tmp_path: Path) -> None:
    x_shape, w_shape = (1, 2, 6, 6), (3, 2, 3, 3)
    model = tmp_path / "conv.onnx"
    model.write_bytes(conv_case("conv", x_shape, w_shape).model.SerializeToString())
    page = Page(write_report(model, "qemu-an386", 1, tmp_path / "conv.html").read_text())
    assert page.external == []
    (row,) = page.rows
    out_elements = 3 * 4 * 4  # 3 channels of (6 - 3 + 1)^2
    assert row[2].startswith("Conv") and row[3] == "(1, 3, 4, 4)"
    assert number(row[4]) == out_elements * 2 * 3 * 3
    assert number(row[5]) == 3 * 2 * 3 * 3 + 3  # weights + bias
    assert row[6] == "0"
    board = load_board("qemu-an386")
    assert board.flash is not None and board.ram is not None
    flash, ram = page.by_class["budget"]
    weight_bytes = compile_model(model).plan.weight_bytes
    assert 4 * (3 * 2 * 3 * 3 + 3) <= weight_bytes < 4 * (3 * 2 * 3 * 3 + 3) + 32  # aligned tensors
    assert (int(flash["data-used"]), int(flash["data-size"])) == (
        weight_bytes + CODE_ALLOWANCE,
        board.flash.size,
    )
    assert int(ram["data-size"]) == board.ram.size
    assert int(ram["data-used"]) > 4 * (2 * 6 * 6 + 3 * 4 * 4)  # at least the inputs and outputs


def test_arena_picture_draws_the_plan_without_overlaps(tmp_path: Path) -> None:
    page = Page(write_report(MNIST, "qemu-an386", 1, tmp_path / "mnist.html").read_text())
    plan = compile_model(MNIST).plan
    boxes = page.by_class["buffer"]
    drawn = sorted((b["data-tensor"], int(b["data-offset"]), int(b["data-bytes"])) for b in boxes)
    assert drawn == sorted((b.tensor, b.offset, b.nbytes) for b in plan.buffers)
    spans = [
        (int(b["data-first"]), int(b["data-last"]), int(b["data-offset"]), int(b["data-bytes"]))
        for b in boxes
    ]
    for k, (f1, l1, o1, n1) in enumerate(spans):
        assert o1 + n1 <= plan.arena_bytes
        for f2, l2, o2, n2 in spans[k + 1 :]:
            live_together = f1 <= l2 and f2 <= l1
            assert not (live_together and o1 < o2 + n2 and o2 < o1 + n1)
    assert len(page.rows) == len(compile_model(MNIST).graph.nodes)
    assert "task" not in page.by_class  # one core: no Gantt chart


def test_multicore_page_has_a_gantt_bar_per_task(tmp_path: Path) -> None:
    page = Page(write_report(MNIST, "qemu-an524", 2, tmp_path / "mnist2.html").read_text())
    model = compile_model(MNIST, {}, board_cores(load_board("qemu-an524"), 2))
    assert model.multicore is not None
    schedule = model.multicore.program.schedule
    bars = page.by_class["task"]
    assert sorted((b["data-node"], int(b["data-core"])) for b in bars) == sorted(
        (t.node.name, schedule.core[t.id]) for t in schedule.tasks
    )
    split = {row[1]: row[6] for row in page.rows if "," in row[6]}
    assert split, "the schedule splits some node over both cores"
    assert all(cores == "0, 1" for cores in split.values())


@pytest.mark.cargo
def test_measured_page_has_instruction_counts_and_the_elfs_flash(tmp_path: Path) -> None:
    page = Page(write_report(MNIST, "qemu-an386", 1, tmp_path / "m.html", measure=True).read_text())
    instructions = [number(row[7]) for row in page.rows]
    assert len(instructions) == len(compile_model(MNIST).graph.nodes) and min(instructions) > 0
    flash = page.by_class["budget"][0]
    assert int(flash["data-used"]) > compile_model(MNIST).plan.weight_bytes


def test_cli_writes_the_page_and_reports_a_bad_model_in_one_message(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "ariel_build",
            "report",
            str(MNIST),
            "--board",
            "qemu-an386",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    failed = subprocess.run(
        [sys.executable, "-m", "ariel_build", "report", str(bad), "--out", str(tmp_path / "b.html")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "bad.onnx" in failed.stderr and "Traceback" not in failed.stderr


def test_page_of_a_tflite_model_sets_tflite_micros_arena_beside_ariels(tmp_path: Path) -> None:
    sine = SHARED_MODELS / "microflow" / "sine.tflite"
    text = write_report(sine, "qemu-an386", 1, tmp_path / "sine.html").read_text()
    tflm = tflm_arena(sine)
    assert tflm and f"TFLite Micro's arena for this model {tflm['total_bytes']:,} B" in text
    assert f"arena {compile_model(sine).plan.arena_bytes:,} B" in text
