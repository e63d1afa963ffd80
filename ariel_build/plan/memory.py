"""Static memory plan: one arena for all intermediates, offsets reused by lifetime.

Placement is greedy by size (largest first, lowest offset that no time-overlapping buffer uses),
the strategy of TFLite Micro's GreedyMemoryPlanner, plus in-place reuse for elementwise ops and
zero-copy views (Reshape, Flatten, ...). Weights go into one aligned blob in flash. Persistent
outputs (op state kept between runs) live for the whole run, so no other buffer shares them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ariel_build.ir import Graph
from ariel_build.ops.base import lookup

ALIGN = 16


def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class Location:
    kind: str  # "arena" | "input" | "output" | "const"
    offset: int  # byte offset (arena, const) or position (input, output)
    nbytes: int


@dataclass
class Buffer:
    tensor: str
    nbytes: int
    first: int  # index of the step that writes it
    last: int  # index of the last step that reads it
    offset: int = -1


@dataclass
class MemoryPlan:
    arena_bytes: int
    locations: dict[str, Location]
    buffers: list[Buffer]
    inplace_nodes: set[str]
    scratch: dict[str, Location]  # node name -> its scratch area in the arena
    weights: bytes

    @property
    def weight_bytes(self) -> int:
        return len(self.weights)


def _overlap_in_time(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def _place(buffers: list[Buffer], conflict: Callable[[Buffer, Buffer], bool] = _overlap_in_time) -> int:
    """Greedy by size: each buffer at the lowest aligned offset no conflicting buffer uses."""
    placed: list[Buffer] = []
    for b in sorted(buffers, key=lambda b: (-b.nbytes, b.first, b.tensor)):
        overlapping = sorted((p for p in placed if conflict(p, b)), key=lambda p: p.offset)
        offset = 0
        for p in overlapping:
            if offset + b.nbytes <= p.offset:
                break
            offset = max(offset, align(p.offset + p.nbytes))
        b.offset = offset
        placed.append(b)
    return max((align(b.offset + b.nbytes) for b in placed), default=0)


def plan_memory(graph: Graph) -> MemoryPlan:
    loc: dict[str, Location] = {}
    for k, name in enumerate(graph.inputs):
        loc[name] = Location("input", k, graph.tensor(name).nbytes)
    for k, name in enumerate(graph.outputs):
        if name not in loc and graph.tensor(name).data is None:  # constant outputs are copied from weights
            loc[name] = Location("output", k, graph.tensor(name).nbytes)

    weights = bytearray()
    runtime_reads = set(graph.outputs)
    for n in graph.nodes:
        op = lookup(n.op)
        used = op.runtime_inputs(n, graph) if op else range(len(n.inputs))
        runtime_reads.update(n.inputs[k] for k in used if k < len(n.inputs) and n.inputs[k])
    for name, t in graph.tensors.items():
        if t.data is not None and name in runtime_reads and name not in loc:
            weights.extend(b"\0" * (align(len(weights)) - len(weights)))
            loc[name] = Location("const", len(weights), t.nbytes)
            weights.extend(
                np.asarray(t.data, dtype=t.dtype.numpy, order="C")
                .astype(t.dtype.numpy.newbyteorder("<"))
                .tobytes()
            )

    root: dict[str, str] = {}  # view output -> the tensor whose buffer it shares
    for node in graph.nodes:
        op = lookup(node.op)
        out = node.outputs[0]
        if op is not None and op.view and out not in loc:
            src = node.inputs[0]
            root[out] = root.get(src, src)

    def owner(name: str) -> str:
        return root.get(name, name)

    buffers: dict[str, Buffer] = {}
    inplace: set[str] = set()
    scratch_buffers: dict[str, Buffer] = {}
    for step, node in enumerate(graph.nodes):
        op = lookup(node.op)
        for i in node.inputs:
            if i and owner(i) in buffers:
                buffers[owner(i)].last = max(buffers[owner(i)].last, step)
        persistent = {node.outputs[k] for k in op.persistent_outputs(node, graph)} if op else set()
        for o in node.outputs:
            if o and o not in loc and o not in root:
                lifetime = (0, len(graph.nodes)) if o in persistent else (step, step)
                buffers[o] = Buffer(o, graph.tensor(o).nbytes, *lifetime)
        if op is not None and op.scratch_bytes(node, graph):
            scratch_buffers[node.name] = Buffer(
                f"{node.name}/scratch", op.scratch_bytes(node, graph), step, step
            )
    for o in graph.outputs:
        if owner(o) in buffers:  # an output read from the arena (a view of an intermediate)
            buffers[owner(o)].last = len(graph.nodes)

    # In-place: the output takes over input 0's buffer when that buffer dies at this step.
    for step, node in enumerate(graph.nodes):
        op = lookup(node.op)
        if op is None or not op.inplace or not node.inputs:
            continue
        src, out = owner(node.inputs[0]), node.outputs[0]
        if (
            src in buffers
            and out in buffers
            and buffers[src].last == step
            and buffers[src].nbytes == buffers[out].nbytes
            and graph.tensor(node.inputs[0]).dtype == graph.tensor(out).dtype
            and sum(owner(i) == src for i in node.inputs if i) == 1
        ):
            buffers[src].last = buffers[out].last
            del buffers[out]
            root[out] = src
            inplace.add(node.name)
            for name, r in list(root.items()):
                if r == out:
                    root[name] = src

    all_buffers = list(buffers.values()) + list(scratch_buffers.values())
    arena_bytes = _place(all_buffers)
    for b in buffers.values():
        loc[b.tensor] = Location("arena", b.offset, b.nbytes)
    for view, src in root.items():
        base = loc[src]
        loc[view] = Location(base.kind, base.offset, graph.tensor(view).nbytes)
    scratch = {n: Location("arena", b.offset, b.nbytes) for n, b in scratch_buffers.items()}
    return MemoryPlan(arena_bytes, loc, all_buffers, inplace, scratch, bytes(weights))
