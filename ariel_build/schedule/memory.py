"""Arena plan for a multicore program.

Liveness is in happens-before, not in time estimates: two buffers may share bytes only when
every access (write or read, by any part on any core) of one happens before every access of the
other, through program order on a core or a signal/wait chain. Buffers that some pair of
unordered parts touch are therefore disjoint, whatever the real timing.

Differences from the one-core plan: graph outputs live in the arena (parts on several cores
write them; core 0 copies them out after joining the others), every part has its own scratch,
and an elementwise op runs in place only when every other access of its input happens before
all of its parts, and each part writes exactly the range it reads.
"""

from __future__ import annotations

from ariel_build.ir import Graph
from ariel_build.ops.base import lookup
from ariel_build.plan.memory import Buffer, Location, MemoryPlan, _place
from ariel_build.schedule.program import END, Program


def plan_scheduled_memory(
    graph: Graph, base: MemoryPlan, program: Program
) -> tuple[MemoryPlan, dict[str, set[int]]]:
    """The plan, and per buffer the tasks accessing it (END: read after the run).

    `base` is the one-core plan, whose weights blob and constant locations are kept."""
    tasks = program.schedule.tasks
    loc: dict[str, Location] = {}
    for k, name in enumerate(graph.inputs):
        loc[name] = Location("input", k, graph.tensor(name).nbytes)
    for name, where in base.locations.items():
        if where.kind == "const" and name not in loc:
            loc[name] = where

    root: dict[str, str] = {}  # view output -> the tensor whose buffer it shares
    for node in graph.nodes:
        op = lookup(node.op)
        if op is not None and op.view:
            root[node.outputs[0]] = root.get(node.inputs[0], node.inputs[0])

    def owner(name: str) -> str:
        return root.get(name, name)

    buffers: dict[str, Buffer] = {}
    accesses: dict[str, set[int]] = {}
    scratch: dict[str, Location] = {}
    scratch_buffers: dict[str, Buffer] = {}
    for t in tasks:
        for i in t.node.inputs:
            if i and owner(i) in buffers:
                accesses[owner(i)].add(t.id)
        for o in t.node.outputs:
            if o and o not in loc and o not in root:
                if o not in buffers:
                    buffers[o] = Buffer(o, graph.tensor(o).nbytes, 0, 0)
                    accesses[o] = set()
                accesses[o].add(t.id)
        op = lookup(t.node.op)
        nbytes = op.scratch_bytes(t.part.node, t.part.graph) if op is not None else 0
        if nbytes:
            scratch_buffers[t.label] = Buffer(f"{t.label}/scratch", nbytes, 0, 0)
            accesses[f"{t.label}/scratch"] = {t.id}
    for o in graph.outputs:
        if owner(o) in buffers:
            accesses[owner(o)].add(END)

    by_node: dict[str, list[int]] = {}
    for t in tasks:
        by_node.setdefault(t.node.name, []).append(t.id)
    inplace: set[str] = set()
    for node in graph.nodes:
        op = lookup(node.op)
        if op is None or not op.inplace or not node.inputs or node.name not in by_node:
            continue
        src, out = owner(node.inputs[0]), node.outputs[0]
        parts = by_node[node.name]
        if (
            src in buffers
            and out in buffers
            and buffers[src].nbytes == buffers[out].nbytes
            and graph.tensor(node.inputs[0]).dtype == graph.tensor(out).dtype
            and sum(owner(i) == src for i in node.inputs if i) == 1
            and all(tasks[p].part.input_ranges[0] in (None, tasks[p].part.output_range) for p in parts)
            and all(program.happens_before(a, p) for a in accesses[src] - set(parts) for p in parts)
        ):
            accesses[src] |= accesses.pop(out)
            del buffers[out]
            root[out] = src
            inplace.add(node.name)
            for name, r in list(root.items()):
                if r == out:
                    root[name] = src

    def before(a: str, b: str) -> bool:
        return all(program.happens_before(x, y) for x in accesses[a] for y in accesses[b])

    persistent = {
        n.outputs[k] for n in graph.nodes if (op := lookup(n.op)) for k in op.persistent_outputs(n, graph)
    }

    def conflict(a: Buffer, b: Buffer) -> bool:
        if a.tensor in persistent or b.tensor in persistent:  # kept between runs: shares nothing
            return True
        return not (before(a.tensor, b.tensor) or before(b.tensor, a.tensor))

    all_buffers = list(buffers.values()) + list(scratch_buffers.values())
    arena_bytes = _place(all_buffers, conflict)
    for b in buffers.values():
        loc[b.tensor] = Location("arena", b.offset, b.nbytes)
    for view, src in root.items():
        base_loc = loc[src]
        loc[view] = Location(base_loc.kind, base_loc.offset, graph.tensor(view).nbytes)
    for label, b in scratch_buffers.items():
        scratch[label] = Location("arena", b.offset, b.nbytes)
    return MemoryPlan(arena_bytes, loc, all_buffers, inplace, scratch, base.weights), accesses
