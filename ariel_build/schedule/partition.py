"""Decides how many parts each node runs in, and how big each part is.

A node is split over the p fastest cores when that lowers its own estimated finish time:
  p = 1:  work / s1
  p > 1:  (work - OP) / (s1 + ... + sp) + OP / sp + SYNC x p   (sync to start and to join)
so an op too small to pay for the synchronisation stays whole. Shares follow the cores' speeds
(largest remainder; every part gets at least one unit of the split axis).
"""

from __future__ import annotations

from ariel_build.boards import Core
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.schedule.cost import OP, SYNC, part_work, speed
from ariel_build.schedule.split import Part, split_rule, whole


def shares(units: int, speeds: list[float]) -> list[int]:
    """`units` split proportionally to `speeds`, each share >= 1 (needs units >= len(speeds))."""
    total = sum(speeds)
    exact = [units * s / total for s in speeds]
    counts = [max(1, int(e)) for e in exact]
    by_remainder = sorted(range(len(speeds)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    k = 0
    while sum(counts) < units:
        counts[by_remainder[k % len(speeds)]] += 1
        k += 1
    while sum(counts) > units:
        i = max(range(len(counts)), key=lambda i: (counts[i] - exact[i], i))
        counts[i] -= 1
    return counts


def estimated_time(work: float, speeds: list[float]) -> float:
    if len(speeds) == 1:
        return work / speeds[0]
    return (work - OP) / sum(speeds) + OP / min(speeds) + SYNC * len(speeds)


def runs_code(node: Node) -> bool:
    """Views share their input's buffer and emit nothing."""
    op = lookup(node.op)
    return op is not None and not op.view


def split_node(node: Node, graph: Graph, cores: tuple[Core, ...]) -> list[Part]:
    rule = split_rule(node, graph) if len(cores) > 1 else None
    full = whole(node, graph)
    if rule is None or rule.units < 2:
        return [full]
    dtype = graph.tensor(node.outputs[0]).dtype
    speeds = sorted((speed(c, dtype) for c in cores), reverse=True)
    work = part_work(full)
    best = min(
        range(1, min(len(speeds), rule.units) + 1), key=lambda p: (estimated_time(work, speeds[:p]), p)
    )
    if best == 1:
        return [full]
    parts, lo = [], 0
    for n in shares(rule.units, speeds[:best]):
        parts.append(rule.part(lo, lo + n))
        lo += n
    return parts


def partition(graph: Graph, cores: tuple[Core, ...]) -> dict[str, list[Part]]:
    """Parts of every node that runs code, by node name, in graph order."""
    return {n.name: split_node(n, graph, cores) for n in graph.nodes if runs_code(n)}
