"""Model file → optimized IR → memory plan → Rust module: the whole build-time pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ariel_build.boards import Core
from ariel_build.codegen.rust_module import GeneratedModule, generate_module
from ariel_build.frontends import load_model
from ariel_build.ir import Graph
from ariel_build.ops.quantized.conv import ring_bytes
from ariel_build.ops.quantized.packing import RING_ATTR, choose_int8_weights, int8_table_bytes, plain_order
from ariel_build.passes import optimize
from ariel_build.plan.memory import MemoryPlan, plan_memory
from ariel_build.schedule.multicore import MulticorePlan, plan_multicore


@dataclass
class CompiledModel:
    graph: Graph
    plan: MemoryPlan
    multicore: MulticorePlan | None = None  # with more than one core


def compile_model(
    path: str | Path,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    cores: tuple[Core, ...] = (),
    flash: int | None = None,
    int8_weights: str = "auto",
) -> CompiledModel:
    """`cores`: the cores it runs on (their DSP extension chooses some int8 layouts); when more
    than one, also a static schedule and plan for them (docs/multicore.md).
    `flash`: bytes of flash for the weights (None: no limit), within which `int8_weights` "auto"
    widens int8 matrix-product weights (ops/quantized/packing.py)."""
    graph = optimize(load_model(path, input_shapes))
    plan = plan_memory(graph)
    room = None if flash is None else flash - plan.weight_bytes - int8_table_bytes(graph)
    if choose_int8_weights(graph, int8_weights, room):
        plan = plan_memory(graph)
    plan = drop_rings(graph, plan, any(core.dsp for core in cores))
    return CompiledModel(graph, plan, plan_multicore(graph, plan, cores) if len(cores) > 1 else None)


def drop_rings(graph: Graph, plan: MemoryPlan, smlad: bool) -> MemoryPlan:
    """Takes its ring of input rows (ops/quantized/conv.py `ring_bytes`; largest first) from each
    int8 convolution whose arena is smaller without: faster columns where they cost no RAM. On
    cores with SMLAD (`smlad`) such a layer packs its channel-last columns from the input planes,
    elsewhere it is repacked in the plain tap order. Returns the plan of the graph as left."""
    rings = [(ring_bytes(n, graph), i, n) for i, n in enumerate(graph.nodes) if n.op == "QConv"]
    for _, _, node in sorted((r for r in rings if r[0]), key=lambda r: (-r[0], r[1])):
        if smlad:
            node.attrs[RING_ATTR] = 0
        else:
            plain_order(node, graph)
        trial = plan_memory(graph)
        if trial.arena_bytes < plan.arena_bytes:
            plan = trial
        elif smlad:
            del node.attrs[RING_ATTR]
        else:
            plain_order(node, graph, plain=False)
    return plan


def emit_module(
    model: CompiledModel, module_name: str, weights_include: str | None = None, op_marker: str | None = None
) -> GeneratedModule:
    """`weights_include` defaults to the weights file beside the generated source in OUT_DIR;
    `op_marker`: see `generate_module`."""
    from ariel_build.codegen.names import snake_case

    mod = snake_case(module_name)
    include = weights_include or f'concat!(env!("OUT_DIR"), "/{mod}.weights.bin")'
    return generate_module(model.graph, model.plan, module_name, include, op_marker, model.multicore)
