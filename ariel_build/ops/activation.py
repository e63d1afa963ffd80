"""Activations fused into the op that produces a tensor (passes/fuse_activation.py sets
`node.activation`): the Rust `k::Act` literal every fusing op passes to its kernel, and the
numpy semantics its reference applies."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node
from ariel_build.ir.graph import Activation
from ariel_build.ops.base import Op, rust_f32


def rust_act(act: Activation | None) -> str:
    if act is None:
        return "k::Act::None"
    if act.kind == "relu":
        return "k::Act::Relu"
    if act.kind == "sigmoid":
        return "k::Act::Sigmoid"
    if act.kind == "clip":
        return f"k::Act::Clip {{ low: {rust_f32(act.low)}, high: {rust_f32(act.high)} }}"
    raise ValueError(f"unknown fused activation {act.kind!r}")


def apply_act(act: Activation | None, y: np.ndarray) -> np.ndarray:
    if act is None:
        return y
    if act.kind == "relu":
        return np.maximum(y, 0).astype(y.dtype)
    if act.kind == "sigmoid":
        return (1 / (1 + np.exp(-y))).astype(y.dtype)
    if act.kind == "clip":
        return np.clip(y, act.low, act.high).astype(y.dtype)
    raise ValueError(f"unknown fused activation {act.kind!r}")


class FusesActivation(Op):
    """Base of ops that apply a fused activation to their (first) output."""

    fuses_activation = True

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        first, *rest = super().reference(node, graph, inputs)
        return [apply_act(node.activation, first), *rest]
