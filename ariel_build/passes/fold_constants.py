"""Evaluate at build time every node whose inputs are all known (constants, or static shapes)."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node, Tensor
from ariel_build.ops.base import lookup
from ariel_build.ops.onnx_reference import evaluate

# Ops whose result depends only on the input's static shape, not its values.
SHAPE_ONLY = {"Shape", "Size"}
# Never folded: their value differs per run.
NONDETERMINISTIC = {
    "RandomUniform",
    "RandomNormal",
    "RandomUniformLike",
    "RandomNormalLike",
    "Bernoulli",
    "Multinomial",
}


def _known_inputs(node: Node, graph: Graph) -> list[np.ndarray | None] | None:
    values: list[np.ndarray | None] = []
    for k, name in enumerate(node.inputs):
        if not name:
            values.append(None)
            continue
        t = graph.tensors.get(name)
        if t is None:
            return None
        if t.data is not None:
            values.append(t.data)
        elif node.op in SHAPE_ONLY and k == 0:
            values.append(np.zeros(t.shape, t.dtype.numpy))
        else:
            return None
    return values


def try_fold(node: Node, graph: Graph) -> bool:
    """Replace the node's outputs with constants when it can be evaluated now; True if it was."""
    if node.op in NONDETERMINISTIC or "__unsupported__" in node.attrs or "." in node.op:
        return False
    values = _known_inputs(node, graph)
    if values is None:
        return False
    op = lookup(node.op)
    try:
        results = op.reference(node, graph, values) if op else evaluate(node, graph, values)
        dtypes = [DType.from_numpy(r.dtype) for r in results]
    except Exception:  # noqa: BLE001 - any failure means: leave it to run time (or report it)
        return False
    for name, data, dtype in zip(node.outputs, results, dtypes, strict=False):
        if name:
            graph.add_tensor(
                Tensor(name, tuple(int(d) for d in data.shape), dtype, np.asarray(data, order="C"))
            )
    return True


def fold_constants(graph: Graph) -> Graph:
    graph.nodes = [n for n in graph.nodes if not try_fold(n, graph)]
    graph.remove_unused_tensors()
    return graph
