"""Drop nodes whose outputs nobody reads, and tensors nobody uses."""

from __future__ import annotations

from ariel_build.ir import Graph


def eliminate_dead(graph: Graph) -> Graph:
    live = set(graph.outputs)
    kept = []
    for node in reversed(graph.nodes):
        if any(o in live for o in node.outputs if o):
            kept.append(node)
            live.update(i for i in node.inputs if i)
    graph.nodes = kept[::-1]
    graph.remove_unused_tensors()
    return graph
