"""Small hand-made models for the scheduler tests, compiled to optimized IR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from ariel_build.frontends import load_model
from ariel_build.ir import Graph
from ariel_build.passes import optimize
from fixtures.ops.gemm import graph_case


def ir_graph(
    tmp: Path,
    nodes: list[onnx.NodeProto],
    x_shape: tuple[int, ...],
    consts: dict[str, np.ndarray],
    outputs: list[str],
) -> Graph:
    x = np.zeros(x_shape, np.float32)
    case = graph_case("g", nodes, {"x": x}, consts, outputs, opset=13)
    return optimize(load_model(case.save(tmp)))


def conv_node(
    x: str, out: str, c_in: int, c_out: int, k: int, consts: dict[str, np.ndarray], group: int = 1
) -> onnx.NodeProto:
    consts[f"{out}_w"] = np.ones((c_out, c_in // group, k, k), np.float32)
    return helper.make_node("Conv", [x, f"{out}_w"], [out], name=out, pads=[k // 2] * 4, group=group)
