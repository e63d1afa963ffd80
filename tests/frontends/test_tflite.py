"""TFLite import: float models in ../shared/models run on the host and match the TFLite interpreter (LiteRT)."""

from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import ModelImportError, UnsupportedOpsError
from ariel_build.frontends import list_ops, load_model
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from fixtures.tflite_builder import TFLiteModel
from tests.conftest import SHARED_MODELS
from tests.ir_onnx import to_onnx
from tests.oracle import litert_outputs, onnxruntime_outputs

# Weight-only quantized (int8 weights, float activations): TFLite runs these "hybrid", quantizing
# activations to int8 on the fly; ariel-build computes in float with the dequantized weights.
HYBRID = {"kws"}
FLOAT_MODELS = {
    "hello_world": SHARED_MODELS / "tflite_micro" / "hello_world_float.tflite",
    "kws": SHARED_MODELS / "mlperf_tiny" / "kws_ref_model_float32.tflite",
    "resnet8": SHARED_MODELS / "mlperf_tiny" / "pretrainedResnet.tflite",
}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> HostHarness:
    compiled = {name: compile_model(path) for name, path in FLOAT_MODELS.items()}
    h = HostHarness(compiled, tmp_path_factory.mktemp("tflite-float"))
    h.build()
    return h


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(FLOAT_MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_float_model_matches_litert(harness: HostHarness, name: str, seed: int) -> None:
    g = harness.models[name].graph
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1, 1, g.tensor(i).shape).astype(np.float32) for i in g.inputs]
    got = harness.run(name, inputs)
    want = litert_outputs(FLOAT_MODELS[name], inputs)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape  # NHWC in, model's layout out
        if name in HYBRID:
            np.testing.assert_allclose(a, b, atol=5e-3)
            assert np.argmax(a) == np.argmax(b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(FLOAT_MODELS))
def test_float_model_matches_onnxruntime_on_the_imported_graph(
    harness: HostHarness, name: str, tmp_path: Path
) -> None:
    """Exact float semantics (also for hybrid models): the imported graph, exported back to ONNX."""
    g = harness.models[name].graph
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(-1, 1, g.tensor(i).shape).astype(np.float32) for i in g.inputs]
    want = onnxruntime_outputs(to_onnx(load_model(FLOAT_MODELS[name]), tmp_path / "imported.onnx"), inputs)
    for a, b in zip(harness.run(name, inputs), want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_inputs_keep_the_models_nhwc_shape() -> None:
    g = load_model(FLOAT_MODELS["kws"])
    assert [g.tensor(i).shape for i in g.inputs] == [(1, 49, 10, 1)]
    # The first conv reads the NCHW transpose of that input: channel axis 1.
    conv = next(n for n in g.nodes if n.op == "Conv")
    assert g.tensor(conv.inputs[0]).shape == (1, 1, 49, 10)


def test_every_unsupported_op_is_named_with_its_tflite_name(tmp_path: Path) -> None:
    m = TFLiteModel()
    x, y, z = (m.tensor((1, 8), "float32") for _ in range(3))
    m.op("L2_NORMALIZATION", [x], [y])
    m.op("RELU", [y], [z])
    m.inputs, m.outputs = [x], [z]
    path = m.save(tmp_path / "l2_norm.tflite")
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(path)
    assert {p[0] for p in e.value.problems} == {"L2_NORMALIZATION"}
    assert list_ops(path)["L2_NORMALIZATION"] == 1


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"1234TFL3" + b"\xff" * 40])
def test_corrupt_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.tflite"
    path.write_bytes(content)
    with pytest.raises(ModelImportError) as e:
        load_model(path)
    assert str(path) in e.value.render()
