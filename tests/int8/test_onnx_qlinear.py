"""ONNX QLinearConv / QLinearMatMul (operator format) models built with onnx.helper compile to the
int8 ops (passes/expand_qlinear.py, then fuse_qdq) and stay within one output step of onnxruntime.
Each model: float input → QuantizeLinear → QLinear op(s) → DequantizeLinear → float output."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from onnx import helper, numpy_helper

from fixtures.model_case import ModelCase, graph_case
from tests.oracle import CaseBatch, onnxruntime_outputs


def _zero_point(dtype: type[np.integer], rng: np.random.Generator) -> np.ndarray:
    return np.array(rng.integers(100, 156) if dtype is np.uint8 else rng.integers(-20, 20), dtype)


def _weights(
    shape: tuple[int, ...],
    dtype: type[np.integer],
    channels: int | None,
    rng: np.random.Generator,
    zero: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer weights, their scale (one, or one per `channels`) and zero point (default symmetric)."""
    if zero is None:
        zero = 128 if dtype is np.uint8 else 0
    info = np.iinfo(dtype)
    data = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    scale = rng.uniform(0.004, 0.02, channels or ()).astype(np.float32)
    zeros = np.full(channels or (), zero, dtype)
    return data, scale, zeros


def _output_scale(x_scale: float, w_scale: np.ndarray, taps: int) -> np.ndarray:
    """About four standard deviations of the output over the output's integer range."""
    return np.array(4 * 74 * 73 * x_scale * float(np.max(w_scale)) * math.sqrt(taps) / 255, np.float32)


def _case(
    name: str,
    op: str,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    act: type[np.integer],
    weight: type[np.integer],
    per_channel: bool,
    seed: int,
    bias: bool = False,
    weight_zero: int | None = None,
    **attrs: object,
) -> ModelCase:
    rng = np.random.default_rng(seed)
    x_scale, x_zero = np.array(0.02, np.float32), _zero_point(act, rng)
    channels = (w_shape[0] if op == "QLinearConv" else w_shape[-1]) if per_channel else None
    w, w_scale, w_zero = _weights(w_shape, weight, channels, rng, weight_zero)
    taps = math.prod(w_shape[1:]) if op == "QLinearConv" else w_shape[0]
    y_scale, y_zero = _output_scale(float(x_scale), w_scale, taps), _zero_point(act, rng)
    constants = {
        "x_scale": x_scale, "x_zero": x_zero, "w": w, "w_scale": w_scale, "w_zero": w_zero,
        "y_scale": y_scale, "y_zero": y_zero,
    }  # fmt: skip
    inputs = ["xq", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"]
    if bias:
        constants["b"] = rng.integers(-3000, 3000, w_shape[0]).astype(np.int32)
        inputs.append("b")
    info = np.iinfo(act)
    low, high = (info.min - float(x_zero)) * float(x_scale), (info.max - float(x_zero)) * float(x_scale)
    x = rng.uniform(low, high, x_shape).astype(np.float32)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"]),
        helper.make_node(op, inputs, ["yq"], **attrs),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"]),
    ]
    return graph_case(name, nodes, {"x": x}, constants, ["y"])


CASES = [
    _case("conv_u8_per_tensor", "QLinearConv", (1, 3, 9, 7), (5, 3, 3, 3), np.uint8, np.int8, False, 1,
          bias=True, pads=[1, 1, 1, 1]),
    _case("conv_i8_per_channel_stride2", "QLinearConv", (1, 4, 11, 8), (6, 4, 3, 3), np.int8, np.int8, True, 2,
          bias=True, strides=[2, 2], pads=[0, 1, 1, 0]),
    _case("conv_u8_per_channel_no_bias", "QLinearConv", (2, 5, 6, 5), (3, 5, 2, 3), np.uint8, np.int8, True, 3,
          strides=[1, 2], pads=[1, 0, 0, 1]),
    _case("conv_u8_weights_u8", "QLinearConv", (1, 3, 7, 7), (4, 3, 3, 3), np.uint8, np.uint8, False, 4,
          bias=True, pads=[1, 1, 1, 1]),
    _case("conv_i8_depthwise", "QLinearConv", (1, 6, 9, 9), (6, 1, 3, 3), np.int8, np.int8, True, 5,
          bias=True, group=6, strides=[2, 2], pads=[1, 1, 1, 1]),
    _case("conv_i8_pointwise", "QLinearConv", (1, 7, 5, 3), (9, 7, 1, 1), np.int8, np.int8, False, 6, bias=True),
    _case("conv_u8_asymmetric_weights_float", "QLinearConv", (1, 2, 5, 5), (3, 2, 3, 3), np.uint8, np.uint8,
          False, 10, bias=True, weight_zero=100),
    _case("matmul_u8_per_tensor", "QLinearMatMul", (3, 17), (17, 6), np.uint8, np.int8, False, 7),
    _case("matmul_i8_per_column", "QLinearMatMul", (5, 13), (13, 7), np.int8, np.int8, True, 8),
    _case("matmul_batched_float", "QLinearMatMul", (2, 3, 9), (9, 4), np.uint8, np.int8, False, 11),
    _case("matmul_u8_weights_u8", "QLinearMatMul", (4, 33), (33, 10), np.uint8, np.uint8, False, 9),
]  # fmt: skip


def output_scale(case: ModelCase) -> float:
    return float(numpy_helper.to_array(next(i for i in case.model.graph.initializer if i.name == "y_scale")))


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, Path(tmp_path_factory.mktemp("qlinear")))


@pytest.mark.cargo
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_qlinear_is_int8_and_within_one_step_of_onnxruntime(batch: CaseBatch, case: ModelCase) -> None:
    ops = {n.op for n in batch.compiled[case.name].graph.nodes}
    float_op = "Conv" if "conv" in case.name else "MatMul"
    if case.name.endswith("_float"):  # no int8 kernel: the op runs in float between Dequantize and Quantize
        assert {float_op, "Dequantize", "Quantize"} <= ops, ops
    else:
        assert {"QConv" if float_op == "Conv" else "QFullyConnected"} <= ops and float_op not in ops, ops
    assert not ops & {"QLinearConv", "QLinearMatMul"}
    (got,) = batch.harness.run(case.name, case.inputs)
    (want,) = onnxruntime_outputs(batch.paths[case.name], case.inputs)
    y_scale = output_scale(case)
    steps = np.abs(got - want) / y_scale
    assert steps.max() <= 1.001, f"{steps.max():.2f} steps"
    assert np.unique(np.round(want / y_scale)).size > min(16, want.size // 2)  # many output levels
