"""Remove ops that pass their input through unchanged (Identity, Dropout at inference, no-op casts/reshapes)."""

from __future__ import annotations

from ariel_build.ir import Graph, Node

SHAPE_PRESERVING_VIEWS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand"}


def _is_identity(node: Node, graph: Graph) -> bool:
    if not node.inputs or not node.inputs[0] or node.inputs[0] not in graph.tensors:
        return False
    src, out = graph.tensor(node.inputs[0]), graph.tensors.get(node.outputs[0])
    if out is None or src.shape != out.shape or src.dtype != out.dtype:
        return False
    if node.op in ("Identity", "Cast") or node.op in SHAPE_PRESERVING_VIEWS:
        return True
    # Dropout in inference: output 0 is the input (the mask output must be unused).
    return node.op == "Dropout" and len([o for o in node.outputs if o]) == 1


def eliminate_identity(graph: Graph) -> Graph:
    producers = graph.producers()
    kept = []
    for node in graph.nodes:
        if not _is_identity(node, graph):
            kept.append(node)
            continue
        src, out = node.inputs[0], node.outputs[0]
        if out not in graph.outputs:
            graph.replace_uses(out, src)
        elif src in producers and src not in graph.outputs and src not in graph.inputs:
            # Keep the graph output's name: the producer writes it directly.
            producer = producers[src]
            producer.outputs = [out if o == src else o for o in producer.outputs]
            for n in graph.nodes:
                n.inputs = [out if i == src else i for i in n.inputs]
        else:
            kept.append(node)  # output of a graph input or constant: stays a copy
    graph.nodes = kept
    graph.remove_unused_tensors()
    return graph
