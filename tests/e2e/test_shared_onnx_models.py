"""The real float ONNX models in ../shared/models, compiled and run on the host, against onnxruntime."""

from pathlib import Path

import numpy as np
import pytest

from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from tests.conftest import SHARED_MODELS
from tests.oracle import onnxruntime_outputs

MODELS = {
    "mnist": SHARED_MODELS / "onnx" / "mnist.onnx",
    "mnist_pytorch": SHARED_MODELS / "onnx" / "mnist_pytorch.onnx",
    "mnist_simplified": SHARED_MODELS / "onnx" / "mnist_simplified.onnx",
}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    compiled = {name: compile_model(path) for name, path in MODELS.items()}
    h = HostHarness(compiled, tmp_path_factory.mktemp("shared-onnx"))
    h.build()
    return h


def _inputs(harness: HostHarness, name: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    g = harness.models[name].graph
    return [rng.uniform(0, 1, g.tensor(i).shape).astype(np.float32) for i in g.inputs]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_onnxruntime(harness: HostHarness, name: str, seed: int) -> None:
    inputs = _inputs(harness, name, seed)
    got = harness.run(name, inputs)
    want = onnxruntime_outputs(Path(MODELS[name]), inputs)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w.reshape(g.shape), rtol=1e-4, atol=1e-5)
        assert int(np.argmax(g)) == int(np.argmax(w))


def test_batchnorm_is_folded_away() -> None:
    model = compile_model(MODELS["mnist_pytorch"])
    # MatMul → BatchNormalization pairs become one Gemm each; the last MatMul stays.
    assert [n.op for n in model.graph.nodes] == ["Gemm", "Gemm", "MatMul"]
