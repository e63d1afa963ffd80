"""Compact and wide int8 matrix-product weights (ops/quantized/packing.py): the wide words hold the
weights as 16-bit pairs, `auto` widens within the flash room by MACs per byte, and both layouts
run bit-exactly like TFLite Micro on the host and on qemu-an386 (the SMLAD loop)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.ops.base import lookup
from ariel_build.ops.quantized.conv import ring_bytes
from ariel_build.ops.quantized.packing import (
    CHANNELS_LAST_ATTR,
    MIN_WIDE_DEPTH,
    RING_ATTR,
    channels_last,
    choose_int8_weights,
    int8_table_bytes,
    is_wide,
    packed_weights,
    plain_order,
    product_depth,
)
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.plan.memory import plan_memory
from ariel_build.runners.host import HostHarness
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import wide_weight_budget
from ariel_build.schedule.multicore import board_cores
from tests.bench.int8 import tflm_arena
from tests.int8.cases import cases
from tests.int8.test_models import INT8_MODELS
from tests.oracle import tflite_micro_outputs

MODEL = INT8_MODELS["resnet8"]
CASES = {c.name: c for c in cases()}


def _products(model: CompiledModel) -> list:
    return [n for n in model.graph.nodes if packed_weights(n) is not None]


def test_wide_words_are_the_weights_as_16_bit_pairs() -> None:
    model = compile_model(MODEL, int8_weights="wide")
    g = model.graph
    for node in _products(model):
        w = g.const(node.inputs[1])
        if channels_last(node):
            # OIHW: the taps run by kernel position, then input channel (gemm.rs `channels_last`)
            w = w.transpose(0, 2, 3, 1)
        w = w.reshape(w.shape[0], -1)
        channels, depth = w.shape
        groups = -(-depth // 4)
        halves = (
            g.const(packed_weights(node)).view(np.int16).reshape(-1, groups, 2, 4)
        )  # pair, group, channel
        for c in range(channels):
            for t in range(depth):
                g4, k = divmod(t, 4)
                # taps (0, 2) in the low word, (1, 3) in the high word
                got = halves[c // 2, g4, c % 2, (k % 2) * 2 + k // 2]
                assert got == w[c, t], (node.name, c, t)


@pytest.mark.parametrize("board", ["qemu-an386", "qemu-an524"])
def test_resnet8_keeps_rings_only_where_its_arena_stays_below_tflite_micros(board: str) -> None:
    """The pipeline takes a convolution's ring of input rows away where the arena shrinks without
    it: ResNet-8's arena and I/O then fit in less than TFLite Micro's arena, most 3x3 layers keep
    their ring, and giving any dropped one back grows the arena. With SMLAD (qemu-an386) such a
    layer stays channel-last, else (qemu-an524) it is repacked in the plain tap order."""
    smlad = board == "qemu-an386"
    model = compile_model(MODEL, cores=board_cores(load_board(board), 1))
    g, arena = model.graph, model.plan.arena_bytes
    io = sum(g.tensor(t).nbytes for t in dict.fromkeys(g.inputs + g.outputs))
    tflm_total, _ = tflm_arena(MODEL)
    assert arena + io < tflm_total
    kept = [n for n in g.nodes if n.op == "QConv" and ring_bytes(n, g)]
    if smlad:
        dropped = [n for n in g.nodes if n.attrs.get(RING_ATTR) == 0]
        assert all(n.attrs.get(CHANNELS_LAST_ATTR) for n in dropped)
    else:
        dropped = [n for n in g.nodes if n.attrs.get(CHANNELS_LAST_ATTR) == 0]
        assert not any(RING_ATTR in n.attrs for n in g.nodes)
    assert dropped and len(kept) > len(dropped)
    for node in dropped:
        if smlad:
            node.attrs[RING_ATTR] = 1
        else:
            plain_order(node, g, plain=False)
        assert plan_memory(g).arena_bytes > arena, node.name
        if smlad:
            node.attrs[RING_ATTR] = 0
        else:
            plain_order(node, g)
    assert plan_memory(g).arena_bytes == arena


def test_auto_widens_most_macs_per_byte_first_within_the_room() -> None:
    compact = compile_model(MODEL, int8_weights="compact")
    g = compact.graph
    nodes = _products(compact)
    assert not any(is_wide(n) for n in nodes)

    def gain(n: object) -> float:
        return lookup(n.op).macs(n, g) / g.tensor(packed_weights(n)).nbytes

    long = [n for n in nodes if product_depth(n, g) >= MIN_WIDE_DEPTH]
    best = max(long, key=gain)
    room = g.tensor(packed_weights(best)).nbytes + 16
    assert choose_int8_weights(g, "auto", room)
    assert [n.name for n in nodes if is_wide(n)] == [best.name]
    assert not choose_int8_weights(compile_model(MODEL, int8_weights="compact").graph, "auto", 100)
    wide = compile_model(MODEL, flash=None)
    assert all(is_wide(n) for n in _products(wide))
    assert wide.plan.weight_bytes > compact.plan.weight_bytes


def test_auto_keeps_short_products_compact(tmp_path: Path) -> None:
    """Without a flash limit `auto` widens every product of at least MIN_WIDE_DEPTH taps (VWW's
    48x48x8 -> 16 pointwise layer has 8) and keeps shorter ones compact (a 1x1 conv over 4
    channels)."""
    model = compile_model(INT8_MODELS["vww"], flash=None)
    depths = {product_depth(n, model.graph): is_wide(n) for n in _products(model)}
    assert MIN_WIDE_DEPTH == 8 and depths[8] is True and all(depths.values())
    short = CASES["conv_1x1_4_channels"].model.save(tmp_path / "short.tflite")
    [node] = _products(compile_model(short, flash=None))
    assert product_depth(node, compile_model(short, flash=None).graph) == 4 and not is_wide(node)


def test_auto_keeps_the_weights_within_the_flash() -> None:
    compact = compile_model(MODEL, int8_weights="compact")
    tables = int8_table_bytes(compact.graph)
    flash = compact.plan.weight_bytes + tables + 20_000
    model = compile_model(MODEL, flash=flash)
    assert 0 < sum(is_wide(n) for n in _products(model)) < len(_products(model))
    assert model.plan.weight_bytes + tables <= flash


def test_budget_per_board() -> None:
    """Wide only pays with SMLAD: the host has no flash limit, qemu-an386 (Cortex-M4) a share of
    its flash, qemu-an524 (Cortex-M33 built without DSP) none."""
    an386 = load_board("qemu-an386")
    assert wide_weight_budget(load_board("host")) is None
    assert 0 < wide_weight_budget(an386, 2) < wide_weight_budget(an386) < an386.flash.size
    assert wide_weight_budget(load_board("qemu-an524")) == 0
    model = compile_model(MODEL, flash=0)
    assert not any(is_wide(n) for n in _products(model))


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="none of auto, wide, compact"):
        compile_model(MODEL, int8_weights="16bit")


def _equal_tflite_micro(run: object, names: list[str]) -> None:
    rng = np.random.default_rng(5)
    for _ in range(2):
        inputs = [rng.integers(-128, 128, (1, 32, 32, 3), dtype=np.int8)]
        want = tflite_micro_outputs(MODEL, inputs)
        for name in names:
            (got,) = run(name, inputs)
            np.testing.assert_array_equal(got, want[0], err_msg=name)


@pytest.fixture(scope="module")
def layouts() -> dict[str, CompiledModel]:
    return {layout: compile_model(MODEL, int8_weights=layout) for layout in ("compact", "wide")}


@pytest.mark.cargo
def test_both_layouts_equal_tflite_micro_on_the_host(
    layouts: dict[str, CompiledModel], tmp_path: Path
) -> None:
    harness = HostHarness(layouts, tmp_path)
    harness.build()
    _equal_tflite_micro(harness.run, list(layouts))


@pytest.mark.cargo
def test_both_layouts_equal_tflite_micro_on_an386(layouts: dict[str, CompiledModel], tmp_path: Path) -> None:
    harness = QemuHarness(layouts, tmp_path, load_board("qemu-an386"))
    harness.build()
    _equal_tflite_micro(lambda name, inputs: harness.run(name, inputs, timeout=300).outputs, list(layouts))
