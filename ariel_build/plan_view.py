"""`ariel-build plan MODEL --board B`: the static multicore schedule as a Gantt chart.

Times are the scheduler's estimates (docs/multicore.md, cost units). The terminal chart has one
row per core: a bar per task, coloured by op, `·` where the core waits for another core (the
list scheduler appends tasks, so a gap on a core is always a wait for a remote producer);
critical-path tasks are marked `^` under their bar and listed below. `--png` draws the same
chart with matplotlib (Agg backend: no display needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ariel_build.boards import Board, Core, load_board
from ariel_build.frontends import load_model
from ariel_build.passes import optimize
from ariel_build.schedule.cost import SYNC, part_cost
from ariel_build.schedule.list_scheduler import Schedule, schedule
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.partition import runs_code
from ariel_build.schedule.program import Program, Wait, build_program
from ariel_build.schedule.split import whole

EPS = 1e-6
LABEL_WIDTH = 8  # "core 12 "
# Background colours for op types in order of first use (rich and matplotlib names).
PALETTE = (
    ("steel_blue", "#4682b4"),
    ("dark_orange", "#ff8c00"),
    ("sea_green3", "#43cd80"),
    ("orchid", "#da70d6"),
    ("gold3", "#cdad00"),
    ("light_slate_blue", "#8470ff"),
    ("indian_red", "#cd5c5c"),
    ("cadet_blue", "#5f9ea0"),
    ("tan", "#d2b48c"),
    ("pale_green3", "#7ccd7c"),
)


@dataclass
class PlanView:
    model: str
    board: Board
    cores: tuple[Core, ...]
    program: Program
    one_core_estimate: float

    @property
    def schedule(self) -> Schedule:
        return self.program.schedule


def build_plan_view(
    model_path: str | Path,
    board_name: str,
    cores: int | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> PlanView:
    """`cores` None = every core of the board (the host: 2 threads)."""
    board = load_board(board_name)
    count = cores if cores is not None else (2 if board.runner.kind == "host" else len(board.cores))
    chosen = board_cores(board, count)
    graph = optimize(load_model(model_path, input_shapes or {}))
    program = build_program(schedule(graph, chosen))
    serial = sum(part_cost(whole(n, graph), chosen[0]) for n in graph.nodes if runs_code(n))
    return PlanView(Path(model_path).name, board, chosen, program, serial)


def critical_path(s: Schedule) -> list[int]:
    """Tasks from time 0 to the makespan, each starting when the previous one (its predecessor
    on the same core, or a producer plus SYNC on another) lets it; earliest-finishing end first."""
    if not s.tasks:
        return []
    position = {t: (c, i) for c, order in enumerate(s.order) for i, t in enumerate(order)}
    t = max(range(len(s.tasks)), key=lambda t: (s.finish[t], -t))
    path = [t]
    while s.start[t] > EPS:
        c, i = position[t]
        candidates = [s.order[c][i - 1]] if i > 0 else []
        candidates += s.tasks[t].preds
        bound = {p: s.finish[p] + (SYNC if s.core[p] != c else 0.0) for p in candidates}
        binding = [p for p in candidates if abs(bound[p] - s.start[t]) < EPS]
        if not binding:
            break
        t = min(binding, key=lambda p: (s.core[p] != c, p))  # prefer the same core
        path.append(t)
    return path[::-1]


def short_label(label: str) -> str:
    """The last two path segments of a task label (TFLite names are long paths), for bars."""
    return "/".join(label.split("/")[-2:])


def _op_colours(s: Schedule) -> dict[str, int]:
    colours: dict[str, int] = {}
    for order in s.order:
        for t in order:
            colours.setdefault(s.tasks[t].node.op, len(colours) % len(PALETTE))
    return colours


def _core_name(view: PlanView, c: int) -> str:
    core = view.cores[c]
    return f"core {c} ({core.arch}, f32 speed {core.f32_speed:g}, int8 speed {core.int8_speed:g})"


def render_terminal(view: PlanView, console: Console) -> None:
    s, program = view.schedule, view.program
    width = max(console.width - LABEL_WIDTH - 1, 20)
    scale = width / max(s.makespan, EPS)
    colours = _op_colours(s)
    critical = set(critical_path(s))
    console.print(
        f"[bold]{view.model}[/] on {view.board.name}, {len(view.cores)} core(s): estimate "
        f"{s.makespan:,.0f} units, one core {view.one_core_estimate:,.0f}, speed-up "
        f"{view.one_core_estimate / max(s.makespan, EPS):.2f}x",
        highlight=False,
    )
    for c in range(len(view.cores)):
        console.print(_core_name(view, c), highlight=False)
    for c, order in enumerate(s.order):
        cells, marks = [" "] * width, [" "] * width
        spans: list[tuple[int, int, int]] = []  # task, first column, end column
        prev_end = 0
        for t in order:
            lo = min(round(s.start[t] * scale), width - 1)
            hi = min(max(round(s.finish[t] * scale), lo + 1), width)
            for x in range(prev_end, lo):
                cells[x] = "·"  # waiting for another core
            label = short_label(s.tasks[t].label)[: hi - lo - 1]
            cells[lo:hi] = ["▏", *label.ljust(hi - lo - 1)]
            if t in critical:
                marks[lo:hi] = ["^"] * (hi - lo)
            spans.append((t, lo, hi))
            prev_end = hi
        bar = Text("".join(cells))
        for t, lo, hi in spans:
            style = f"black on {PALETTE[colours[s.tasks[t].node.op]][0]}"
            bar.stylize(style + (" bold" if t in critical else ""), lo, hi)
        waits = sum(isinstance(step, Wait) for step in program.steps[c])
        line = Text(f"core {c}".ljust(LABEL_WIDTH)) + bar
        console.print(line, no_wrap=True, crop=True)
        console.print(Text(" " * LABEL_WIDTH + "".join(marks), style="bold red"), no_wrap=True, crop=True)
        console.print(
            f"{'':{LABEL_WIDTH}}busy {s.busy(c):,.0f} units, {len(order)} task(s), {waits} wait(s)",
            highlight=False,
        )
    legend = Text("ops: ")
    for op, k in colours.items():
        legend += Text(f" {op} ", style=f"black on {PALETTE[k][0]}") + Text(" ")
    console.print(legend)
    console.print("· waiting for another core   ^ critical path   ▏ task start", highlight=False)
    path = critical_path(s)
    console.print(f"critical path ({len(path)} task(s), {s.makespan:,.0f} units):", highlight=False)
    console.print(
        " → ".join(f"{s.tasks[t].label} (core {s.core[t]})" for t in path), highlight=False, markup=False
    )


def write_png(view: PlanView, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    s = view.schedule
    colours = _op_colours(s)
    critical = set(critical_path(s))
    n = len(view.cores)
    fig, ax = plt.subplots(figsize=(12, 1.6 + 0.7 * n), dpi=100)
    for c, order in enumerate(s.order):
        y = n - 1 - c
        prev_end = 0.0
        for t in order:
            if s.start[t] - prev_end > EPS:
                ax.broken_barh(
                    [(prev_end, s.start[t] - prev_end)], (y - 0.3, 0.6), facecolors="#eeeeee", hatch="///"
                )
            on_path = t in critical
            ax.broken_barh(
                [(s.start[t], s.finish[t] - s.start[t])],
                (y - 0.3, 0.6),
                facecolors=PALETTE[colours[s.tasks[t].node.op]][1],
                edgecolors="#c00000" if on_path else "#333333",
                linewidth=2.0 if on_path else 0.4,
            )
            if s.finish[t] - s.start[t] > 0.06 * s.makespan:
                ax.text(
                    (s.start[t] + s.finish[t]) / 2,
                    y,
                    short_label(s.tasks[t].label),
                    ha="center",
                    va="center",
                    fontsize=6,
                )
            prev_end = s.finish[t]
    ax.set_yticks(range(n), [_core_name(view, c) for c in reversed(range(n))], fontsize=8)
    ax.set_xlim(0, max(s.makespan, EPS))
    ax.set_xlabel("estimated time (cost units, about cycles of a speed-1.0 core)")
    ax.set_title(
        f"{view.model} on {view.board.name}: {n} core(s), estimate {s.makespan:,.0f} units, "
        f"speed-up {view.one_core_estimate / max(s.makespan, EPS):.2f}x",
        fontsize=10,
    )
    handles = [Patch(facecolor=PALETTE[k][1], label=op) for op, k in colours.items()]
    handles += [
        Patch(facecolor="#eeeeee", hatch="///", label="waiting"),
        Patch(facecolor="white", edgecolor="#c00000", linewidth=2.0, label="critical path"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
