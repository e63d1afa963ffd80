"""How many parts a node may run in, and how big each part is.

`max_parts`: the node alone on the p fastest cores (speeds s_i; on a speed-1.0 core of core i's
type its cost is div_i, which divides among parts, plus once_i, which every part pays: the call
and a packed int8 convolution's column gathering) would take
  p = 1:  (div_1 + once_1) / s1
  p > 1:  max_i (div_i / (s1 + ... + sp) + once_i / s_i) + SYNC x p   (sync to start and join)
and p is capped where that stops falling, so an op too small to pay for the synchronisation
stays whole. The list scheduler picks the number of parts at or below the cap that finishes the
node earliest given what the cores are already doing. `split_over` sizes the parts in
proportion to the chosen cores' speeds (largest remainder; every part gets at least one unit).
"""

from __future__ import annotations

from ariel_build.boards import Core
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.schedule.cost import SYNC, part_work, part_work_split, speed
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


def estimated_time(node: Node, graph: Graph, cores: list[Core]) -> float:
    """The node alone in one part per core, sized by speed (one core: whole)."""
    full = whole(node, graph)
    dtype = graph.tensor(node.outputs[0]).dtype
    speeds = [speed(c, dtype) for c in cores]
    if len(cores) == 1:
        return part_work(full, cores[0]) / speeds[0]
    total = sum(speeds)
    slowest = 0.0
    for c, s in zip(cores, speeds, strict=True):
        divisible, every_part = part_work_split(full, c)
        slowest = max(slowest, divisible / total + every_part / s)
    return slowest + SYNC * len(cores)


def runs_code(node: Node) -> bool:
    """Views share their input's buffer and emit nothing."""
    op = lookup(node.op)
    return op is not None and not op.view


def max_parts(node: Node, graph: Graph, cores: tuple[Core, ...]) -> int:
    rule = split_rule(node, graph) if len(cores) > 1 else None
    if rule is None or rule.units < 2:
        return 1
    dtype = graph.tensor(node.outputs[0]).dtype
    fastest = sorted(cores, key=lambda c: -speed(c, dtype))
    best, best_time = 1, estimated_time(node, graph, fastest[:1])
    for p in range(2, min(len(cores), rule.units) + 1):
        t = estimated_time(node, graph, fastest[:p])
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
