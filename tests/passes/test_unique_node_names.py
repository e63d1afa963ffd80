"""Nodes sharing a name (the TFLite importer made such, and our ONNX importer accepts them) stay
distinct: the scheduler keys nodes by name, so on several cores one of them used to be dropped.
onnxruntime refuses such a model, so the expectation is computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import helper

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from ariel_build.schedule.multicore import board_cores
from fixtures.model_case import graph_case


def test_same_named_branches_all_run_on_two_cores(tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal((1, 256)).astype(np.float32)
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="branch"),
        helper.make_node("Sigmoid", ["x"], ["b"], name="branch"),
        helper.make_node("Tanh", ["x"], ["c"], name="branch_2"),
        helper.make_node("Sum", ["a", "b", "c"], ["y"], name="branch"),
    ]
    path = graph_case("same_names", nodes, {"x": x}, {}, ["y"]).save(tmp_path)
    host = load_board("host")
    compiled = {f"c{n}": compile_model(path, cores=board_cores(host, n)) for n in (1, 2)}
    names = [n.name for n in compiled["c2"].graph.nodes]
    assert sorted(names) == ["branch", "branch_2", "branch_3", "branch_4"]
    scheduled = compiled["c2"].multicore
    assert scheduled is not None
    assert {t.node.name for t in scheduled.program.schedule.tasks} == set(names)

    harness = HostHarness(compiled, tmp_path / "harness")
    harness.build()
    want = np.maximum(x, 0) + 1 / (1 + np.exp(-x)) + np.tanh(x)
    (one,) = harness.run("c1", [x], timeout=60)
    (two,) = harness.run("c2", [x], timeout=60)
    np.testing.assert_allclose(one, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(two, one)
