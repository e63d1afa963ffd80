"""Replace the elementwise GELU subgraphs exporters write with one Gelu node.

Recognised (products in any order and grouping, sums in either operand order):
  x * 0.5 * (1 + Erf(x / sqrt(2)))              (or Erf(x * 1/sqrt(2)))  -> Gelu
  x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))  (x^3 as Pow(x, 3) or x*x*x)
                                                              -> Gelu(approximate="tanh")
Every intermediate must be read only inside the pattern.
"""

from __future__ import annotations

import math

from ariel_build.ir import DType, Graph, Node

SQRT2 = math.sqrt(2.0)
TANH_SCALE = math.sqrt(2.0 / math.pi)
TANH_CUBIC = 0.044715


class _Matcher:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.producers = graph.producers()
        self.consumers = graph.consumers()

    def private(self, name: str) -> bool:
        """Read by exactly one node and not a graph output."""
        return len(self.consumers.get(name, [])) == 1 and name not in self.graph.outputs

    def is_const(self, name: str, value: float) -> bool:
        data = self.graph.const(name)
        return (
            data is not None and data.size == 1 and math.isclose(float(data.reshape(())), value, rel_tol=1e-4)
        )

    def product(self, name: str, top: bool = True) -> tuple[list[str], list[Node]]:
        """Factors of a tree of Mul nodes ending in `name`, and those nodes."""
        node = self.producers.get(name)
        if node is None or node.op != "Mul" or (not top and not self.private(name)):
            return [name], []
        leaves, nodes = [], [node]
        for i in node.inputs:
            more, inner = self.product(i, top=False)
            leaves += more
            nodes += inner
        return leaves, nodes

    def private_producer(self, name: str, op: str) -> Node | None:
        node = self.producers.get(name)
        return node if node is not None and node.op == op and self.private(name) else None

    def split_const(self, leaves: list[str], value: float) -> list[str] | None:
        """`leaves` without the one constant equal to `value` (None when there is no such leaf)."""
        for k, leaf in enumerate(leaves):
            if self.is_const(leaf, value):
                return leaves[:k] + leaves[k + 1 :]
        return None

    def one_plus(self, name: str) -> tuple[Node, list[Node]] | None:
        """`name` = 1 + f(...) where f is Erf or Tanh: (f's node, the Add)."""
        add = self.private_producer(name, "Add")
        if add is None or len(add.inputs) != 2:
            return None
        for k in (0, 1):
            if self.is_const(add.inputs[k], 1.0):
                inner = self.producers.get(add.inputs[1 - k])
                if inner is not None and inner.op in ("Erf", "Tanh") and self.private(add.inputs[1 - k]):
                    return inner, [add]
        return None

    def erf_argument(self, name: str, x: str) -> list[Node] | None:
        """`name` = x / sqrt(2) or x * (1 / sqrt(2))."""
        div = self.private_producer(name, "Div")
        if div is not None:
            return [div] if div.inputs[0] == x and self.is_const(div.inputs[1], SQRT2) else None
        if not self.private(name):
            return None
        leaves, nodes = self.product(name)
        return nodes if nodes and self.split_const(leaves, 1 / SQRT2) == [x] else None

    def tanh_argument(self, name: str, x: str) -> list[Node] | None:
        """`name` = sqrt(2/pi) * (x + 0.044715 * x^3)."""
        if not self.private(name):
            return None
        leaves, nodes = self.product(name)
        rest = self.split_const(leaves, TANH_SCALE)
        if not nodes or rest is None or len(rest) != 1:
            return None
        add = self.private_producer(rest[0], "Add")
        if add is None or x not in add.inputs or len(add.inputs) != 2:
            return None
        cubic = add.inputs[1] if add.inputs[0] == x else add.inputs[0]
        if not self.private(cubic):
            return None
        leaves, cubic_nodes = self.product(cubic)
        rest = self.split_const(leaves, TANH_CUBIC)
        if not cubic_nodes or rest is None:
            return None
        if rest == [x, x, x]:
            return [*nodes, add, *cubic_nodes]
        power = self.private_producer(rest[0], "Pow") if len(rest) == 1 else None
        if power is not None and power.inputs[0] == x and self.is_const(power.inputs[1], 3.0):
            return [*nodes, add, *cubic_nodes, power]
        return None

    def gelu(self, root: Node) -> tuple[str, str, list[Node]] | None:
        """(x, approximate, the pattern's nodes) when `root` is the last Mul of a GELU."""
        leaves, muls = self.product(root.outputs[0])
        rest = self.split_const(leaves, 0.5)
        if rest is None or len(rest) != 2:
            return None
        for s, x in (rest, rest[::-1]):
            found = self.one_plus(s)
            if found is None or self.graph.tensor(x).dtype != DType.F32:
                continue
            inner, add = found
            if inner.op == "Erf":
                argument = self.erf_argument(inner.inputs[0], x)
            else:
                argument = self.tanh_argument(inner.inputs[0], x)
            if argument is not None:
                return x, "none" if inner.op == "Erf" else "tanh", [*muls, *add, inner, *argument]
        return None


def fuse_gelu(graph: Graph) -> Graph:
    matcher = _Matcher(graph)
    replaced: dict[int, Node] = {}  # id of a pattern's last node -> its Gelu
    removed: set[int] = set()
    for node in graph.nodes:
        if node.op != "Mul" or id(node) in removed:
            continue
        match = matcher.gelu(node)
        if match is None:
            continue
        x, approximate, nodes = match
        removed.update(id(n) for n in nodes)
        replaced[id(node)] = Node("Gelu", node.name, [x], [node.outputs[0]], {"approximate": approximate})
    graph.nodes = [replaced.get(id(n), n) for n in graph.nodes if id(n) in replaced or id(n) not in removed]
    graph.remove_unused_tensors()
    return graph
