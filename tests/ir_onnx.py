"""An imported IR graph written back as ONNX, so onnxruntime can check any frontend's result."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper, numpy_helper

from ariel_build.ir import Graph


def to_onnx(graph: Graph, path: Path) -> Path:
    def value_info(name: str) -> onnx.ValueInfoProto:
        t = graph.tensor(name)
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(t.dtype.numpy), list(t.shape)
        )

    used = {i for n in graph.nodes for i in n.inputs if i} | set(graph.outputs)
    initializers = [
        numpy_helper.from_array(t.data, t.name)
        for t in graph.tensors.values()
        if t.is_constant and t.name in used
    ]
    nodes = [helper.make_node(n.op, n.inputs, n.outputs, name=n.name, **n.attrs) for n in graph.nodes]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            graph.name,
            [value_info(i) for i in graph.inputs],
            [value_info(o) for o in graph.outputs],
            initializers,
        ),
        opset_imports=[helper.make_opsetid("", graph.opset)],
    )
    model.ir_version = 8
    onnx.save(model, path)
    return path
