"""ONNX models quantized by onnxruntime.quantization.quantize_static (QDQ format) run as int8 ops
on the host and stay within one output quantization step of onnxruntime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from tests.oracle import onnxruntime_outputs

INPUT_SHAPE = (1, 3, 12, 12)


def _float_model(rng: np.random.Generator) -> onnx.ModelProto:
    """Conv+Relu, MaxPool, depthwise Conv+Clip(0,6), residual Add, Mul, GlobalAveragePool,
    Flatten, Gemm, MatMul, and a Softmax (no int8 kernel: it runs in float between
    Dequantize and Quantize)."""

    def init(name: str, shape: tuple[int, ...], std: float = 0.3) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.normal(0, std, shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("Add", ["r2", "p1"], ["a2"]),
        helper.make_node("Mul", ["a2", "s"], ["m2"]),
        helper.make_node("Conv", ["m2", "w4"], ["c4"], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c4"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["h"], transB=1),
        helper.make_node("MatMul", ["h", "w5"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["y"]),
    ]
    inits = [
        init("w1", (8, 3, 3, 3)), init("b1", (8,), 0.1), init("w2", (8, 1, 3, 3)), init("b2", (8,), 0.1),
        init("s", (1, 8, 1, 1), 1.0), init("w4", (6, 8, 1, 1)), init("w3", (5, 6)), init("b3", (5,), 0.1),
        init("w5", (5, 4)),
        numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
        numpy_helper.from_array(np.array(6.0, np.float32), "hi"),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "qdq_test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(INPUT_SHAPE))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


class _Calibration(CalibrationDataReader):
    def __init__(self, rng: np.random.Generator) -> None:
        self.batches: Iterator[dict[str, np.ndarray]] = iter(
            [{"x": rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32)} for _ in range(16)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


VARIANTS = {
    "int8_per_channel": (QuantType.QInt8, True),
    "int8_per_tensor": (QuantType.QInt8, False),
    "uint8_per_channel": (QuantType.QUInt8, True),
}


def _output_scale(path: Path) -> float:
    model = onnx.load(str(path))
    last = next(n for n in model.graph.node if n.output[0] == model.graph.output[0].name)
    scale = next(i for i in model.graph.initializer if i.name == last.input[1])
    return float(numpy_helper.to_array(scale))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostHarness, dict[str, Path]]:
    workdir = tmp_path_factory.mktemp("qdq")
    paths = {}
    for name, (activations, per_channel) in VARIANTS.items():
        float_path = workdir / f"{name}_float.onnx"
        onnx.save(_float_model(np.random.default_rng(0)), str(float_path))
        paths[name] = workdir / f"{name}.onnx"
        quantize_static(
            str(float_path), str(paths[name]), _Calibration(np.random.default_rng(1)),
            quant_format=QuantFormat.QDQ, activation_type=activations, weight_type=QuantType.QInt8,
            per_channel=per_channel,
        )  # fmt: skip
    harness = HostHarness({n: compile_model(p) for n, p in paths.items()}, workdir / "harness")
    harness.build()
    return harness, paths


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_qdq_model_is_int8_and_within_one_step_of_onnxruntime(
    built: tuple[HostHarness, dict[str, Path]], name: str
) -> None:
    harness, paths = built
    ops = {n.op for n in harness.models[name].graph.nodes}
    assert {"QConv", "QMaxPool", "QAdd", "QMul", "QMean", "QFullyConnected"} <= ops
    assert not ops & {"Conv", "Gemm", "MatMul", "Add", "QuantizeLinear", "DequantizeLinear"}
    assert {"Softmax", "Quantize", "Dequantize"} <= ops
    step = _output_scale(paths[name])
    rng = np.random.default_rng(2)
    for _ in range(8):
        x = rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32)
        (got,) = harness.run(name, [x])
        (want,) = onnxruntime_outputs(paths[name], [x])
        assert np.abs(got - want).max() <= step * 1.001, f"{np.abs(got - want).max() / step:.2f} steps"
