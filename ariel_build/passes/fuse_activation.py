"""Apply Relu / Clip / Sigmoid inside the output loop of the op that produces their input."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node
from ariel_build.ir.graph import Activation
from ariel_build.ops.base import lookup


def _activation(node: Node, graph: Graph) -> Activation | None:
    if node.op == "Relu":
        return Activation("relu")
    if node.op == "Sigmoid":
        return Activation("sigmoid")
    if node.op == "Clip":
        if graph.opset < 11:
            low, high = node.attrs.get("min", -np.inf), node.attrs.get("max", np.inf)
        else:
            lo, hi = node.input(1), node.input(2)
            low_c, high_c = graph.const(lo), graph.const(hi)
            if (lo and low_c is None) or (hi and high_c is None):
                return None
            low = float(low_c) if low_c is not None else -np.inf
            high = float(high_c) if high_c is not None else np.inf
        return Activation("clip", float(low), float(high))
    return None


def fuse_activation(graph: Graph) -> Graph:
    producers = graph.producers()
    consumers = graph.consumers()
    kept: list[Node] = []
    for node in graph.nodes:
        act = _activation(node, graph)
        x = node.inputs[0] if node.inputs else ""
        producer = producers.get(x)
        op = lookup(producer.op) if producer else None
        if (
            act is None
            or producer is None
            or op is None
            or not op.fuses_activation
            or producer.activation is not None
            or len(consumers.get(x, [])) != 1
            or x in graph.outputs
            or graph.tensor(x).dtype != graph.tensor(node.outputs[0]).dtype
        ):
            kept.append(node)
            continue
        producer.activation = act
        producer.outputs = [node.outputs[0] if o == x else o for o in producer.outputs]
    graph.nodes = kept
    graph.remove_unused_tensors()
    return graph
