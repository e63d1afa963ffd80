"""Give every node its own name: the scheduler and the per-op report key nodes by name, and
neither ONNX nor the importers' generated nodes guarantee unique ones. A repeated name gets the
first free `_2`, `_3`, … suffix."""

from __future__ import annotations

from ariel_build.ir import Graph


def unique_node_names(graph: Graph) -> Graph:
    taken = {n.name for n in graph.nodes}
    seen: set[str] = set()
    for node in graph.nodes:
        if node.name in seen:
            k = 2
            while f"{node.name}_{k}" in taken:
                k += 1
            node.name = f"{node.name}_{k}"
            taken.add(node.name)
        seen.add(node.name)
    return graph
