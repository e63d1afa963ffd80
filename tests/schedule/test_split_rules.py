"""Every split rule run for real: each model is scheduled with every node that has a rule split
into equal parts on all cores (whatever the cost model would choose, so small ops split too),
and on 2 and 4 host threads its outputs are bit-identical to the one-core `run`.

Covers the rules the QEMU figures do not exercise on their own: softmax and LayerNorm rows,
batched MatMul, binary ops broadcasting along leading dimensions, int8 LeakyRelu and softmax,
ONNX ConvInteger and MatMulInteger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import HostHarness
from ariel_build.schedule.list_scheduler import Schedule, Task, node_dependencies
from ariel_build.schedule.memory import plan_scheduled_memory
from ariel_build.schedule.multicore import MulticorePlan
from ariel_build.schedule.partition import runs_code, split_over
from ariel_build.schedule.program import build_program
from ariel_build.schedule.split import split_rule
from fixtures.ops import binary, layernorm, matmul, softmax
from tests.int8 import cases as int8_cases
from tests.int8.test_onnx_integer import CASES as INTEGER_CASES

CORES = (2, 4)
ONNX_CASES = [
    *(c for c in softmax.cases() if c.name in ("softmax_2d_v13", "softmax_axis1_v13", "softmax_default_v11")),
    *(c for c in softmax.cases() if c.name in ("logsoftmax_v13", "logsoftmax_v11")),
    *(
        c
        for c in layernorm.cases()
        if c.name in ("last_axis", "two_axes", "scale_broadcast", "runtime_scale")
    ),
    *(c for c in matmul.cases() if c.name in ("batched_same", "attention_scores")),
    *(c for c in binary.cases() if c.name in ("div_row_const", "add_same", "mul_scalar_lhs")),
    *(c for c in INTEGER_CASES if c.name not in ("conv_u8_1d_no_zero_points", "conv_u8_i8_stride2")),
]
INT8_CASES = [
    c for c in int8_cases.cases() if c.name.startswith(("leaky_relu", "softmax_rows"))
]  # fmt: skip


def forced(model: CompiledModel, cores: int) -> CompiledModel:
    """`model` with every node that has a rule in equal parts on `cores` cores (fewer when it has
    fewer units), node after node; other nodes whole on core 0."""
    graph = model.graph
    core = load_board("host").cores[0]
    deps = node_dependencies(graph)
    tasks: list[Task] = []
    placed: list[int] = []
    start: list[float] = []
    order: list[list[int]] = [[] for _ in range(cores)]
    tasks_of: dict[str, list[int]] = {}
    nodes = {n.name: n for n in graph.nodes if runs_code(n)}
    topological: list[str] = []
    while len(topological) < len(nodes):
        topological += [n for n in nodes if n not in topological and set(deps[n]) <= set(topological)]
    for step, name in enumerate(topological):
        node = nodes[name]
        rule = split_rule(node, graph)
        parts = min(cores, rule.units) if rule is not None else 1
        preds = [t for p in deps[node.name] for t in tasks_of[p]]
        tasks_of[node.name] = []
        for k, part in enumerate(split_over(node, graph, [1.0] * parts)):
            tasks_of[node.name].append(len(tasks))
            order[k].append(len(tasks))
            placed.append(k)
            tasks.append(Task(len(tasks), node, k, part, list(preds)))
            start.append(float(step))
    program = build_program(Schedule(tasks, placed, start, [s + 0.5 for s in start], order))
    plan, accesses = plan_scheduled_memory(graph, model.plan, program)
    return CompiledModel(graph, model.plan, MulticorePlan((core,) * cores, program, plan, accesses, 0.0))


class Batch:
    def __init__(self, workdir: Path) -> None:
        paths = {c.name: c.save(workdir / "models") for c in ONNX_CASES}
        paths |= {c.name: c.model.save(workdir / "models" / f"{c.name}.tflite") for c in INT8_CASES}
        self.inputs = {c.name: c.inputs for c in ONNX_CASES}
        rng = np.random.default_rng(5)
        self.models: dict[str, CompiledModel] = {}
        for name, path in paths.items():
            one = compile_model(path)
            self.models[f"{name}_c1"] = one
            for n in CORES:
                self.models[f"{name}_c{n}"] = forced(one, n)
            if name not in self.inputs:
                g = one.graph
                self.inputs[name] = [
                    rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs
                ]
        self.harness = HostHarness(self.models, workdir / "harness")
        self.harness.build()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return Batch(tmp_path_factory.mktemp("split-rules"))


@pytest.mark.cargo
@pytest.mark.parametrize("name", [c.name for c in ONNX_CASES] + [c.name for c in INT8_CASES])
def test_every_part_split_equals_one_core(batch: Batch, name: str) -> None:
    one = batch.harness.run(f"{name}_c1", batch.inputs[name], timeout=60)
    for n in CORES:
        mc = batch.models[f"{name}_c{n}"].multicore
        assert mc is not None
        split = {t.node.op for t in mc.program.schedule.tasks if t.index > 0}
        assert split, f"{name}: nothing split on {n} cores"
        for got, ref in zip(
            batch.harness.run(f"{name}_c{n}", batch.inputs[name], timeout=60), one, strict=True
        ):
            np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {n} cores")


def test_int8_and_integer_ops_have_split_rules(batch: Batch) -> None:
    ops = {
        t.node.op
        for name, m in batch.models.items()
        if m.multicore is not None
        for t in m.multicore.program.schedule.tasks
        if t.index > 0
    }
    assert {"QLeakyRelu", "QSoftmax", "ConvInteger", "MatMulInteger", "Softmax", "LogSoftmax"} <= ops
    assert {"LayerNormalization", "MatMul", "Div", "Add", "Mul"} <= ops
