"""An input with a 0-sized dimension has a single possible value: it is imported as an empty constant."""

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from ariel_build.pipeline import compile_model


def test_empty_input_becomes_a_constant_and_its_uses_fold(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    e = helper.make_tensor_value_info("e", TensorProto.FLOAT, [0, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Relu", ["x"], ["y"]),
        helper.make_node("ReduceSum", ["e"], ["s"], keepdims=0),  # sum over no elements: 0
    ]
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x, e], [y, s])), path)
    g = compile_model(path).graph
    assert g.inputs == ["x"]
    assert g.tensor("s").data is not None and float(g.tensor("s").data) == 0.0
    assert [n.op for n in g.nodes] == ["Relu"]
