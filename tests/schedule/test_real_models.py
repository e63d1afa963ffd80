"""Real models (ONNX and float TFLite from /work/shared/models) on 2 and 4 host cores:
outputs bit-identical to the one-core `run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from ariel_build.schedule.multicore import board_cores
from tests.conftest import SHARED_MODELS

MODELS = {
    "mnist": "onnx/mnist.onnx",
    "mnist_pytorch": "onnx/mnist_pytorch.onnx",
    "kws": "mlperf_tiny/kws_ref_model_float32.tflite",
    "resnet": "mlperf_tiny/pretrainedResnet.tflite",
}
CORES = (1, 2, 4)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    host = load_board("host")
    models = {
        f"{name}_c{n}": compile_model(SHARED_MODELS / path, cores=board_cores(host, n))
        for name, path in MODELS.items()
        for n in CORES
    }
    h = HostHarness(models, Path(tmp_path_factory.mktemp("real")))
    h.build()
    return h


@pytest.mark.parametrize("name", list(MODELS))
def test_bit_identical_on_more_cores(harness: HostHarness, name: str) -> None:
    graph = harness.models[f"{name}_c1"].graph
    rng = np.random.default_rng(0)
    inputs = [rng.random(graph.tensor(i).shape).astype(graph.tensor(i).dtype.numpy) for i in graph.inputs]
    one = harness.run(f"{name}_c1", inputs, timeout=60)
    for n in CORES[1:]:
        model = harness.models[f"{name}_c{n}"]
        assert model.multicore is not None and any(
            t.index > 0 for t in model.multicore.program.schedule.tasks
        )
        for got, ref in zip(harness.run(f"{name}_c{n}", inputs, timeout=60), one, strict=True):
            np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {n} cores")
