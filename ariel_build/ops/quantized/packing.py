"""Build-time layout of the int8 matrix-product kernels (kernels/src/ops/int8/gemm.rs): the weights
of output channels in pairs, per group of 4 taps the two channels' 4 int8 as one u64 (one 64-bit
load; SXTB16 splits each channel's word into its taps (0, 2) and (1, 3) at run time). Missing
channels and taps are zero. Weights stay 8-bit: 16-bit pairs would save the split but double the
flash (VWW would no longer fit qemu-an524)."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node

# Input index of the packed weights on QConv / QFullyConnected (after x, w, bias).
PACKED_INPUT = 3


def pack_bytes(depth: int, words_per_group: int) -> int:
    """Bytes of the kernels' column buffer: `words_per_group` u64 per group of 4 of the `depth` taps
    (gemm.rs `conv`: 3, two packed columns and their gathered bytes; `fully_connected`: 1)."""
    return -(-depth // 4) * 8 * words_per_group


def pack_weight_pairs(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` int8 weights as u64 words of both channels' 4 bytes."""
    channels, depth = weights.shape
    groups, pairs = -(-depth // 4), -(-channels // 2)
    padded = np.zeros((2 * pairs, 4 * groups), np.int64)
    padded[:channels, :depth] = weights
    b = padded.reshape(pairs, 2, groups, 4) & 0xFF
    word = b[..., 0] | b[..., 1] << 8 | b[..., 2] << 16 | b[..., 3] << 24  # [pair, channel, group]
    return (word[:, 0] | word[:, 1] << 32).astype(np.uint64).reshape(-1)


def packed_weights(node: Node) -> str | None:
    """Name of the node's packed weights, when `passes/pack_int8_weights.py` added them."""
    return node.input(PACKED_INPUT)


def add_packed_weights(node: Node, graph: Graph, channels: int) -> None:
    weights = graph.const(node.input(1))
    if weights is None:
        return
    packed = graph.add_constant(f"{node.inputs[1]}/packed", pack_weight_pairs(weights.reshape(channels, -1)))
    node.inputs = [*node.inputs[:PACKED_INPUT], *[""] * (PACKED_INPUT - len(node.inputs)), packed.name]
