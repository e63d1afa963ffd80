"""SVDF (int8 with int16 state), int16 QUANTIZE and int8→int16 SOFTMAX equal TFLite Micro exactly,
over consecutive invocations (the SVDF state carries over from one `run` to the next), on one and
two cores on the host, and for one invocation on qemu-an386."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.errors import UnsupportedOpsError
from ariel_build.frontends import load_model
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from ariel_build.schedule.multicore import board_cores
from fixtures.tflite_builder import TFLiteModel
from tests.boards.qemu_batch import QemuBatch
from tests.conftest import SHARED_MODELS
from tests.oracle import tflite_micro_steps

KEYWORD_SCRAMBLED = SHARED_MODELS / "tflite_micro" / "keyword_scrambled.tflite"
STEPS = 4


@dataclass(frozen=True)
class SvdfCase:
    batch: int
    input_size: int
    units: int
    rank: int
    memory: int
    int16_input: bool  # an int16 graph input through QUANTIZE
    int16_softmax: bool  # SOFTMAX to int16, then QUANTIZE int16 → int32


CASES = {
    "int16_in_rank2": SvdfCase(1, 12, 3, 2, 4, int16_input=True, int16_softmax=False),
    "batch2_softmax": SvdfCase(2, 7, 5, 1, 3, int16_input=False, int16_softmax=True),
    "rank3_memory1": SvdfCase(1, 5, 2, 3, 1, int16_input=False, int16_softmax=False),
}


def svdf_model(case: SvdfCase, seed: int) -> TFLiteModel:
    rng = np.random.default_rng(seed)
    m = TFLiteModel()
    filters = case.units * case.rank
    x = m.tensor((case.batch, case.input_size), "int8", 0.05, -3)
    if case.int16_input:
        raw = m.tensor((case.batch, case.input_size), "int16", 0.0004, 0)
        m.op("QUANTIZE", [raw], [x])
        m.inputs = [raw]
    else:
        m.inputs = [x]
    state_scale, time_scale = 3e-4, 1e-4
    weights_feature = m.const(rng.integers(-127, 128, (filters, case.input_size), dtype=np.int8), 0.01)
    weights_time = m.const(rng.integers(-32767, 32768, (filters, case.memory), dtype=np.int16), time_scale)
    bias = m.const(rng.integers(-(10**8), 10**8, case.units, dtype=np.int32), state_scale * time_scale)
    state = m.tensor((case.batch, filters * case.memory), "int16", state_scale, 0, variable=True)
    y = m.tensor((case.batch, case.units), "int8", 0.4, 5)
    m.op(
        "SVDF", [x, weights_feature, weights_time, bias, state], [y], "SVDFOptions",
        Rank=case.rank, FusedActivationFunction=1,
    )  # fmt: skip
    if not case.int16_softmax:
        m.outputs = [y]
        return m
    probabilities = m.tensor((case.batch, case.units), "int16", 1 / 65536, -32768)
    m.op("SOFTMAX", [y], [probabilities], "SoftmaxOptions", Beta=1.0)
    out = m.tensor((case.batch, case.units), "int32", 1 / 32767, 0)
    m.op("QUANTIZE", [probabilities], [out])
    m.outputs = [out]
    return m


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostHarness, dict[str, Path]]:
    workdir = tmp_path_factory.mktemp("svdf")
    paths = {
        name: svdf_model(c, k).save(workdir / f"{name}.tflite") for k, (name, c) in enumerate(CASES.items())
    }
    paths["keyword_scrambled"] = KEYWORD_SCRAMBLED
    two_cores = board_cores(load_board("host"), 2)
    models = {}
    for name, path in paths.items():
        models[name] = compile_model(path)
        models[f"{name}_2cores"] = compile_model(path, cores=two_cores)
    harness = HostHarness(models, workdir / "harness")
    harness.build()
    return harness, paths


def _steps(harness: HostHarness, name: str, seed: int) -> list[list[np.ndarray]]:
    g = harness.models[name].graph
    rng = np.random.default_rng(seed)
    steps = []
    for _ in range(STEPS):
        inputs = []
        for i in g.inputs:
            t = g.tensor(i)
            info = np.iinfo(t.dtype.numpy)
            inputs.append(rng.integers(info.min, info.max + 1, t.shape, dtype=t.dtype.numpy))
        steps.append(inputs)
    return steps


@pytest.mark.cargo
@pytest.mark.parametrize("name", [*CASES, "keyword_scrambled"])
def test_svdf_steps_equal_tflite_micro(built: tuple[HostHarness, dict[str, Path]], name: str) -> None:
    harness, paths = built
    for seed in range(3):
        steps = _steps(harness, name, seed)
        want = tflite_micro_steps(paths[name], steps)
        for model in (name, f"{name}_2cores"):
            got = harness.run_steps(model, steps)
            for step, (outs, refs) in enumerate(zip(got, want, strict=True)):
                for a, b in zip(outs, refs, strict=True):
                    assert a.dtype == b.dtype and a.shape == b.shape
                    bad = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
                    assert bad.size == 0, (
                        f"{model} seed {seed} step {step}: {bad.size} of {a.size} differ; at {bad[:4]}: "
                        f"{a.reshape(-1)[bad[:4]]} vs TFLite Micro {b.reshape(-1)[bad[:4]]}"
                    )


@pytest.mark.cargo
def test_svdf_outputs_depend_on_the_carried_state(built: tuple[HostHarness, dict[str, Path]]) -> None:
    """The same input twice in a row gives different outputs (the memory moved on), so the
    step-by-step comparison above checks the state, not only one invocation."""
    harness, _ = built
    x = _steps(harness, "int16_in_rank2", 0)[0]
    first, second = harness.run_steps("int16_in_rank2", [x, x])
    assert not np.array_equal(first[0], second[0])


def test_int16_inputs_of_int8_only_ops_are_reported(tmp_path: Path) -> None:
    m = TFLiteModel()
    a, b, y = (m.tensor((1, 4), "int16", 0.01, 0) for _ in range(3))
    m.op("ADD", [a, b], [y], "AddOptions")
    m.inputs, m.outputs = [a, b], [y]
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(m.save(tmp_path / "add16.tflite"))
    assert [(op, "int16" in reason) for op, _, reason in e.value.problems] == [("ADD", True)]


@pytest.mark.cargo
def test_svdf_on_an386_equals_tflite_micro(tmp_path: Path) -> None:
    """One invocation per firmware run (zero state) of every case on the Cortex-M4."""
    paths = {
        name: svdf_model(c, k).save(tmp_path / f"{name}.tflite") for k, (name, c) in enumerate(CASES.items())
    }
    paths["keyword_scrambled"] = KEYWORD_SCRAMBLED
    batch = QemuBatch("qemu-an386", [], paths, tmp_path)
    rng = np.random.default_rng(11)
    for name, path in paths.items():
        g = batch.compiled[name].graph
        inputs = [
            rng.integers(
                np.iinfo(t.dtype.numpy).min, np.iinfo(t.dtype.numpy).max + 1, t.shape, dtype=t.dtype.numpy
            )
            for t in (g.tensor(i) for i in g.inputs)
        ]
        got = batch.run(name, inputs).outputs
        for a, b in zip(got, tflite_micro_steps(path, [inputs])[0], strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b), f"{name}: {a.reshape(-1)} vs TFLite Micro {b.reshape(-1)}"
