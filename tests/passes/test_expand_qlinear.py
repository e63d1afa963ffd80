"""expand_qlinear: QLinearConv / QLinearMatMul become DequantizeLinear → Conv/MatMul → QuantizeLinear
reading the same scales and zero points (numerics: tests/int8/test_onnx_qlinear.py)."""

from pathlib import Path

import numpy as np

from ariel_build.frontends import load_model
from ariel_build.passes.expand_qlinear import expand_qlinear
from tests.int8.test_onnx_qlinear import CASES

BY_NAME = {c.name: c for c in CASES}


def test_qlinear_conv_expands_with_the_bias_in_the_accumulator_scale(tmp_path: Path) -> None:
    g = expand_qlinear(load_model(BY_NAME["conv_i8_per_channel_stride2"].save(tmp_path)))
    ops = [n.op for n in g.nodes]
    assert ops == ["QuantizeLinear", *["DequantizeLinear"] * 3, "Conv", "QuantizeLinear", "DequantizeLinear"]
    x_dq, w_dq, b_dq, conv, q = g.nodes[1:6]
    assert x_dq.inputs == ["xq", "x_scale", "x_zero"] and w_dq.inputs == ["w", "w_scale", "w_zero"]
    assert w_dq.attrs["axis"] == 0 and conv.attrs["strides"] == [2, 2]
    assert conv.inputs == [x_dq.outputs[0], w_dq.outputs[0], b_dq.outputs[0]]
    bias_scale = g.const(b_dq.inputs[1])
    assert bias_scale is not None
    np.testing.assert_array_equal(bias_scale, g.const("x_scale") * g.const("w_scale"))
    assert q.inputs == [conv.outputs[0], "y_scale", "y_zero"] and q.outputs == ["yq"]
    assert g.tensor(conv.outputs[0]).shape == g.tensor("yq").shape


def test_qlinear_matmul_weight_scales_run_along_the_columns(tmp_path: Path) -> None:
    g = expand_qlinear(load_model(BY_NAME["matmul_i8_per_column"].save(tmp_path)))
    assert [n.op for n in g.nodes][1:5] == [
        "DequantizeLinear",
        "DequantizeLinear",
        "MatMul",
        "QuantizeLinear",
    ]
    assert g.nodes[2].attrs["axis"] == 1
