"""Cost model of the scheduler, in *units*: about one cycle of the fastest core (speed 1.0).

A part's cost on a core = (MACs x MAC + bytes read and written x BYTE + OP) / the core's speed
for the part's element type. The constants are first estimates for Cortex-M class cores (an f32
MAC with its loads is a few cycles; a kernel call with its set-up a few hundred); they are to be
calibrated from the QEMU runner's instruction counts.
"""

from __future__ import annotations

from ariel_build.boards import Core
from ariel_build.ir import DType
from ariel_build.ops.base import lookup
from ariel_build.schedule.split import Part

MAC = 2.0  # per multiply-accumulate (load, multiply-add)
BYTE = 0.25  # per byte moved (a word load or store per 4 bytes)
OP = 200.0  # per kernel call: call, parameters, loop set-up
SYNC = 150.0  # per cross-core dependency: release store, cache line transfer, acquire spin


def part_traffic(part: Part) -> tuple[int, int]:
    """(MACs, bytes read and written) of `part`."""
    op = lookup(part.node.op)
    macs = op.macs(part.node, part.graph) if op is not None else 0
    g = part.graph
    moved = sum(
        (r[1] - r[0] if r is not None else g.tensor(name).size) * g.tensor(name).dtype.size
        for name, r in zip(part.node.inputs, part.input_ranges, strict=True)
        if name
    )
    moved += sum(g.tensor(o).nbytes for o in part.node.outputs if o)
    return macs, moved


def part_work(part: Part) -> float:
    """Cost of `part` on a core of speed 1.0."""
    macs, moved = part_traffic(part)
    return macs * MAC + moved * BYTE + OP


def speed(core: Core, dtype: DType) -> float:
    return core.int8_speed if dtype in (DType.I8, DType.U8) else core.f32_speed


def part_cost(part: Part, core: Core) -> float:
    dtype = part.graph.tensor(part.node.outputs[0]).dtype
    return part_work(part) / speed(core, dtype)
