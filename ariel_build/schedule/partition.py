"""How many parts a node may run in, and how big each part is.

`max_parts`: the node alone on the p fastest cores would take
  p = 1:  work / s1
  p > 1:  (work - OP) / (s1 + ... + sp) + OP / sp + SYNC x p   (sync to start and to join)
and p is capped where that stops falling, so an op too small to pay for the synchronisation
stays whole. The list scheduler picks the number of parts at or below the cap that finishes the
node earliest given what the cores are already doing. `split_over` sizes the parts in
proportion to the chosen cores' speeds (largest remainder; every part gets at least one unit).
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


def max_parts(node: Node, graph: Graph, cores: tuple[Core, ...]) -> int:
    rule = split_rule(node, graph) if len(cores) > 1 else None
    if rule is None or rule.units < 2:
        return 1
    dtype = graph.tensor(node.outputs[0]).dtype
    speeds = sorted((speed(c, dtype) for c in cores), reverse=True)
    work = part_work(whole(node, graph))
    best, best_time = 1, estimated_time(work, speeds[:1])
    for p in range(2, min(len(speeds), rule.units) + 1):
        t = estimated_time(work, speeds[:p])
        if t >= best_time:
            break
        best, best_time = p, t
    return best


def split_over(node: Node, graph: Graph, speeds: list[float]) -> list[Part]:
    """One part per core speed, sized by speed; one speed = the whole node."""
    rule = split_rule(node, graph)
    if len(speeds) == 1 or rule is None:
        return [whole(node, graph)]
    parts, lo = [], 0
    for n in shares(rule.units, speeds):
        parts.append(rule.part(lo, lo + n))
        lo += n
    return parts
