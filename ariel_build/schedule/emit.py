"""Rust for a multicore plan: one function per core, added to the model's module.

Core 0 (`run_main`) begins the run, runs its steps, joins the other cores and copies the outputs
out of the shared arena; cores 1.. (`run_worker`) begin, run their steps and finish. A step is
one part: views of its arena ranges (`cx.views`), constant and input slices, the op's kernel.

With an `op_marker` (as in `generate_module`, called with the core and a mark) each core marks
task `t` as `t + 1` before running it, `usize::MAX` before each wait (and before a worker waits
for the run to start, and core 0 for the others to finish), `tasks + 1` before core 0 copies
the outputs, and 0 when it is done.
"""

from __future__ import annotations

from collections.abc import Callable

from ariel_build.codegen.async_entry import YIELD, blocking_body, entries
from ariel_build.codegen.names import NameTable
from ariel_build.ir import Graph
from ariel_build.ops.base import Operands, lookup
from ariel_build.plan.memory import Location
from ariel_build.schedule.list_scheduler import Task
from ariel_build.schedule.multicore import MulticorePlan
from ariel_build.schedule.program import Run, Signal, Wait


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


class _StepEmitter:
    def __init__(self, graph: Graph, mc: MulticorePlan, params: NameTable) -> None:
        self.graph = graph
        self.plan = mc.plan
        self.params = params

    def step(self, task: Task) -> str:
        part, plan = task.part, self.plan
        node, g = part.node, part.graph
        op = lookup(node.op)
        assert op is not None
        inplace = node.name in plan.inplace_nodes
        outs_desc = ", ".join(
            f"{g.tensor(o).dtype.rust}{_shape(g.tensor(o).shape)}" for o in node.outputs if o
        )
        lines = [f"// {task.label}: {node.op} '{node.name}' -> ({outs_desc})"]
        arena_outs: list[tuple[str, int, int]] = []
        arena_ins: list[tuple[str, int, int]] = []
        bindings: list[str] = []
        out_vars: list[str] = []
        rows = ""  # `(offset, len, stride, count)` in bytes of output 0's rows (`Part.output_rows`)
        for k, name in enumerate(o for o in node.outputs if o):
            t = self.graph.tensor(name)
            lo, hi = part.output_range if k == 0 else (0, t.size)
            loc = plan.locations[name]
            var = f"y{k}"
            out_vars.append(var)
            size = t.dtype.size
            if k == 0 and part.output_rows is not None:
                stride, count = part.output_rows
                rows = f"({loc.offset + lo * size}, {(hi - lo) * size}, {stride * size}, {count})"
                continue
            arena_outs.append((var, loc.offset + lo * size, (hi - lo) * size))
            bindings.append(f"let {var}: &mut [{t.dtype.rust}] = k::cast_mut({var});")
        scratch = plan.scratch.get(task.label)
        if scratch is not None:
            arena_outs.append(("scratch", scratch.offset, scratch.nbytes))
        in_vars: list[str | None] = []
        used = set(op.runtime_inputs(node, g))
        for k, name in enumerate(node.inputs):
            if not name or (inplace and k == 0) or k not in used:
                in_vars.append(None)
                continue
            t = self.graph.tensor(name)
            lo, hi = part.input_ranges[k] or (0, t.size)
            var = f"x{k}"
            bindings.append(
                f"let {var}: &[{t.dtype.rust}] = {self.read(name, plan.locations[name], lo, hi, arena_ins, var)};"
            )
            in_vars.append(var)
        o_pat = ", ".join(v for v, _, _ in arena_outs)
        i_pat = ", ".join(v for v, _, _ in arena_ins)
        o_rng = ", ".join(f"({o}, {n})" for _, o, n in arena_outs)
        i_rng = ", ".join(f"({o}, {n})" for _, o, n in arena_ins)
        if rows:
            lines.append(
                f"let (y0, [{o_pat}], [{i_pat}]) = cx.views_with_rows({rows}, [{o_rng}], [{i_rng}]);"
            )
        elif arena_outs or arena_ins:
            lines.append(f"let ([{o_pat}], [{i_pat}]) = cx.views([{o_rng}], [{i_rng}]);")
        lines.extend(bindings)
        if inplace:
            lines.append(op.emit_inplace(node, g, Operands(in_vars, out_vars)))
        else:
            lines.append(op.emit(node, g, Operands(in_vars, out_vars, "scratch" if scratch else None)))
        return "{\n" + "\n".join(lines) + "\n}"

    def read(
        self, name: str, loc: Location, lo: int, hi: int, arena_ins: list[tuple[str, int, int]], var: str
    ) -> str:
        """Expression of elements [lo, hi) of a tensor as `&[T]`."""
        t = self.graph.tensor(name)
        size = t.dtype.size
        if loc.kind == "arena":
            arena_ins.append((var, loc.offset + lo * size, (hi - lo) * size))
            return f"k::cast({var})"
        if loc.kind == "const":
            return f"k::cast::<{t.dtype.rust}>(&w[{loc.offset + lo * size}..{loc.offset + hi * size}])"
        return f"&{self.params(self.graph.inputs[loc.offset])}[{lo}..{hi}]"  # also views of an input


def emit_multicore(
    graph: Graph,
    mc: MulticorePlan,
    params: NameTable,
    output_param: Callable[[str], str],
    op_marker: str | None = None,
) -> list[str]:
    """Constants, the `Shared` type, `run_main` and `run_worker` (lines of the model's module)."""
    emitter = _StepEmitter(graph, mc, params)
    program, plan = mc.program, mc.plan
    tasks = program.schedule.tasks
    in_args = [
        f"{params(n)}: &[{graph.tensor(n).dtype.rust}; {graph.tensor(n).size}]"
        for n in dict.fromkeys(graph.inputs)
    ]
    in_names = [params(n) for n in dict.fromkeys(graph.inputs)]
    out_args = [
        f"{output_param(n)}: &mut [{graph.tensor(n).dtype.rust}; {graph.tensor(n).size}]"
        for n in dict.fromkeys(graph.outputs)
    ]
    out = [
        "/// Cores the multicore functions use (`run_main` on core 0, `run_worker` on the others).",
        f"pub const CORES: usize = {program.cores};",
        "/// Bytes of the arena inside `Shared`.",
        f"pub const SHARED_ARENA_BYTES: usize = {plan.arena_bytes};",
        "/// Flags the cores synchronise with.",
        f"pub const FLAGS: usize = {program.flags};",
        "/// Arena and flags shared by the cores of one multicore run (a `static` on a board).",
        "pub type Shared = k::sync::Shared<SHARED_ARENA_BYTES, CORES, FLAGS>;\n",
    ]

    def mark(core: int, value: int | str) -> list[str]:
        return [f"{op_marker}({core}, {value});"] if op_marker else []

    def body(core: int) -> list[str]:
        lines = mark(core, "usize::MAX") if core else []
        lines += [f"let mut cx = shared.begin({core});", "let w = &WEIGHTS.0[..];"]
        for step in program.steps[core]:
            if isinstance(step, Run):
                lines += mark(core, step.task + 1)
                lines.append(emitter.step(tasks[step.task]))
                lines.append(YIELD)
            elif isinstance(step, Wait):
                lines += mark(core, "usize::MAX")
                lines.append(f"cx.wait({step.flag});")
            elif isinstance(step, Signal):
                lines.append(f"cx.signal({step.flag});")
        return lines

    main = body(0)
    main += mark(0, "usize::MAX")
    main.append("cx.join();")
    main += mark(0, len(tasks) + 1)
    for name in dict.fromkeys(graph.outputs):
        loc, t = plan.locations[name], graph.tensor(name)
        dst = output_param(name)
        if loc.kind == "arena":
            main.append(f"{{ let ([], [src]) = cx.views([], [({loc.offset}, {loc.nbytes})]);")
            main.append(f"{dst}.copy_from_slice(k::cast::<{t.dtype.rust}>(src)); }}")
        elif loc.kind == "const":
            main.append(
                f"{dst}.copy_from_slice(k::cast::<{t.dtype.rust}>(&w[{loc.offset}..{loc.offset + loc.nbytes}]));"
            )
        else:
            main.append(f"{dst}.copy_from_slice(&{params(graph.inputs[loc.offset])}[..]);")
    main.append("cx.finish();")
    main += mark(0, 0)
    main_args = ", ".join(["shared: &Shared", *in_args, *out_args])
    out += entries(
        "run_main",
        main_args,
        main,
        [
            "Core 0's part of one inference: starts the run, waits for the other cores (each in",
            "`run_worker`), writes the outputs. Bit-identical to `run`; allocates nothing.",
        ],
        [
            "`run_main` for an async task: yields to the executor after each of core 0's steps, so",
            "other tasks on core 0 run meanwhile (its waits for the other cores still spin).",
        ],
    )
    args = ", ".join(["shared", *in_names])
    out.append("/// Core `core`'s part (1 <= core < CORES) of the run `run_main` starts on core 0.")
    out.append(f"pub fn run_worker({', '.join(['core: usize', 'shared: &Shared', *in_args])}) {{")
    out.append("match core {")
    out.extend(f"{c} => core_{c}({args})," for c in range(1, program.cores))
    out.append("_ => {}\n}\n}\n")
    for c in range(1, program.cores):
        out.append(f"fn core_{c}({', '.join(['shared: &Shared', *in_args])}) {{")
        out.extend(blocking_body(body(c)))
        out.append("cx.finish();")
        out += mark(c, 0)
        out.append("}\n")
    return out
