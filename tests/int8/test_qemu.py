"""int8 models and per-op cases on emulated boards equal TFLite Micro bit-exactly: qemu-an386
(Cortex-M4) runs the DSP kernel paths (SMLAD, SXTB16), qemu-an524 (Cortex-M33 CPU0 without DSP in
QEMU) the portable ones. The default run builds one an386 firmware for a sample (with the ONNX
ConvInteger/MatMulInteger cases, equal to onnxruntime, and two QLinear cases, within one step of
it); `-m slow` sweeps every TFLite case and model on both boards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fixtures.model_case import ModelCase
from tests.boards.qemu_batch import QemuBatch
from tests.int8 import test_onnx_integer, test_onnx_qlinear
from tests.int8.cases import OpCase, cases
from tests.int8.test_models import INT8_MODELS
from tests.oracle import onnxruntime_outputs, tflite_micro_outputs

pytestmark = pytest.mark.cargo

CASES = {c.name: c for c in cases()}
SAMPLE_CASES = [
    "conv_3x3_same",
    "conv_5x3_stride2_valid_relu",
    "conv_1x1_pointwise_no_bias",
    "conv_1x1_20_channels_odd_out",
    "conv_3x3_6_channels_relu",
    "conv_1x1_8_channels",
    "conv_3x3_8_channels_ring",
    "conv_3x3_8_channels_no_ring",
    "conv_3x3_stride2_relu",
    "conv_2x2_stride2_same_per_tensor",
    "depthwise_3x3_same",
    "depthwise_multiplier3_stride2",
    "depthwise_3x3_stride2_odd_width_tiny_channel",
    "depthwise_3x3_rows_of_3",
    "depthwise_3x3_rows_of_2_stride2",
    "depthwise_5x5_valid_dilation2",
    "fc_batch3_relu",
    "fc_no_bias",
    "average_3x3_stride2_same",
    "add_channel_constant_relu",
    "softmax_rows_beta_0p5",
]
SAMPLE_MODELS = ["kws", "ad01"]
ONNX_INTEGER = test_onnx_integer.CASES
ONNX_QLINEAR = [c for c in test_onnx_qlinear.CASES if c.name in ("conv_i8_depthwise", "matmul_i8_per_column")]
# qemu-an524's 512 KiB of flash: models whose weights fit next to the op cases.
AN524_MODELS = ["kws", "resnet8", "hello_world", "sine", "micro_speech"]
RUNS = 2


def _batch(
    board: str,
    case_names: list[str],
    model_names: list[str],
    tmp: Path,
    onnx_cases: tuple[ModelCase, ...] = (),
) -> tuple[QemuBatch, dict[str, Path]]:
    paths = {n: CASES[n].model.save(tmp / "models" / f"{n}.tflite") for n in case_names}
    paths |= {n: INT8_MODELS[n] for n in model_names}
    return QemuBatch(board, list(onnx_cases), paths, tmp), paths


def _inputs(batch: QemuBatch, name: str, rng: np.random.Generator) -> list[np.ndarray]:
    case: OpCase | None = CASES.get(name)
    if case is not None and case.inputs is not None:
        return case.inputs(rng)
    g = batch.compiled[name].graph
    return [rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs]


def _check(batch: QemuBatch, paths: dict[str, Path], name: str) -> None:
    rng = np.random.default_rng(3)
    for run in range(RUNS):
        inputs = _inputs(batch, name, rng)
        got = batch.run(name, inputs).outputs
        want = tflite_micro_outputs(paths[name], inputs)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            bad = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert bad.size == 0, f"{name} run {run}: {bad.size} of {a.size} differ, first at {bad[:4]}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[QemuBatch, dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("int8-qemu")
    return _batch("qemu-an386", SAMPLE_CASES, SAMPLE_MODELS, tmp, (*ONNX_INTEGER, *ONNX_QLINEAR))


@pytest.mark.parametrize("name", SAMPLE_CASES + SAMPLE_MODELS)
def test_sample_on_an386_equals_tflite_micro(sample: tuple[QemuBatch, dict[str, Path]], name: str) -> None:
    _check(*sample, name)


@pytest.mark.parametrize("name", [c.name for c in ONNX_INTEGER])
def test_integer_ops_on_an386_equal_onnxruntime(sample: tuple[QemuBatch, dict[str, Path]], name: str) -> None:
    sample[0].check(name)


@pytest.mark.parametrize("case", ONNX_QLINEAR, ids=[c.name for c in ONNX_QLINEAR])
def test_qlinear_ops_on_an386_within_one_step_of_onnxruntime(
    sample: tuple[QemuBatch, dict[str, Path]], case: ModelCase
) -> None:
    batch = sample[0]
    (got,) = batch.run(case.name, case.inputs).outputs
    (want,) = onnxruntime_outputs(batch.paths[case.name], case.inputs)
    y_scale = test_onnx_qlinear.output_scale(case)
    assert np.abs(got - want).max() / y_scale <= 1.001


SWEEP = {
    "qemu-an386": (sorted(CASES), sorted(INT8_MODELS)),
    "qemu-an524": (sorted(CASES), AN524_MODELS),
}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[QemuBatch, dict[str, Path]]]:
    return {}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("board", "name"), [(b, n) for b, (ops, models) in SWEEP.items() for n in ops + models]
)
def test_sweep_equals_tflite_micro(
    sweeps: dict[str, tuple[QemuBatch, dict[str, Path]]],
    tmp_path_factory: pytest.TempPathFactory,
    board: str,
    name: str,
) -> None:
    if board not in sweeps:
        sweeps[board] = _batch(board, *SWEEP[board], tmp_path_factory.mktemp(f"int8-{board}"))
    _check(*sweeps[board], name)
