"""Evaluate one IR node with ONNX's own reference implementation (build-time folding, tests)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from ariel_build.ir import Graph, Node


def _attribute(value: object) -> object:
    if isinstance(value, np.ndarray):
        return numpy_helper.from_array(value)
    return value


def evaluate(node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
    names = [f"i{k}" if a is not None else "" for k, a in enumerate(inputs)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    attrs = {k: _attribute(v) for k, v in node.attrs.items()}
    onnx_node = helper.make_node(node.op, names, outs, **attrs)
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in zip(names, inputs, strict=True)
        if a is not None
    ]
    graph_outputs = [helper.make_empty_tensor_value_info(o) for o in outs]
    model = helper.make_model(
        helper.make_graph([onnx_node], "fold", graph_inputs, graph_outputs),
        opset_imports=[helper.make_opsetid("", graph.opset)],
    )
    model.ir_version = onnx.IR_VERSION
    feeds = {n: a for n, a in zip(names, inputs, strict=True) if a is not None}
    results = ReferenceEvaluator(model).run(None, feeds)
    return [np.asarray(r) for r in results]
