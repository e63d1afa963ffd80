"""Every int8 TFLite model in ../shared/models runs on the host bit-exactly like TFLite Micro."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.frontends import load_model
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from fixtures.tflite_builder import TFLiteModel
from tests.conftest import SHARED_MODELS
from tests.oracle import tflite_micro_outputs

INT8_MODELS = {
    "kws": SHARED_MODELS / "mlperf_tiny" / "kws_ref_model.tflite",
    "resnet8": SHARED_MODELS / "mlperf_tiny" / "pretrainedResnet_quant.tflite",
    "vww": SHARED_MODELS / "mlperf_tiny" / "vww_96_int8.tflite",
    "ad01": SHARED_MODELS / "mlperf_tiny" / "ad01_int8.tflite",
    "str_ww": SHARED_MODELS / "mlperf_tiny" / "str_ww_ref_model.tflite",
    "hello_world": SHARED_MODELS / "tflite_micro" / "hello_world_int8.tflite",
    "person_detect": SHARED_MODELS / "tflite_micro" / "person_detect.tflite",
    "micro_speech": SHARED_MODELS / "tflite_micro" / "micro_speech_quantized.tflite",
    "sine": SHARED_MODELS / "microflow" / "sine.tflite",
}
SEEDS = range(4)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    compiled = {name: compile_model(path) for name, path in INT8_MODELS.items()}
    h = HostHarness(compiled, tmp_path_factory.mktemp("tflite-int8"))
    h.build()
    return h


def random_inputs(harness: HostHarness, name: str, seed: int) -> list[np.ndarray]:
    g = harness.models[name].graph
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs]


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(INT8_MODELS))
def test_int8_model_equals_tflite_micro(harness: HostHarness, name: str) -> None:
    for seed in SEEDS:
        inputs = random_inputs(harness, name, seed)
        got = harness.run(name, inputs)
        want = tflite_micro_outputs(INT8_MODELS[name], inputs)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype == np.int8
            assert a.shape == b.shape
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, f"{name} seed {seed}: {diff.size} of {a.size} differ, first at {diff[:5]}"


def hard_swish_model(path: Path) -> Path:
    """An int8 op without an int8 implementation (HARD_SWISH)."""
    m = TFLiteModel()
    x, y = m.tensor((1, 8), "int8", 0.05, 0), m.tensor((1, 8), "int8", 0.05, 0)
    m.op("HARD_SWISH", [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m.save(path)


def test_unsupported_int8_ops_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(hard_swish_model(tmp_path / "hard_swish.tflite"))
    assert "HARD_SWISH" in {p[0] for p in e.value.problems}


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ariel_build", "check", str(path)], capture_output=True, text=True
    )


def test_check_accepts_every_supported_int8_model() -> None:
    for path in INT8_MODELS.values():
        result = _check(path)
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"


def test_check_names_unsupported_int8_ops_by_their_tflite_names(tmp_path: Path) -> None:
    result = _check(hard_swish_model(tmp_path / "hard_swish.tflite"))
    assert result.returncode == 1
    assert "HARD_SWISH" in result.stdout
