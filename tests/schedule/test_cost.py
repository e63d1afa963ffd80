"""Cost model per core type, against hand-computed costs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from ariel_build.boards import load_board, target_features
from ariel_build.pipeline import compile_model
from ariel_build.schedule.cost import part_columns, part_cost, part_traffic, part_work, part_work_split
from ariel_build.schedule.split import qconv_channels, split_rule, whole
from tests.conftest import SHARED_MODELS
from tests.schedule.conftest import ir_graph


@pytest.mark.parametrize(
    ("target", "fpu", "dsp"),
    [
        ("thumbv7em-none-eabihf", True, True),
        ("thumbv7em-none-eabi", False, True),
        ("thumbv8m.main-none-eabi", False, False),
        ("thumbv8m.main-none-eabihf", True, False),
        ("thumbv6m-none-eabi", False, False),
        ("riscv32imac-unknown-none-elf", False, False),
        ("riscv32imafc-unknown-none-elf", True, False),
        (None, True, False),
    ],
)
def test_target_features(target: str | None, fpu: bool, dsp: bool) -> None:
    assert target_features(target) == (fpu, dsp)


def test_board_cores_carry_their_build_features() -> None:
    assert {(c.fpu, c.dsp) for c in load_board("qemu-an524").cores} == {(False, False)}  # soft-float build
    assert {(c.fpu, c.dsp) for c in load_board("qemu-an386").cores} == {(True, True)}
    assert {(c.fpu, c.dsp) for c in load_board("stm32h747").cores} == {(True, True)}


def test_f32_gemm_costs_per_core_type(tmp_path: Path) -> None:
    # y[1, 16] = x[1, 32] @ w[32, 16]: 512 MACs; bytes: x 128 + w 2048 + y 64 = 2240.
    gemm = helper.make_node("Gemm", ["x", "w"], ["y"], name="y")
    g = ir_graph(tmp_path, [gemm], (1, 32), {"w": np.ones((32, 16), np.float32)}, ["y"])
    part = whole(g.nodes[0], g)
    an386, an524 = load_board("qemu-an386").cores[0], load_board("qemu-an524").cores[0]
    assert part_work(part, an386) == pytest.approx(512 * 3.0 + 2240 * 0.25 + 150)
    assert part_work(part, an524) == pytest.approx(512 * 55.0 + 2240 * 0.25 + 150)
    m4 = load_board("stm32h747").cores[1]  # f32 speed 0.4
    assert part_cost(part, m4) == pytest.approx(part_work(part, an386) / 0.4)


def test_int8_fully_connected_costs_per_core_type() -> None:
    model = compile_model(SHARED_MODELS / "mlperf_tiny" / "kws_ref_model.tflite")
    g = model.graph
    fc = next(n for n in g.nodes if n.op == "QFullyConnected")
    # [1, 64] x [12, 64]: 768 MACs; the kernel reads x, the packed weights (not the int8 copy
    # nor the bias: folded into the code) and writes y.
    part = whole(fc, g)
    moved = 64 + g.tensor(fc.inputs[3]).nbytes + 12
    assert part_work(part, load_board("qemu-an386").cores[0]) == pytest.approx(768 * 0.9 + moved * 0.55 + 940)
    assert part_work(part, load_board("qemu-riscv32").cores[0]) == pytest.approx(
        768 * 5.3 + moved * 1.0 + 1200
    )


def test_packed_int8_conv_parts_gather_their_pixels_or_every_column() -> None:
    g = compile_model(SHARED_MODELS / "mlperf_tiny" / "kws_ref_model.tflite").graph
    convs = [n for n in g.nodes if n.op == "QConv" and n.input(3)]
    # First layer: 25 x 5 output pixels x 10 x 4 taps x 1 channel; 1x1 layers: 125 x 64.
    assert [part_columns(whole(n, g)) for n in convs] == [5000, 8000, 8000, 8000, 8000]
    core = load_board("qemu-an524").cores[0]
    # A channel split gathers every column in each part: paid in full by every part.
    channels = qconv_channels(convs[1], g)
    assert channels is not None
    quarter = channels.part(0, channels.units // 4)
    assert part_columns(quarter) == 8000
    divisible, every_part = part_work_split(quarter, core)
    assert every_part == pytest.approx(1200 + 8000 * 16.0)
    assert part_work(quarter, core) == pytest.approx(divisible + every_part)
    # The split the rule picks, by pixel pairs, gathers only its pixels' columns (30 of 125 here).
    pixels = split_rule(convs[1], g)
    assert pixels is not None and pixels.units == 63
    part = pixels.part(0, 15)
    assert part_columns(part) == 30 * 64
    divisible, every_part = part_work_split(part, core)
    assert every_part == pytest.approx(1200)
    assert divisible == pytest.approx(30 * 64 * 64 * 5.3 + sum(part_traffic(part)[1:]) + 30 * 64 * 16.0)
