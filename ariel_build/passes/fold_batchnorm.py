"""Fold inference BatchNormalization into the Conv/Gemm/MatMul before it; lower the rest to Mul+Add."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node


def _bn_scale_shift(node: Node, graph: Graph) -> tuple[np.ndarray, np.ndarray] | None:
    params = [graph.const(node.input(k)) for k in range(1, 5)]
    if any(p is None for p in params) or len([o for o in node.outputs if o]) != 1:
        return None
    scale, bias, mean, var = (p.astype(np.float64) for p in params)  # type: ignore[union-attr]
    s = scale / np.sqrt(var + float(node.attrs.get("epsilon", 1e-5)))
    return s, bias - mean * s


def _fold_into_producer(producer: Node, graph: Graph, s: np.ndarray, shift: np.ndarray) -> bool:
    w = graph.const(producer.input(1))
    b = graph.const(producer.input(2))
    if w is None or w.dtype != np.float32 or (producer.input(2) and b is None):
        return False
    b = np.zeros(s.size) if b is None else b.astype(np.float64)
    if producer.op == "Conv":
        w_new = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
    elif (
        producer.op == "Gemm"
        and w.ndim == 2
        and b.ndim <= 1
        and graph.tensor(producer.outputs[0]).shape[-1] == s.size
    ):
        alpha, beta = float(producer.attrs.get("alpha", 1.0)), float(producer.attrs.get("beta", 1.0))
        w_new = alpha * (w * s[None, :] if not producer.attrs.get("transB", 0) else w * s[:, None])
        b = beta * b
        producer.attrs["alpha"] = producer.attrs["beta"] = 1.0
    elif producer.op == "MatMul" and w.ndim == 2 and len(graph.tensor(producer.inputs[0]).shape) == 2:
        w_new = w * s[None, :]
        producer.op = "Gemm"
        producer.attrs = {}
    else:
        return False
    _set_inputs(producer, graph, w_new, b * s + shift, bias_index=2)
    return True


def _set_inputs(node: Node, graph: Graph, weight: np.ndarray, bias: np.ndarray, bias_index: int) -> None:
    w_name = graph.add_constant(f"{node.name}_folded_weight", weight.astype(np.float32)).name
    b_name = graph.add_constant(f"{node.name}_folded_bias", bias.astype(np.float32)).name
    node.inputs = [node.inputs[0], w_name, b_name][: bias_index + 1]


def fold_batchnorm(graph: Graph) -> Graph:
    producers = graph.producers()
    consumers = graph.consumers()
    kept: list[Node] = []
    for node in graph.nodes:
        ss = _bn_scale_shift(node, graph) if node.op == "BatchNormalization" else None
        if ss is None:
            kept.append(node)
            continue
        s, shift = ss
        x, y = node.inputs[0], node.outputs[0]
        producer = producers.get(x)
        if (
            producer is not None
            and len(consumers.get(x, [])) == 1
            and x not in graph.outputs
            and producer.activation is None
            and _fold_into_producer(producer, graph, s, shift)
        ):
            producer.outputs = [y if o == x else o for o in producer.outputs]
            graph.tensor(y).shape = graph.tensor(x).shape
            continue
        # Standalone: y = x * s + shift, per channel (axis 1).
        rank = len(graph.tensor(x).shape)
        shape = (-1,) + (1,) * max(rank - 2, 0)
        s_name = graph.add_constant(f"{node.name}_scale", s.astype(np.float32).reshape(shape)).name
        t_name = graph.add_constant(f"{node.name}_shift", shift.astype(np.float32).reshape(shape)).name
        mid = graph.unique_name(f"{node.name}_scaled")
        graph.add_tensor(type(graph.tensor(y))(mid, graph.tensor(y).shape, graph.tensor(y).dtype))
        kept.append(Node("Mul", f"{node.name}_mul", [x, s_name], [mid]))
        kept.append(Node("Add", f"{node.name}_add", [mid, t_name], [y]))
    graph.nodes = kept
    graph.remove_unused_tensors()
    return graph
