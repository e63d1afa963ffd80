"""List scheduler and per-core programs, against hand-derived expectations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from ariel_build.boards import Core
from ariel_build.frontends import load_model
from ariel_build.ir import Node
from ariel_build.passes import optimize
from ariel_build.schedule.cost import SYNC
from ariel_build.schedule.list_scheduler import Schedule, Task, schedule
from ariel_build.schedule.program import END, Run, Signal, Wait, build_program
from fixtures.models.inception import inception_case
from tests.schedule.conftest import conv_node, ir_graph

CORE = Core("test", 100, 1.0, 1.0)


def test_independent_branches_run_on_different_cores(tmp_path: Path) -> None:
    # Batch 2: the convolutions cannot be split, so the second goes to the idle core (it would
    # finish at 2c on core 0 and at c on core 1); the Concat (never split) joining them waits once.
    consts: dict[str, np.ndarray] = {}
    nodes = [
        conv_node("x", "a", 8, 8, 3, consts),
        conv_node("x", "b", 8, 8, 3, consts),
        helper.make_node("Concat", ["a", "b"], ["y"], name="y", axis=1),
    ]
    g = ir_graph(tmp_path, nodes, (2, 8, 8, 8), consts, ["y"])
    s = schedule(g, (CORE, CORE))
    by_name = {t.node.name: t.id for t in s.tasks}
    a, b = by_name["a"], by_name["b"]
    assert s.core[a] != s.core[b]
    assert s.start[a] == s.start[b] == 0.0
    program = build_program(s)
    assert (program.flags, program.waits) == (1, 1)


def test_inception_schedule_respects_dependencies_and_core_order(tmp_path: Path) -> None:
    path = inception_case().save(tmp_path)
    g = optimize(load_model(path))
    cores = (CORE, CORE, Core("slow", 50, 0.5, 0.5))
    s = schedule(g, cores)
    for t in s.tasks:
        for p in t.preds:
            gap = SYNC if s.core[p] != s.core[t.id] else 0.0
            assert s.start[t.id] >= s.finish[p] + gap - 1e-6, (t.label, s.tasks[p].label)
    for order in s.order:
        for prev, nxt in zip(order, order[1:], strict=False):
            assert s.finish[prev] <= s.start[nxt] + 1e-6
    split = [t for t in s.tasks if t.index > 0]
    assert split, "nothing was split"


def _schedule(
    cores: list[list[tuple[str, float, float]]], preds: dict[str, list[str]]
) -> tuple[Schedule, dict[str, int]]:
    """A schedule by hand: per core, (task, start, finish) in order."""
    flat = sorted(((s, c, name, f) for c, row in enumerate(cores) for name, s, f in row))
    ids = {name: k for k, (_, _, name, _) in enumerate(flat)}
    tasks = [
        Task(ids[name], Node("Relu", name, [], []), 0, None, [ids[p] for p in preds.get(name, [])])
        for _, _, name, _ in flat
    ]  # type: ignore[arg-type]
    core = [c for _, c, _, _ in flat]
    order = [[ids[name] for name, _, _ in row] for row in cores]
    return Schedule(tasks, core, [s for s, _, _, _ in flat], [f for _, _, _, f in flat], order), ids


def test_waits_only_for_remote_producers() -> None:
    # core 0: a, c; core 1: b. b reads a; c reads a and b. c needs no wait for a (same core).
    s, ids = _schedule([[("a", 0, 1), ("c", 3, 4)], [("b", 1.5, 2.5)]], {"b": ["a"], "c": ["a", "b"]})
    p = build_program(s)
    assert p.steps == [
        [Run(ids["a"]), Signal(0), Wait(1), Run(ids["c"])],
        [Wait(0), Run(ids["b"]), Signal(1)],
    ]


def test_knowledge_is_transitive() -> None:
    # d (core 2) reads a (core 0) and b (core 1); b waited for a, so waiting for b covers a.
    s, ids = _schedule([[("a", 0, 1)], [("b", 2, 3)], [("d", 4, 5)]], {"b": ["a"], "d": ["a", "b"]})
    p = build_program(s)
    assert p.steps[2] == [Wait(1), Run(ids["d"])]
    assert p.waits == 2
    assert p.happens_before(ids["a"], ids["d"])
    assert not p.happens_before(ids["d"], ids["a"])
    assert p.happens_before(ids["d"], END)


def test_later_wait_covers_earlier_tasks_of_that_core() -> None:
    # core 1 reads a1 and a2 of core 0: one wait, for a2.
    s, ids = _schedule([[("a1", 0, 1), ("a2", 1, 2)], [("b", 3, 4)]], {"b": ["a1", "a2"]})
    p = build_program(s)
    assert p.steps[1] == [Wait(0), Run(ids["b"])]
    assert p.steps[0] == [Run(ids["a1"]), Run(ids["a2"]), Signal(0)]


@pytest.mark.parametrize("n", [2, 3])
def test_concurrent_tasks_are_unordered(n: int) -> None:
    s, ids = _schedule([[("a", 0, 1)], [("b", 0, 1)]] + [[]] * (n - 2), {})
    p = build_program(s)
    assert not p.happens_before(ids["a"], ids["b"]) and not p.happens_before(ids["b"], ids["a"])
    assert p.waits == 0
