"""How many parts a node may run in, and how big each part is.

`max_parts`: the node alone on the p fastest cores (speeds s_i; on a speed-1.0 core of core i's
type its cost is div_i, which divides among parts, plus once_i, which every part pays: the call
and a packed int8 convolution's column gathering) would take
  p = 1:  (div_1 + once_1) / s1
  p > 1:  T + SYNC x p, T the time at which parts sized to finish together all finish (`balanced`;
          x_i = (s_i T - once_i) / div_i of the divisible work on core i, summing to 1)
and p is capped where that stops falling, so an op too small to pay for the synchronisation
stays whole. The list scheduler picks the number of parts at or below the cap that finishes the
node earliest given what the cores are already doing. `balanced` sizes the parts so that they
would finish together: in proportion to speed when the cores are free at the same time and the
per-part cost is small, less for a core that is free later or pays more per part; `split_over`
rounds those fractions to units (largest remainder; every part gets at least one unit).
"""

from __future__ import annotations

from ariel_build.boards import Core
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup
from ariel_build.schedule.cost import SYNC, part_cost, part_work_split, speed
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


def balanced(
    node: Node, graph: Graph, cores: list[Core], ready: list[float]
) -> tuple[float, list[float]] | None:
    """When the node's parts on `cores` (free at `ready`) would all finish together, and each
    core's fraction of the divisible work; None if some core would get none. Core i finishes at
    ready_i + (once_i + x_i div_i) / s_i (div, once: `part_work_split` of the whole node)."""
    full = whole(node, graph)
    dtype = graph.tensor(node.outputs[0]).dtype
    terms = [(speed(c, dtype), *part_work_split(full, c)) for c in cores]
    rate = sum(s / div for s, div, _ in terms)
    finish = (1 + sum((s * r + once) / div for (s, div, once), r in zip(terms, ready, strict=True))) / rate
    fractions = [(s * (finish - r) - once) / div for (s, div, once), r in zip(terms, ready, strict=True)]
    return (finish, fractions) if min(fractions) > 0 else None


def estimated_time(node: Node, graph: Graph, cores: list[Core]) -> float:
    """The node alone in one part per core, all free at 0, plus SYNC per core (one core: whole)."""
    if len(cores) == 1:
        return part_cost(whole(node, graph), cores[0])
    split = balanced(node, graph, cores, [0.0] * len(cores))
    return float("inf") if split is None else split[0] + SYNC * len(cores)


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


def split_over(node: Node, graph: Graph, weights: list[float]) -> list[Part]:
    """One part per weight, sized in proportion (largest remainder); one weight = the whole node."""
    rule = split_rule(node, graph)
    if len(weights) == 1 or rule is None:
        return [whole(node, graph)]
    parts, lo = [], 0
    for n in shares(rule.units, weights):
        parts.append(rule.part(lo, lo + n))
        lo += n
    return parts
