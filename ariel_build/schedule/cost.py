"""Cost model of the scheduler, in *units*: about one instruction of a speed-1.0 core.

A part's cost on a core = (MACs x `mac` + bytes read and written x `byte` + `op`) / the core's
speed for the part's element type, with the `Costs` of that element type on that core type:
what the code is built with (board definition's target: `Core.fpu`, `Core.dsp`) decides them.
An f32 MAC is a few instructions with an FPU and a software multiply and add without one; an
int8 MAC is cheaper on the Arm DSP path (SXTB16 + SMLAD, two MACs each) than portably, and an
int8 call sets up per-channel requantization. A packed int8 convolution also gathers its input
columns, in full in every part of a channel split (`column`, per byte): that cost does not divide
(a pixel split divides it: each part gathers its own pixels' columns). The constants are
fitted to QEMU instruction counts of one-core runs (`python -m tests.bench.speedup`,
docs/speedup.md "Cost model fit"; docs/multicore.md says how to recalibrate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ariel_build.boards import Core
from ariel_build.ir import DType
from ariel_build.ops.base import lookup
from ariel_build.ops.conv import conv_shape
from ariel_build.ops.quantized.conv import PIXELS
from ariel_build.ops.quantized.packing import packed_weights
from ariel_build.schedule.split import Part, splits_pixels


@dataclass(frozen=True)
class Costs:
    mac: float  # per multiply-accumulate
    byte: float  # per byte read or written
    op: float  # per kernel call: call, parameters, loop set-up
    column: float = 0.0  # per input-column byte a packed int8 convolution gathers (`part_columns`)


# Fits of one-core QEMU runs (docs/speedup.md): f32 per call 56-182, per byte 0.13-0.34;
# int8 per call 980-1430, per byte 0.9-2.2.
F32_FPU = Costs(mac=3.0, byte=0.25, op=150.0)  # qemu-an386 (Cortex-M4F): 3.1 per MAC
F32_SOFT_FLOAT = Costs(mac=55.0, byte=0.25, op=150.0)  # qemu-an524, qemu-riscv32: 56-59 per MAC
# qemu-an386 (asm SMLAD and depthwise loops, 2026-11-26 fits): 0.87-0.89 per MAC, 0.52-0.55 per
# byte, 913-939 per call; column: as measured portably (the same byte gather).
INT8_DSP = Costs(mac=0.9, byte=0.55, op=940.0, column=16.0)
# qemu-an524, qemu-riscv32: 5.3-5.4 per MAC; a second part of a channel-split convolution
# costs 16 instructions per column byte more (qemu-an524, ResNet-8 int8).
INT8_PORTABLE = Costs(mac=5.3, byte=1.0, op=1200.0, column=16.0)
SYNC = 150.0  # per cross-core dependency: release store, cache line transfer, acquire spin


def costs(core: Core, dtype: DType) -> Costs:
    if is_int8(dtype):
        return INT8_DSP if core.dsp else INT8_PORTABLE
    return F32_FPU if core.fpu else F32_SOFT_FLOAT


def is_int8(dtype: DType) -> bool:
    return dtype in (DType.I8, DType.U8)


def part_traffic(part: Part) -> tuple[int, int]:
    """(MACs, bytes read and written) of `part` (inputs its kernel reads)."""
    op = lookup(part.node.op)
    g = part.graph
    macs = op.macs(part.node, g) if op is not None else 0
    read = set(op.runtime_inputs(part.node, g)) if op is not None else set(range(len(part.node.inputs)))
    moved = sum(
        (r[1] - r[0] if r is not None else g.tensor(name).size) * g.tensor(name).dtype.size
        for k, (name, r) in enumerate(zip(part.node.inputs, part.input_ranges, strict=True))
        if name and k in read
    )
    moved += sum(g.tensor(o).nbytes for o in part.node.outputs if o)
    return macs, moved


def part_dtype(part: Part) -> DType:
    return part.graph.tensor(part.node.outputs[0]).dtype


def part_columns(part: Part) -> int:
    """Bytes of input columns (output pixels x taps x input channels) a packed int8 convolution
    gathers: its own pixels' in a pixel split, all of them in every part of a channel split."""
    node, g = part.node, part.graph
    if node.op != "QConv" or packed_weights(node) is None:
        return 0
    s = conv_shape(node, g)
    lo, hi = node.attrs.get(PIXELS, (0, math.prod(s.out_shape[2:])))
    return (hi - lo) * s.c_in * s.win.taps


def part_work_split(part: Part, core: Core) -> tuple[float, float]:
    """(cost that divides among parts, cost every part pays in full) on a speed-1.0 core of
    `core`'s type."""
    macs, moved = part_traffic(part)
    c = costs(core, part_dtype(part))
    columns = part_columns(part) * c.column
    whole = all(r is None for r in part.input_ranges)
    if PIXELS in part.node.attrs or (whole and splits_pixels(part.node, part.graph)):
        return macs * c.mac + moved * c.byte + columns, c.op
    return macs * c.mac + moved * c.byte, c.op + columns


def part_work(part: Part, core: Core) -> float:
    """Cost of `part` on a core of `core`'s type at speed 1.0."""
    return sum(part_work_split(part, core))


def speed(core: Core, dtype: DType) -> float:
    return core.int8_speed if is_int8(dtype) else core.f32_speed


def part_cost(part: Part, core: Core) -> float:
    return part_work(part, core) / speed(core, part_dtype(part))
