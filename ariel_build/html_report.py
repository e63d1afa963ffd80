"""`ariel-build report MODEL`: one self-contained HTML page per model.

The page holds the op table (shapes, MACs, params, cores, and QEMU instruction counts with
`--measure`), the arena over time (one box per buffer: op steps across, arena bytes up), the
multicore schedule as a Gantt chart, and flash/RAM use against the board's budget. Pictures are
inline SVG; nothing is loaded from elsewhere.
"""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ariel_build.boards import Board, load_board
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.report import summary
from ariel_build.runners.qemu_firmware import (
    CODE_ALLOWANCE,
    STACK_MARGIN,
    io_bytes,
    static_bytes,
    wide_weight_budget,
)
from ariel_build.schedule.multicore import board_cores
from ariel_build.tflm import tflm_arena

WIDTH, HEIGHT, MARGIN = 760, 280, 40

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #eee; width: 400px; height: 14px; display: inline-block; vertical-align: middle; }
.bar div { height: 14px; }
svg text { font-size: 10px; }
"""


def _colour(key: str) -> str:
    hue = int(hashlib.sha1(key.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue}, 55%, 62%)"


def _op_cores(model: CompiledModel) -> dict[str, list[int]]:
    """The cores each node runs on (all on core 0 without a multicore plan)."""
    if model.multicore is None:
        return {n.name: [0] for n in model.graph.nodes}
    s = model.multicore.program.schedule
    cores: dict[str, set[int]] = {}
    for task in s.tasks:
        cores.setdefault(task.node.name, set()).add(s.core[task.id])
    return {name: sorted(c) for name, c in cores.items()}


def arena_svg(model: CompiledModel) -> str:
    """Buffers of the one-core plan: x = op steps from the write to the last read, y = arena bytes."""
    plan, steps = model.plan, max(len(model.graph.nodes), 1)
    top = max(plan.arena_bytes, 1)
    sx, sy = (WIDTH - 2 * MARGIN) / steps, (HEIGHT - 2 * MARGIN) / top
    parts = [f'<svg id="arena" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">']
    for b in plan.buffers:
        x, w = MARGIN + b.first * sx, max((b.last - b.first + 1) * sx, 1.0)
        y, h = HEIGHT - MARGIN - (b.offset + b.nbytes) * sy, max(b.nbytes * sy, 0.5)
        parts.append(
            f'<rect class="buffer" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{_colour(b.tensor)}" stroke="#333" stroke-width="0.3" data-tensor="{escape(b.tensor)}" '
            f'data-first="{b.first}" data-last="{b.last}" data-offset="{b.offset}" data-bytes="{b.nbytes}">'
            f"<title>{escape(b.tensor)}: {b.nbytes:,} B at {b.offset:,}, ops {b.first}–{b.last}</title></rect>"
        )
    parts += [
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#000"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#000"/>',
        f'<text x="{MARGIN}" y="{HEIGHT - MARGIN + 14}">op 0</text>',
        f'<text x="{WIDTH - MARGIN - 40}" y="{HEIGHT - MARGIN + 14}">op {steps - 1}</text>',
        f'<text x="2" y="{MARGIN - 6}">{plan.arena_bytes:,} B</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def gantt_svg(model: CompiledModel) -> str:
    """The static schedule: one row per core, one bar per task (the scheduler's cost estimates)."""
    assert model.multicore is not None
    s = model.multicore.program.schedule
    cores = len(model.multicore.cores)
    row = 28
    height = 2 * MARGIN + cores * row
    scale = (WIDTH - 2 * MARGIN) / max(s.makespan, 1.0)
    parts = [f'<svg id="gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}">']
    for c in range(cores):
        parts.append(f'<text x="2" y="{MARGIN + c * row + 17}">core {c}</text>')
    for task in s.tasks:
        c = s.core[task.id]
        x, w = MARGIN + s.start[task.id] * scale, max((s.finish[task.id] - s.start[task.id]) * scale, 0.5)
        parts.append(
            f'<rect class="task" x="{x:.1f}" y="{MARGIN + c * row + 4}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{_colour(task.node.op)}" stroke="#333" stroke-width="0.3" data-core="{c}" '
            f'data-node="{escape(task.node.name)}"><title>{escape(task.label)} ({task.node.op}): '
            f"{s.start[task.id]:.0f}–{s.finish[task.id]:.0f}</title></rect>"
        )
    parts += [
        f'<text x="{WIDTH - MARGIN - 120}" y="{height - 8}">estimate {s.makespan:,.0f} units</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def budget(model: CompiledModel, board: Board, measured: dict[str, Any] | None) -> list[tuple[str, int, int]]:
    """(what, bytes used, bytes of the board) for flash and RAM; empty for boards without a memory map."""
    if board.flash is None or board.ram is None:
        return []
    memory = (measured or {}).get("memory")
    if memory:
        flash = ("flash (ELF: code, weights, data)", memory["flash_bytes"])
    else:
        flash = (f"flash (weights + ~{CODE_ALLOWANCE:,} B code)", model.plan.weight_bytes + CODE_ALLOWANCE)
    own_arena = model.plan.arena_bytes if model.multicore is None else 0  # a shared arena is a static
    ram = (
        f"RAM (arena + inputs/outputs + {STACK_MARGIN:,} B stack + statics)",
        own_arena + io_bytes(model) + STACK_MARGIN + static_bytes({"model": model}, board),
    )
    return [(*flash, board.flash.size), (*ram, board.ram.size)]


def _budget_html(rows: list[tuple[str, int, int]]) -> str:
    if not rows:
        return "<p>The board has no memory map (host).</p>"
    out = []
    for what, used, size in rows:
        share = used / size
        colour = "#c33" if share > 1 else "#4a4"
        out.append(
            f'<p class="budget" data-used="{used}" data-size="{size}">{escape(what)}: {used:,} of {size:,} B '
            f'({share:.1%}) <span class="bar"><div style="width:{min(share, 1) * 100:.1f}%;'
            f'background:{colour}"></div></span></p>'
        )
    return "\n".join(out)


def _op_table(report: dict[str, Any], cores: dict[str, list[int]]) -> str:
    measured = any("instructions" in r for r in report["ops"])
    head = ["#", "node", "op", "output shape", "MACs", "params", "cores"] + (
        ["instructions"] if measured else []
    )
    rows = ["<table id='ops'><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for k, r in enumerate(report["ops"]):
        cells = [
            f"<td class=n>{k}</td>",
            f"<td>{escape(r['name'])}</td>",
            f"<td>{escape(r['op'])}</td>",
            f"<td>{' '.join(str(tuple(s)) for s in r['outputs'])}</td>",
            f"<td class=n>{r['macs']:,}</td>",
            f"<td class=n>{r['params']:,}</td>",
            f"<td>{', '.join(map(str, cores.get(r['name'], [])))}</td>",
        ]
        if measured:
            cells.append(f"<td class=n>{r.get('instructions', 0):,}</td>")
        rows.append("<tr class='op'>" + "".join(cells) + "</tr>")
    return "\n".join(rows) + "</table>"


def render(model: CompiledModel, board: Board, report: dict[str, Any], measured: bool) -> str:
    cores = _op_cores(model)
    title = f"{Path(str(model.graph.source)).name} on {board.name}"
    schedule = (
        gantt_svg(model) if model.multicore is not None else "<p>One core: the ops run in table order.</p>"
    )
    totals = (
        f"MACs {report['macs']:,} · weights {report['weight_bytes']:,} B · arena {report['arena_bytes']:,} B"
        f" · {len(model.multicore.cores) if model.multicore else 1} core(s)"
    )
    if measured and report.get("per_core_instructions"):
        totals += f" · instructions per core {report['per_core_instructions']}"
    tflm = tflm_arena(Path(str(model.graph.source)))
    if tflm:
        totals += f" · TFLite Micro's arena for this model {tflm['total_bytes']:,} B"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>{escape(board.description)}</p>
<p>{totals}</p>
<h2>Memory against the board's budget</h2>
{_budget_html(budget(model, board, report if measured else None))}
<h2>Arena over time (one-core plan)</h2>
{arena_svg(model)}
<h2>Schedule</h2>
{schedule}
<h2>Ops</h2>
{_op_table(report, cores)}
</body></html>
"""


def write_report(
    model_path: str | Path,
    board_name: str,
    cores: int,
    out: Path,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    measure: bool = False,
) -> Path:
    """Writes the page to `out`; `measure` runs the model once on the (emulated) board, zeros in,
    for instruction counts and the ELF's flash use."""
    board = load_board(board_name)
    model = compile_model(
        model_path, input_shapes or {}, board_cores(board, cores), wide_weight_budget(board)
    )
    report = summary(model)
    if measure:
        from ariel_build.run import run_model

        g = model.graph
        zeros = [np.zeros(g.tensor(n).shape, g.tensor(n).dtype.numpy) for n in dict.fromkeys(g.inputs)]
        report = run_model(model_path, board_name, cores, zeros, input_shapes).report
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(model, board, report, measure))
    return out
