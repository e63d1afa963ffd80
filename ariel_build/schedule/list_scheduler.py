"""List scheduling of nodes, split into parts, onto cores (HEFT with moldable nodes).

Nodes are taken by decreasing upward rank (mean whole-node cost + the largest rank of a
successor plus one SYNC), which respects dependencies. For each node and each part count p up
to `max_parts`, the parts go to the p cores that are ready first, sized to finish together
(`partition.balanced`: by speed, by when each core is free, by the per-part cost); a core
is ready after its previous task and after every predecessor part (plus SYNC when that part ran
on another core). The count whose last part finishes earliest wins (ties: fewer parts), so a
node is split when the cores would otherwise idle and kept whole when another branch can use
them. Tasks are appended (no insertion into gaps), so each core runs its tasks in start order,
which keeps the per-core programs deadlock-free (docs/multicore.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ariel_build.boards import Core
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.schedule.cost import SYNC, part_cost, speed
from ariel_build.schedule.partition import balanced, max_parts, runs_code, split_over
from ariel_build.schedule.split import Part, whole


@dataclass
class Task:
    id: int
    node: Node
    index: int  # which part of the node
    part: Part
    preds: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.node.name}#{self.index}"


@dataclass
class Schedule:
    tasks: list[Task]  # in a topological order
    core: list[int]  # per task
    start: list[float]
    finish: list[float]
    order: list[list[int]]  # per core: task ids in execution order

    @property
    def makespan(self) -> float:
        return max(self.finish, default=0.0)

    def busy(self, core: int) -> float:
        return sum(self.finish[t] - self.start[t] for t in self.order[core])


def node_dependencies(graph: Graph) -> dict[str, list[str]]:
    """For each node that runs code, the nodes (running code) producing its inputs, through views."""
    producer: dict[str, list[str]] = {}
    deps: dict[str, list[str]] = {}
    for node in graph.nodes:
        op = lookup(node.op)
        if op is not None and op.view:
            producer[node.outputs[0]] = producer.get(node.inputs[0], [])
            continue
        deps[node.name] = sorted({p for i in node.inputs if i for p in producer.get(i, [])})
        for o in node.outputs:
            if o:
                producer[o] = [node.name]
    return deps


def upward_ranks(graph: Graph, deps: dict[str, list[str]], cores: tuple[Core, ...]) -> dict[str, float]:
    succs: dict[str, list[str]] = {n: [] for n in deps}
    for n, ps in deps.items():
        for p in ps:
            succs[p].append(n)
    rank: dict[str, float] = {}
    for node in reversed([n for n in graph.nodes if runs_code(n)]):
        full = whole(node, graph)
        mean = sum(part_cost(full, c) for c in cores) / len(cores)
        rank[node.name] = mean + max((SYNC + rank[s] for s in succs[node.name]), default=0.0)
    return rank


def schedule(graph: Graph, cores: tuple[Core, ...]) -> Schedule:
    deps = node_dependencies(graph)
    rank = upward_ranks(graph, deps, cores)
    nodes = {n.name: n for n in graph.nodes if runs_code(n)}
    index = {name: k for k, name in enumerate(nodes)}
    tasks: list[Task] = []
    core: list[int] = []
    start: list[float] = []
    finish: list[float] = []
    free = [0.0] * len(cores)
    order: list[list[int]] = [[] for _ in cores]
    tasks_of: dict[str, list[int]] = {}
    for name in sorted(nodes, key=lambda n: (-rank[n], index[n])):
        node = nodes[name]
        preds = [t for p in deps[name] for t in tasks_of[p]]

        def ready(c: int, preds: list[int] = preds) -> float:
            return max([free[c], *(finish[p] + (SYNC if core[p] != c else 0.0) for p in preds)])

        dtype = graph.tensor(node.outputs[0]).dtype
        best: tuple[float, list[tuple[int, Part, float, float]]] | None = None
        for p in range(1, max_parts(node, graph, cores) + 1):
            if p == 1:
                full = whole(node, graph)
                c = min(range(len(cores)), key=lambda c: (ready(c) + part_cost(full, cores[c]), c))
                chosen = [c]
                weights = [1.0]
            else:
                by_ready = sorted(range(len(cores)), key=lambda c: (ready(c), -speed(cores[c], dtype), c))
                chosen = sorted(by_ready[:p], key=lambda c: (-speed(cores[c], dtype), c))
                split = balanced(node, graph, [cores[c] for c in chosen], [ready(c) for c in chosen])
                if split is None:
                    continue  # a core free this late would get nothing
                weights = split[1]
            parts = split_over(node, graph, weights)
            placed = [
                (c, part, ready(c), ready(c) + part_cost(part, cores[c]))
                for c, part in zip(chosen, parts, strict=True)
            ]
            end = max(f for _, _, _, f in placed)
            if best is None or end < best[0]:
                best = (end, placed)
        assert best is not None
        tasks_of[name] = []
        for k, (c, part, s, f) in enumerate(best[1]):
            task = Task(len(tasks), node, k, part, list(preds))
            tasks.append(task)
            core.append(c)
            start.append(s)
            finish.append(f)
            free[c] = f
            order[c].append(task.id)
            tasks_of[name].append(task.id)
    return Schedule(tasks, core, start, finish, order)
