"""Writes one Rust module per model: typed `run`, constants, weights blob, one block per op."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from ariel_build import __version__
from ariel_build.codegen.async_entry import YIELD, entries
from ariel_build.codegen.names import NameTable, snake_case
from ariel_build.ir import Graph, Node
from ariel_build.ops.base import Operands, lookup
from ariel_build.plan.memory import Location, MemoryPlan
from ariel_build.schedule.emit import emit_multicore
from ariel_build.schedule.multicore import MulticorePlan


@dataclass
class GeneratedModule:
    module_name: str
    source: str
    weights: bytes
    weights_file: str


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


class _NodeEmitter:
    """Binds every operand of one node to a Rust variable, then asks the op for its kernel call."""

    def __init__(self, graph: Graph, plan: MemoryPlan, params: NameTable) -> None:
        self.graph = graph
        self.plan = plan
        self.params = params

    def read(self, name: str) -> str:
        """Expression for a read-only slice of a tensor that is not in the arena."""
        t = self.graph.tensor(name)
        loc = self.plan.locations[name]
        if loc.kind == "const":
            return f"k::cast::<{t.dtype.rust}>(&w[{loc.offset}..{loc.offset + loc.nbytes}])"
        return f"&{self.param(loc)}[..]"

    def param(self, loc: Location) -> str:
        """The `run` parameter holding an input or output location (views share their source's)."""
        if loc.kind == "input":
            return self.params(self.graph.inputs[loc.offset])
        name = self.graph.outputs[loc.offset]
        return self.params(name + " out") if name in self.graph.inputs else self.params(name)

    def block(self, node: Node, step: int) -> str:
        g, plan = self.graph, self.plan
        op = lookup(node.op)
        assert op is not None
        ins = [g.tensor(i) if i else None for i in node.inputs]
        outs = [g.tensor(o) for o in node.outputs if o]
        desc = ", ".join(f"{t.dtype.rust}{_shape(t.shape)}" for t in ins if t)
        odesc = ", ".join(f"{t.dtype.rust}{_shape(t.shape)}" for t in outs)
        lines = [f"// {step}: {node.op} '{node.name}' ({desc}) -> ({odesc})"]

        inplace = node.name in plan.inplace_nodes
        copy_view = op.view and plan.locations[node.outputs[0]] != plan.locations[node.inputs[0]]
        if op.view and not copy_view:
            return lines[0] + " — shares its input's buffer\n"

        arena_outs: list[tuple[str, Location]] = []
        arena_ins: list[tuple[str, Location]] = []
        bindings: list[str] = []
        out_vars: list[str] = []
        for k, t in enumerate(outs):
            loc = plan.locations[t.name]
            var = f"y{k}"
            if loc.kind == "arena":
                arena_outs.append((var, loc))
                bindings.append(f"let {var}: &mut [{t.dtype.rust}] = k::cast_mut({var});")
            else:
                bindings.append(f"let {var}: &mut [{t.dtype.rust}] = &mut {self.param(loc)}[..];")
            out_vars.append(var)
        scratch = plan.scratch.get(node.name)
        if scratch is not None:
            arena_outs.append(("scratch", scratch))
        in_vars: list[str | None] = []
        used = set(op.runtime_inputs(node, g))
        for k, t in enumerate(ins):
            if t is None or (inplace and k == 0) or k not in used:
                in_vars.append(None)
                continue
            loc = plan.locations[t.name]
            var = f"x{k}"
            if loc.kind == "arena":
                arena_ins.append((var, loc))
                bindings.append(f"let {var}: &[{t.dtype.rust}] = k::cast({var});")
            else:
                bindings.append(f"let {var}: &[{t.dtype.rust}] = {self.read(t.name)};")
            in_vars.append(var)

        if arena_outs or arena_ins:
            o_pat = ", ".join(v for v, _ in arena_outs)
            i_pat = ", ".join(v for v, _ in arena_ins)
            o_rng = ", ".join(f"({loc.offset}, {loc.nbytes})" for _, loc in arena_outs)
            i_rng = ", ".join(f"({loc.offset}, {loc.nbytes})" for _, loc in arena_ins)
            lines.append(f"let ([{o_pat}], [{i_pat}]) = k::views(&mut *a, [{o_rng}], [{i_rng}]);")
        lines.extend(bindings)
        if copy_view:
            lines.append("y0.copy_from_slice(x0);")
        elif inplace:
            lines.append(op.emit_inplace(node, g, Operands(in_vars, out_vars)))
        else:
            lines.append(op.emit(node, g, Operands(in_vars, out_vars, "scratch" if scratch else None)))
        return "{\n" + "\n".join(lines) + "\n}\n"


def generate_module(
    graph: Graph,
    plan: MemoryPlan,
    module_name: str,
    weights_include: str,
    op_marker: str | None = None,
    multicore: MulticorePlan | None = None,
) -> GeneratedModule:
    """`weights_include` is the Rust expression given to `include_bytes!` for the weights blob.
    With `multicore`, the module also gets the per-core functions (schedule/emit.py).

    `op_marker` (a Rust function path taking the core and a mark, both `usize`) is called with
    (0, `step + 1`) before each op and (0, 0) after the last, so an emulator can attribute
    instructions to ops (multicore marks: schedule/emit.py).
    """
    params = NameTable()
    for name in graph.inputs + graph.outputs:
        params(name)
    emitter = _NodeEmitter(graph, plan, params)

    def output_param(name: str) -> str:
        return params(name + " out") if name in graph.inputs else params(name)

    mod = snake_case(module_name)

    macs = sum(op.macs(n, graph) for n in graph.nodes if (op := lookup(n.op)) is not None)
    out: list[str] = [
        f"// @generated by ariel-build {__version__} from `{graph.source}`. Do not edit.\n",
        f"/// Model `{graph.name}`: {len(graph.nodes)} ops, {macs} MACs, "
        f"{plan.arena_bytes} arena bytes, {plan.weight_bytes} weight bytes.",
        f"#[allow(unused_variables, unused_mut, clippy::all)]\npub mod {mod} {{",
        "use ariel_kernels as k;\n",
        "/// Bytes of working memory one inference needs (pass an `Arena` to `run`).",
        f"pub const ARENA_BYTES: usize = {plan.arena_bytes};",
        "/// Bytes of weights in flash.",
        f"pub const WEIGHT_BYTES: usize = {plan.weight_bytes};",
        "/// Multiply-accumulates per inference.",
        f"pub const MACS: u64 = {macs};",
        "pub type Arena = k::Arena<ARENA_BYTES>;\n",
    ]
    for kind, names in (("input", graph.inputs), ("output", graph.outputs)):
        for name in dict.fromkeys(names):
            t = graph.tensor(name)
            ident = (params(name) if kind == "input" else output_param(name)).upper()
            out.append(f"/// {kind.capitalize()} `{name}`: {t.dtype.numpy_name} {_shape(t.shape)}.")
            out.append(f"pub const {ident}_SHAPE: [usize; {len(t.shape)}] = {_shape(t.shape)};")
            out.append(f"pub const {ident}_LEN: usize = {t.size};")
    blob = plan.weight_bytes
    out.append(
        f"\nstatic WEIGHTS: k::Aligned<[u8; {blob}]> = k::Aligned(*include_bytes!({weights_include}));\n"
    )

    args = ["arena: &mut Arena"]
    for name in dict.fromkeys(graph.inputs):
        t = graph.tensor(name)
        args.append(f"{params(name)}: &[{t.dtype.rust}; {t.size}]")
    for name in dict.fromkeys(graph.outputs):
        t = graph.tensor(name)
        args.append(f"{output_param(name)}: &mut [{t.dtype.rust}; {t.size}]")
    body: list[str] = ["let a = &mut arena.bytes[..];", "let w = &WEIGHTS.0[..];"]
    for step, node in enumerate(graph.nodes):
        if op_marker:
            body.append(f"{op_marker}(0, {step + 1});")
        body.append(emitter.block(node, step))
        body.append(YIELD)
    # Outputs that no op wrote in place: constants, graph inputs, views of intermediates.
    for k, name in enumerate(graph.outputs):
        loc = plan.locations[name]
        if loc.kind == "output" and loc.offset == k:
            continue
        src = (
            f"k::cast(&a[{loc.offset}..{loc.offset + loc.nbytes}])"
            if loc.kind == "arena"
            else emitter.read(name)
        )
        t = graph.tensor(name)
        body.append(f"{output_param(name)}.copy_from_slice({src} as &[{t.dtype.rust}]);")
    if op_marker:
        body.append(f"{op_marker}(0, 0);")
    out += entries(
        "run",
        ", ".join(args),
        body,
        ["Runs one inference. Deterministic; allocates nothing."],
        [
            "`run` for an async task: yields to the executor after each op, so other tasks on this",
            "core run meanwhile. Same results; allocates nothing.",
        ],
    )
    if multicore is not None:
        out.extend(emit_multicore(graph, multicore, params, output_param, op_marker))
    out.append("}\n")
    source = rustfmt("\n".join(out))
    return GeneratedModule(mod, source, plan.weights, f"{mod}.weights.bin")


def rustfmt(source: str) -> str:
    """Formats with rustfmt when it is installed; the code compiles either way."""
    exe = shutil.which("rustfmt")
    if exe is None:
        return source
    result = subprocess.run(
        [exe, "--edition", "2021", "--emit", "stdout"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else source
