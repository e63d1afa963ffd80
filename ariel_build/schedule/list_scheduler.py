"""HEFT-style list scheduling of parts onto cores.

Tasks (node parts) are taken by decreasing upward rank (mean cost + the longest rank of a
successor plus one SYNC), which respects dependencies, and each goes to the core where it
finishes earliest: after that core's previous task and after every predecessor, plus SYNC for a
predecessor on another core. Independent branches therefore land on different cores when that
finishes sooner. Tasks are appended (no insertion into gaps), so each core's order is its start
order, which makes the per-core programs deadlock-free (docs/multicore.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ariel_build.boards import Core
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.schedule.cost import SYNC, part_cost
from ariel_build.schedule.split import Part


@dataclass
class Task:
    id: int
    node: Node
    index: int  # which part of the node
    part: Part
    costs: list[float]  # per core
    preds: list[int] = field(default_factory=list)
    succs: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.node.name}#{self.index}"


@dataclass
class Schedule:
    tasks: list[Task]
    core: list[int]  # per task
    start: list[float]
    finish: list[float]
    order: list[list[int]]  # per core: task ids in execution order

    @property
    def makespan(self) -> float:
        return max(self.finish, default=0.0)

    def busy(self, core: int) -> float:
        return sum(self.finish[t] - self.start[t] for t in self.order[core])


def build_tasks(graph: Graph, parts: dict[str, list[Part]], cores: tuple[Core, ...]) -> list[Task]:
    """One task per part; a part depends on every part producing one of its node's inputs."""
    producers: dict[str, list[int]] = {}  # tensor -> tasks writing it (views: their source's)
    tasks: list[Task] = []
    for node in graph.nodes:
        op = lookup(node.op)
        if op is not None and op.view:
            producers[node.outputs[0]] = producers.get(node.inputs[0], [])
            continue
        preds = sorted({p for i in node.inputs if i for p in producers.get(i, [])})
        ids = []
        for index, part in enumerate(parts[node.name]):
            task = Task(len(tasks), node, index, part, [part_cost(part, c) for c in cores], list(preds))
            tasks.append(task)
            ids.append(task.id)
            for p in preds:
                tasks[p].succs.append(task.id)
        for o in node.outputs:
            if o:
                producers[o] = ids
    return tasks


def upward_ranks(tasks: list[Task]) -> list[float]:
    rank = [0.0] * len(tasks)
    for t in reversed(tasks):  # tasks are in topological order
        mean = sum(t.costs) / len(t.costs)
        rank[t.id] = mean + max((SYNC + rank[s] for s in t.succs), default=0.0)
    return rank


def schedule(tasks: list[Task], n_cores: int) -> Schedule:
    rank = upward_ranks(tasks)
    core, start, finish = [0] * len(tasks), [0.0] * len(tasks), [0.0] * len(tasks)
    free = [0.0] * n_cores
    order: list[list[int]] = [[] for _ in range(n_cores)]
    for t in sorted(tasks, key=lambda t: (-rank[t.id], t.id)):

        def ready(c: int, t: Task = t) -> float:
            return max([free[c], *(finish[p] + (SYNC if core[p] != c else 0.0) for p in t.preds)])

        best = min(range(n_cores), key=lambda c: (ready(c) + t.costs[c], c))
        core[t.id], start[t.id] = best, ready(best)
        finish[t.id] = start[t.id] + t.costs[best]
        free[best] = finish[t.id]
        order[best].append(t.id)
    return Schedule(tasks, core, start, finish, order)
