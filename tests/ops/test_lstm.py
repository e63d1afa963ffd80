"""UNIDIRECTIONAL_SEQUENCE_LSTM: the shared models and generated single-op models against the
TFLite Micro interpreter (f32 within float tolerance, int8 bit-exact) over consecutive invocations
(hidden and cell state carry over from one `run` to the next), on one and two host cores and on
qemu-an386."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.errors import UnsupportedOpsError
from ariel_build.frontends import load_model
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness, cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.schedule.multicore import board_cores
from fixtures.tflite_builder import TFLiteModel
from tests.conftest import SHARED_MODELS
from tests.oracle import tflite_micro_outputs, tflite_micro_steps

TANH, RELU = 4, 1
STEPS = 3


def lstm_model(
    batch: int, time: int, features: int, hidden: int, *, time_major: bool, cell_clip: float,
    peephole: bool = False, activation: int = TANH,
) -> TFLiteModel:  # fmt: skip
    """One f32 LSTM with random weights; optional inputs absent unless `peephole`."""
    rng = np.random.default_rng(batch * 1000 + time * 100 + features * 10 + hidden)
    m = TFLiteModel()
    x = m.tensor((time, batch, features) if time_major else (batch, time, features), "float32")

    def const(*shape: int) -> int:
        return m.const(rng.uniform(-0.8, 0.8, shape).astype(np.float32))

    weights = [const(hidden, features) for _ in range(4)] + [const(hidden, hidden) for _ in range(4)]
    peepholes = [const(hidden) for _ in range(3)] if peephole else [-1, -1, -1]
    biases = [const(hidden) for _ in range(4)]
    states = [m.tensor((batch, hidden), "float32", variable=True) for _ in range(2)]
    y = m.tensor((time, batch, hidden) if time_major else (batch, time, hidden), "float32")
    inputs = [x, *weights, *peepholes, *biases, -1, -1, *states, -1, -1, -1, -1]
    m.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions",
         FusedActivationFunction=activation, CellClip=cell_clip, TimeMajor=time_major)  # fmt: skip
    m.inputs, m.outputs = [x], [y]
    return m


def int8_lstm_model(
    batch: int, time: int, features: int, hidden: int, *, time_major: bool, cell_clip: float, cell_power: int,
    hidden_zero: int,
) -> TFLiteModel:  # fmt: skip
    """One int8 LSTM (int16 cell state of scale 2^cell_power) with random weights and scales."""
    rng = np.random.default_rng(features * 10 + hidden)
    m = TFLiteModel()
    in_scale, hidden_scale = float(rng.uniform(0.01, 0.05)), float(rng.uniform(0.005, 0.01))
    x_shape = (time, batch, features) if time_major else (batch, time, features)
    x = m.tensor(x_shape, scale=in_scale, zero_point=int(rng.integers(-20, 20)))

    def weights(rows: int, cols: int) -> tuple[int, float]:
        scale = float(rng.uniform(0.005, 0.03))
        return m.const(rng.integers(-127, 128, (rows, cols), dtype=np.int8), scale), scale

    w = [weights(hidden, features) for _ in range(4)]
    r = [weights(hidden, hidden)[0] for _ in range(4)]
    biases = [m.const(rng.integers(-4000, 4000, hidden).astype(np.int32), in_scale * scale) for _, scale in w]
    h = m.tensor((batch, hidden), scale=hidden_scale, zero_point=hidden_zero, variable=True)
    c = m.tensor((batch, hidden), "int16", scale=2.0**cell_power, zero_point=0, variable=True)
    y_shape = (time, batch, hidden) if time_major else (batch, time, hidden)
    y = m.tensor(y_shape, scale=hidden_scale, zero_point=hidden_zero)
    inputs = [x, *(i for i, _ in w), *r, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    m.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions",
         FusedActivationFunction=TANH, CellClip=cell_clip, TimeMajor=time_major)  # fmt: skip
    m.inputs, m.outputs = [x], [y]
    return m


GENERATED_INT8 = {
    "int8_time_major": lambda: int8_lstm_model(
        2, 4, 5, 6, time_major=True, cell_clip=0.0, cell_power=-11, hidden_zero=-5
    ),
    "int8_clipped": lambda: int8_lstm_model(
        1, 6, 7, 3, time_major=False, cell_clip=0.5, cell_power=-14, hidden_zero=3
    ),
}
SHARED_INT8 = {
    "trained_lstm_int8": SHARED_MODELS / "tflite_micro" / "trained_lstm_int8.tflite",
    "dtln": SHARED_MODELS / "tflite_micro" / "dtln_noise_suppression.tflite",
}
GENERATED = {
    "time_major": lambda: lstm_model(2, 5, 3, 4, time_major=True, cell_clip=0.0),
    "batch_major_clipped": lambda: lstm_model(3, 4, 6, 5, time_major=False, cell_clip=0.3),
}
SHARED = {"trained_lstm": SHARED_MODELS / "tflite_micro" / "trained_lstm.tflite"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostHarness, dict[str, Path]]:
    workdir = tmp_path_factory.mktemp("lstm")
    paths = {**SHARED, **SHARED_INT8}
    paths.update(
        {
            name: make().save(workdir / f"{name}.tflite")
            for name, make in {**GENERATED, **GENERATED_INT8}.items()
        }
    )
    models = {name: compile_model(p) for name, p in paths.items()}
    two_cores = board_cores(load_board("host"), 2)
    models.update(
        {f"{name}_c2": compile_model(paths[name], cores=two_cores) for name in {**SHARED, **SHARED_INT8}}
    )
    harness = HostHarness(models, workdir / "harness")
    harness.build()
    return harness, paths


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted([*SHARED, *GENERATED]))
def test_f32_lstm_matches_tflite_micro(built: tuple[HostHarness, dict[str, Path]], name: str) -> None:
    harness, paths = built
    g = harness.models[name].graph
    rng = np.random.default_rng(1)
    steps = [
        [rng.uniform(-1, 1, g.tensor(i).shape).astype(np.float32) for i in g.inputs] for _ in range(STEPS)
    ]
    for step, (got, want) in enumerate(
        zip(harness.run_steps(name, steps), tflite_micro_steps(paths[name], steps), strict=True)
    ):
        for a, b in zip(got, want, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"step {step}")


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted([*SHARED_INT8, *GENERATED_INT8]))
def test_int8_lstm_equals_tflite_micro(built: tuple[HostHarness, dict[str, Path]], name: str) -> None:
    harness, paths = built
    steps = _int8_steps(harness, name, np.random.default_rng(2))
    for step, (got, want) in enumerate(
        zip(harness.run_steps(name, steps), tflite_micro_steps(paths[name], steps), strict=True)
    ):
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype == np.int8 and a.shape == b.shape
            bad = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert bad.size == 0, f"step {step}: {bad.size} of {a.size} differ, first at {bad[:5]}"


def _int8_steps(harness: HostHarness, name: str, rng: np.random.Generator) -> list[list[np.ndarray]]:
    g = harness.models[name].graph
    return [
        [rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs] for _ in range(STEPS)
    ]


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted([*SHARED, *SHARED_INT8]))
def test_two_cores_equal_one_core(built: tuple[HostHarness, dict[str, Path]], name: str) -> None:
    """The LSTM has no split rule: it runs whole on one core, the other ops around it split."""
    harness, _ = built
    g = harness.models[name].graph
    rng = np.random.default_rng(5)
    if g.tensor(g.inputs[0]).dtype.numpy == np.int8:
        steps = _int8_steps(harness, name, rng)
    else:
        steps = [[rng.uniform(-1, 1, g.tensor(g.inputs[0]).shape).astype(np.float32)] for _ in range(STEPS)]
    one, two = harness.run_steps(name, steps), harness.run_steps(f"{name}_c2", steps, timeout=60)
    for got, ref in zip(two, one, strict=True):
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.cargo
def test_shared_lstm_models_on_qemu_an386_equal_tflite_micro(tmp_path: Path) -> None:
    """The kernels on a Cortex-M4: int8 bit-exact, f32 within float tolerance."""
    paths = {**SHARED, **SHARED_INT8}
    models = {name: compile_model(p) for name, p in paths.items()}
    harness = QemuHarness(models, cache_dir() / "test-firmware" / "lstm-an386", load_board("qemu-an386"))
    harness.build()
    rng = np.random.default_rng(9)
    for name, model in models.items():
        t = model.graph.tensor(model.graph.inputs[0])
        if t.dtype.numpy == np.int8:
            x = rng.integers(-128, 128, t.shape, dtype=np.int8)
        else:
            x = rng.uniform(-1, 1, t.shape).astype(np.float32)
        (got,) = harness.run(name, [x], timeout=120).outputs
        (want,) = tflite_micro_outputs(paths[name], [x])
        if x.dtype == np.int8:
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)


def test_reference_matches_tflite_micro(tmp_path: Path) -> None:
    """The op's numpy reference (constant folding, second opinion) has TFLite Micro's semantics."""
    from ariel_build.ops.base import lookup

    for name, make in GENERATED.items():
        path = make().save(tmp_path / f"{name}.tflite")
        g = load_model(path)
        node = next(n for n in g.nodes if n.op == "SequenceLstm")
        x = np.random.default_rng(3).uniform(-1, 1, g.tensor(node.inputs[0]).shape).astype(np.float32)
        consts = [g.const(i) for i in node.inputs[1:]]
        got, _ = lookup("SequenceLstm").reference(node, g, [x, *consts])  # type: ignore[union-attr]
        np.testing.assert_allclose(got, tflite_micro_outputs(path, [x])[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("variant", "reason"), [({"peephole": True}, "peephole"), ({"activation": RELU}, "only TANH")]
)
def test_unsupported_variants_are_named(tmp_path: Path, variant: dict[str, Any], reason: str) -> None:
    model = lstm_model(1, 2, 3, 4, time_major=False, cell_clip=0.0, **variant)
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(model.save(tmp_path / "variant.tflite"))
    assert any(reason in p[-1] for p in e.value.problems)
