"""Turn data-movement ops that copy their whole input in order (identity Transpose, full Slice,
Tile by ones, ...) into Reshape views: no code, the output shares the input's buffer."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.ops.transpose import StridedCopy


def _is_plain_copy(node: Node, graph: Graph) -> bool:
    op = lookup(node.op)
    copy_of = getattr(op, "copy", None)
    if copy_of is None or not node.inputs or node.outputs[0] not in graph.tensors:
        return False
    copy = copy_of(node, graph)
    if not isinstance(copy, StridedCopy):
        return False
    plan = copy.simplified()
    size = graph.tensor(node.inputs[0]).size
    return size > 0 and plan.offset == 0 and plan.strides == (1,) and plan.shape == (size,)


def copy_to_view(graph: Graph) -> Graph:
    for node in graph.nodes:
        if not _is_plain_copy(node, graph):
            continue
        shape = graph.tensor(node.outputs[0]).shape
        node.op, node.attrs = "Reshape", {}
        if graph.opset < 5:
            node.attrs["shape"] = list(shape)
            node.inputs = node.inputs[:1]
        else:
            target = graph.add_constant(f"{node.name}_shape", np.array(shape, np.int64))
            node.inputs = [node.inputs[0], target.name]
    graph.remove_unused_tensors()
    return graph
