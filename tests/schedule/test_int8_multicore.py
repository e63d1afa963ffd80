"""int8 models on several cores: packed convolutions split at output pixel pairs (or channel
pairs), and every int8 TFLite model (tests/int8) on 2 and 4 host cores bit-identical to one core
and to TFLite Micro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.ops.quantized.conv import PIXELS
from ariel_build.ops.quantized.packing import PACKED_INPUT
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import HostHarness, cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.schedule.cost import INT8_PORTABLE, part_columns, part_work_split
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.split import qconv_channels, split_rule
from tests.int8.test_models import INT8_MODELS
from tests.oracle import tflite_micro_outputs

CORES = (1, 2, 4)
KWS = INT8_MODELS["kws"]


def test_packed_conv_parts_cover_pixel_pairs_of_every_channel() -> None:
    g = compile_model(KWS).graph
    conv = next(n for n in g.nodes if n.op == "QConv" and n.input(PACKED_INPUT))  # 64 x 25 x 5
    y = g.tensor(conv.outputs[0]).shape
    plane = y[2] * y[3]
    rule = split_rule(conv, g)
    assert rule is not None and rule.units == -(-plane // 2)
    part = rule.part(3, 10)  # pixels 6..20 of each of the 64 planes
    assert part.node.attrs[PIXELS] == (6, 20)
    assert part.output_range == (6, 20) and part.output_rows == (plane, 64)
    assert all(r is None for r in part.input_ranges)  # whole input, weights and bias
    last = rule.part(rule.units - 1, rule.units)
    assert last.node.attrs[PIXELS] == (plane - 1, plane)  # 125 pixels: the last pair holds one
    # Each part gathers only its pixels' columns, so the column cost divides among parts.
    whole_columns = part_columns(rule.part(0, rule.units))
    assert part_columns(part) * plane == whole_columns * 14
    core = load_board("qemu-an524").cores[0]
    assert part_work_split(part, core)[1] == INT8_PORTABLE.op


def test_packed_conv_channel_split_covers_channel_pairs() -> None:
    g = compile_model(KWS).graph
    conv = next(n for n in g.nodes if n.op == "QConv" and n.input(PACKED_INPUT))  # 64 channels
    rule = qconv_channels(conv, g)
    assert rule is not None and rule.units == 32  # pairs of output channels
    packed = g.tensor(conv.inputs[PACKED_INPUT])
    words = packed.size // 32
    part = rule.part(5, 12)  # channels 10..24
    plane = g.tensor(conv.outputs[0]).size // 64
    assert part.output_range == (10 * plane, 24 * plane)
    assert part.input_ranges[PACKED_INPUT] == (5 * words, 12 * words)
    assert part.input_ranges[2] == (10, 24)  # bias
    assert part.graph.tensor(conv.outputs[0]).shape[1] == 14
    scales = g.tensor(conv.inputs[1]).quant.scale  # type: ignore[union-attr]
    sub = part.graph.tensor(conv.inputs[1]).quant
    assert sub is not None and (sub.scale.size == 1 or np.array_equal(sub.scale, scales[10:24]))


def test_odd_channel_count_ends_with_a_single_channel() -> None:
    g = compile_model(KWS).graph
    fc = next(n for n in g.nodes if n.op == "QFullyConnected")  # 12 units
    rule = split_rule(fc, g)
    assert rule is not None and rule.units == 6
    assert rule.part(4, 6).output_range == (8, 12)


def test_every_int8_model_is_split() -> None:
    for name, path in INT8_MODELS.items():
        mc = compile_model(path, cores=board_cores(load_board("qemu-an524"), 2)).multicore
        assert mc is not None
        split = {t.node.op for t in mc.program.schedule.tasks if t.index > 0}
        if name not in ("sine", "hello_world"):  # three tiny layers: not worth a sync
            assert split & {"QConv", "QFullyConnected"}, name


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    host = load_board("host")
    models: dict[str, CompiledModel] = {
        f"{name}_c{n}": compile_model(path, cores=board_cores(host, n))
        for name, path in INT8_MODELS.items()
        for n in CORES
    }
    h = HostHarness(models, Path(tmp_path_factory.mktemp("int8-multicore")))
    h.build()
    return h


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(INT8_MODELS))
def test_int8_model_on_more_cores_equals_one_core_and_tflite_micro(harness: HostHarness, name: str) -> None:
    g = harness.models[f"{name}_c1"].graph
    rng = np.random.default_rng(11)
    for _ in range(2):
        inputs = [rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs]
        one = harness.run(f"{name}_c1", inputs, timeout=60)
        for got, want in zip(one, tflite_micro_outputs(INT8_MODELS[name], inputs), strict=True):
            np.testing.assert_array_equal(got, want.reshape(got.shape))
        for n in CORES[1:]:
            for got, ref in zip(harness.run(f"{name}_c{n}", inputs, timeout=60), one, strict=True):
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {n} cores")


@pytest.mark.cargo
@pytest.mark.parametrize(("board", "cores"), [("qemu-an524", 2), ("qemu-riscv32", 4)])
def test_kws_int8_on_qemu_cores(board: str, cores: int) -> None:
    """One firmware per core count; N cores equal one core and TFLite Micro, and finish sooner."""
    b = load_board(board)
    rng = np.random.default_rng(2)
    results, reports = {}, {}
    for n in (1, cores):
        model = compile_model(KWS, cores=board_cores(b, n))
        x = [rng.integers(-128, 128, model.graph.tensor(i).shape, dtype=np.int8) for i in model.graph.inputs]
        x = results.get("inputs", x)
        results["inputs"] = x
        harness = QemuHarness({"kws": model}, cache_dir() / "test-firmware" / f"int8-kws-{board}-{n}", b)
        harness.build()
        results[n] = harness.run("kws", x, timeout=300)
        reports[n] = harness.report("kws", results[n].counts)
    want = tflite_micro_outputs(KWS, results["inputs"])
    for got, ref, w in zip(results[cores].outputs, results[1].outputs, want, strict=True):
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(got, w.reshape(got.shape))
    busy = reports[cores]["per_core_instructions"]
    assert len(busy) == cores and min(busy) > 0
    assert reports[cores]["critical_path_instructions"] < 0.6 * reports[1]["critical_path_instructions"]
