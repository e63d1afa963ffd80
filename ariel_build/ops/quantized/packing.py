"""Build-time layout of the int8 matrix-product kernels (kernels/src/ops/int8/gemm.rs): weights of
output channels in pairs, per group of 4 taps. Convolutions: the taps (0, 2) and (1, 3) as
sign-extended 16-bit pairs (the order in which SXTB16 splits a word of 4 inputs), the two channels'
words side by side in one u64: `[even c0 | even c1 << 32, odd c0 | odd c1 << 32]`. Fully connected
(each weight used once per row): the two channels' 4 int8 as one u64, split at run time. Missing
channels and taps are zero."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph, Node

# Input index of the packed weights on QConv / QFullyConnected (after x, w, bias).
PACKED_INPUT = 3


def pack_bytes(depth: int, words_per_group: int) -> int:
    """Bytes of the kernels' column buffer: `words_per_group` u64 per group of 4 of the `depth` taps
    (gemm.rs `conv`: 3, two packed columns and their gathered bytes; `fully_connected`: 1)."""
    return -(-depth // 4) * 8 * words_per_group


def _padded(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` zero-padded to `[pairs, 2, groups, 4]` (int64)."""
    channels, depth = weights.shape
    groups, pairs = -(-depth // 4), -(-channels // 2)
    w = np.zeros((2 * pairs, 4 * groups), np.int64)
    w[:channels, :depth] = weights
    return w.reshape(pairs, 2, groups, 4)


def pack_bytes_pairs(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` int8 weights as u64 words of both channels' 4 bytes (fully connected)."""
    b = _padded(weights) & 0xFF
    word = b[..., 0] | b[..., 1] << 8 | b[..., 2] << 16 | b[..., 3] << 24  # [pair, channel, group]
    return (word[:, 0] | word[:, 1] << 32).astype(np.uint64).reshape(-1)


def pack_weight_pairs(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` int8 weights as 16-bit pairs in u64 words (convolutions)."""
    w = _padded(weights)

    def halves(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (lo & 0xFFFF) | (hi & 0xFFFF) << 16

    even, odd = halves(w[..., 0], w[..., 2]), halves(w[..., 1], w[..., 3])  # [pair, channel, group]
    words = np.stack([even[:, 0] | even[:, 1] << 32, odd[:, 0] | odd[:, 1] << 32], axis=-1)
    return words.astype(np.uint64).reshape(-1)  # [pair, group, 2]


def packed_weights(node: Node) -> str | None:
    """Name of the node's packed weights, when `passes/pack_int8_weights.py` added them."""
    return node.input(PACKED_INPUT)


def add_packed_weights(node: Node, graph: Graph, channels: int) -> None:
    weights = graph.const(node.input(1))
    if weights is None:
        return
    pack = pack_bytes_pairs if node.op == "QFullyConnected" else pack_weight_pairs
    packed = graph.add_constant(f"{node.inputs[1]}/packed", pack(weights.reshape(channels, -1)))
    node.inputs = [*node.inputs[:PACKED_INPUT], *[""] * (PACKED_INPUT - len(node.inputs)), packed.name]
