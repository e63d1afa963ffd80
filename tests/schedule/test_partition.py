"""Split decisions and part sizes, against hand-derived expectations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import helper

from ariel_build.boards import Core
from ariel_build.schedule.list_scheduler import schedule
from ariel_build.schedule.partition import max_parts, shares, split_over
from tests.schedule.conftest import conv_node, ir_graph

FAST, SLOW = Core("test", 100, 1.0, 1.0), Core("test", 50, 0.5, 0.5)


def test_shares_follow_speeds() -> None:
    assert shares(32, [1.0, 0.5]) == [21, 11]  # 21.33 and 10.67: the larger remainder gets the unit
    assert shares(10, [1.0, 1.0, 1.0]) == [4, 3, 3]
    assert shares(3, [1.0, 0.01]) == [2, 1]  # every part gets at least one unit
    assert shares(7, [1.0]) == [7]


def test_tiny_op_is_not_split(tmp_path: Path) -> None:
    # Relu of 4 floats (test cores: an FPU): 4 x MAC 3 + 32 bytes x 0.25 + call 150 = 170 units
    # whole; in two parts at least call 150 + 2 x SYNC 150 = 450.
    relu = helper.make_node("Relu", ["x"], ["y"], name="y")
    g = ir_graph(tmp_path, [relu], (1, 4), {}, ["y"])
    assert max_parts(g.nodes[0], g, (FAST, FAST)) == 1
    s = schedule(g, (FAST, FAST))
    assert len(s.tasks) == 1


def test_big_conv_splits_by_output_channel_in_proportion_to_speed(tmp_path: Path) -> None:
    consts: dict[str, np.ndarray] = {}
    g = ir_graph(tmp_path, [conv_node("x", "y", 16, 32, 3, consts)], (1, 16, 16, 16), consts, ["y"])
    conv = g.nodes[0]
    assert max_parts(conv, g, (FAST, FAST)) == 2
    equal = split_over(conv, g, [1.0, 1.0])
    plane = 16 * 16
    assert [p.output_range for p in equal] == [(0, 16 * plane), (16 * plane, 32 * plane)]
    assert [p.input_ranges[1] for p in equal] == [(0, 16 * 144), (16 * 144, 32 * 144)]  # 16*3*3 weights each
    assert [p.graph.tensor("y").shape for p in equal] == [(1, 16, 16, 16)] * 2
    s = schedule(g, (SLOW, FAST))
    parts = {s.core[t.id]: t.part.output_range for t in s.tasks}
    assert parts == {1: (0, 21 * plane), 0: (21 * plane, 32 * plane)}  # 21 channels on the fast core


def test_depthwise_splits_by_group_with_contiguous_input(tmp_path: Path) -> None:
    consts: dict[str, np.ndarray] = {}
    g = ir_graph(tmp_path, [conv_node("x", "y", 16, 16, 3, consts, group=16)], (1, 16, 20, 20), consts, ["y"])
    a, b = split_over(g.nodes[0], g, [1.0, 1.0])
    plane = 400
    assert (a.node.attrs["group"], b.node.attrs["group"]) == (8, 8)
    assert (a.input_ranges[0], b.input_ranges[0]) == ((0, 8 * plane), (8 * plane, 16 * plane))
    assert b.output_range == (8 * plane, 16 * plane)


def test_batch_two_conv_runs_whole(tmp_path: Path) -> None:
    consts: dict[str, np.ndarray] = {}
    g = ir_graph(tmp_path, [conv_node("x", "y", 16, 32, 3, consts)], (2, 16, 16, 16), consts, ["y"])
    assert max_parts(g.nodes[0], g, (FAST, FAST)) == 1
