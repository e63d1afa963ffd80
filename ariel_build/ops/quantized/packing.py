"""Build-time layout of the int8 matrix-product kernels (kernels/src/ops/int8/gemm.rs): the weights
of output channels in pairs, per group of 4 taps either compact, the two channels' 4 int8 as one
u64 (SXTB16 splits each channel's word into its taps (0, 2) and (1, 3) at run time), or wide, per
channel those taps as sign-extended 16-bit pairs, `(0, 2) | (1, 3) << 32` (no split: 12 instead of
19 instructions per 16 MACs on Cortex-M4, twice the flash). Missing channels and taps are zero.
A convolution whose input channels are a multiple of 4 is packed `channels_last` (a node attribute
its generated `Conv` params carry): its taps run by kernel position, then input channel
(`product_rows`), so a group of 4 taps is 4 channels at one input position, which gemm.rs
sign-extends once per call into a ring of input rows instead of once per output pixel. Where
the arena is smaller without the ring, the pipeline takes it away: on cores with SMLAD it sets
`RING_ATTR` to 0 and gemm.rs packs each pixel pair's groups straight from the input planes,
elsewhere `plain_order` repacks the node by channel (the portable gathers are faster so).
`choose_int8_weights` widens the layers that gain most per byte while the weights fit the flash."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ariel_build.ir import Graph, Node
from ariel_build.ops.base import lookup

# Input index of the packed weights on QConv / QFullyConnected (after x, w, bias).
PACKED_INPUT = 3
# Node attribute: 1 when the packed weights are wide.
WIDE_ATTR = "wide_weights"
# Node attribute: 1 when a convolution's packed taps run by kernel position, then input channel.
CHANNELS_LAST_ATTR = "channels_last"
# Node attribute: 0 when a channel-last convolution keeps no ring of input rows (for RAM).
RING_ATTR = "ring"
INT8_WEIGHTS = ("auto", "wide", "compact")
PRODUCTS = ("QConv", "QFullyConnected")


def pack_bytes(depth: int, words_per_group: int) -> int:
    """Bytes of the kernels' column buffer: `words_per_group` u64 per group of 4 of the `depth` taps
    (gemm.rs `conv`: 3, two packed columns and their gathered bytes; `fully_connected`: 1)."""
    return -(-depth // 4) * 8 * words_per_group


# gemm.rs WIDE_PAIRS_PER_CALL: channel pairs whose accumulators a wide convolution keeps at a time.
WIDE_PAIRS_PER_CALL = 32


def wide_accumulator_bytes(channels: int, columns: int) -> int:
    """Bytes after a wide product's column buffer (gemm.rs `wide_channels`: 2 columns,
    fully_connected.rs `wide_rows`: 1): the int32 accumulators of `columns` columns by 2 channels
    for up to `WIDE_PAIRS_PER_CALL` channel pairs."""
    return 8 * columns * min(-(-channels // 2), WIDE_PAIRS_PER_CALL)


def pack_weight_pairs(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` int8 weights as u64 words of both channels' 4 bytes."""
    channels, depth = weights.shape
    groups, pairs = -(-depth // 4), -(-channels // 2)
    padded = np.zeros((2 * pairs, 4 * groups), np.int64)
    padded[:channels, :depth] = weights
    b = padded.reshape(pairs, 2, groups, 4) & 0xFF
    word = b[..., 0] | b[..., 1] << 8 | b[..., 2] << 16 | b[..., 3] << 24  # [pair, channel, group]
    return (word[:, 0] | word[:, 1] << 32).astype(np.uint64).reshape(-1)


def pack_wide_pairs(weights: np.ndarray) -> np.ndarray:
    """`[channels, depth]` int8 weights as u64 words, per pair and group both channels' 16-bit pairs."""
    channels, depth = weights.shape
    groups, pairs = -(-depth // 4), -(-channels // 2)
    padded = np.zeros((2 * pairs, 4 * groups), np.int64)
    padded[:channels, :depth] = weights
    h = padded.reshape(pairs, 2, groups, 4) & 0xFFFF
    word = h[..., 0] | h[..., 2] << 16 | h[..., 1] << 32 | h[..., 3] << 48  # [pair, channel, group]
    return word.transpose(0, 2, 1).astype(np.uint64).reshape(-1)


def pack_pairs(weights: np.ndarray, wide: bool) -> np.ndarray:
    return pack_wide_pairs(weights) if wide else pack_weight_pairs(weights)


def is_wide(node: Node) -> bool:
    """The node's packed weights are in the wide layout."""
    return bool(node.attrs.get(WIDE_ATTR, 0))


def rust_weights(node: Node, name: str) -> str:
    """The kernels' `gemm::Weights` of the packed weights `name`."""
    return f"k::ops::int8::gemm::Weights::{'Wide' if is_wide(node) else 'Compact'}({name})"


def packed_weights(node: Node) -> str | None:
    """Name of the node's packed weights, when `passes/pack_int8_weights.py` added them."""
    return node.input(PACKED_INPUT)


def channels_last(node: Node) -> bool:
    """The Conv params' `channels_last` (gemm.rs): the packed taps run by kernel position, then
    input channel."""
    return bool(node.attrs.get(CHANNELS_LAST_ATTR, 0))


def product_rows(node: Node, graph: Graph) -> np.ndarray:
    """The constant weights as `[channels, depth]` in the kernels' tap order: a convolution's (OIHW)
    by kernel position, then input channel when `channels_last`, else as stored."""
    w = graph.const(node.input(1))
    if w.ndim == 4 and channels_last(node):
        w = w.transpose(0, 2, 3, 1)
    return w.reshape(w.shape[0], -1)


def add_packed_weights(node: Node, graph: Graph) -> None:
    w = graph.const(node.input(1))
    if w is None:
        return
    if w.ndim == 4 and w.shape[1] > 0 and w.shape[1] % 4 == 0:
        node.attrs[CHANNELS_LAST_ATTR] = 1
    packed = graph.add_constant(f"{node.inputs[1]}/packed", pack_weight_pairs(product_rows(node, graph)))
    node.inputs = [*node.inputs[:PACKED_INPUT], *[""] * (PACKED_INPUT - len(node.inputs)), packed.name]


def _repack(node: Node, graph: Graph) -> None:
    packed = graph.tensor(packed_weights(node))
    words = pack_pairs(product_rows(node, graph), is_wide(node))
    graph.add_tensor(replace(packed, shape=tuple(words.shape), data=words))


def plain_order(node: Node, graph: Graph, plain: bool = True) -> None:
    """Repacks a `channels_last` convolution's weights (in its wide or compact layout) with its
    taps as stored (`plain`), or back by kernel position."""
    node.attrs[CHANNELS_LAST_ATTR] = int(not plain)
    _repack(node, graph)


def keeps_ring(node: Node) -> bool:
    """Whether a channel-last convolution keeps its ring of input rows (`RING_ATTR`)."""
    return bool(node.attrs.get(RING_ATTR, 1))


def _widen(node: Node, graph: Graph) -> int:
    """Repacks the node's weights wide; returns the bytes added."""
    before = graph.tensor(packed_weights(node)).nbytes
    node.attrs[WIDE_ATTR] = 1
    _repack(node, graph)
    return graph.tensor(packed_weights(node)).nbytes - before


def product_depth(node: Node, graph: Graph) -> int:
    """Taps per output of a packed product (the weights' row length)."""
    w = graph.tensor(node.inputs[1])
    return w.size // w.shape[0]


def choose_int8_weights(graph: Graph, mode: str, room: int | None) -> bool:
    """Widens packed weights: all (`wide`), none (`compact`), or for `auto` those of layers with at
    least `MIN_WIDE_DEPTH` taps per output, all when `room` is None (no flash limit), else greedily
    the most MACs per weight byte first while the bytes added stay within `room`. True when any
    was widened."""
    if mode not in INT8_WEIGHTS:
        raise ValueError(f"int8 weight layout {mode!r} is none of {', '.join(INT8_WEIGHTS)}")
    nodes = [n for n in graph.nodes if n.op in PRODUCTS and packed_weights(n) is not None and not is_wide(n)]
    if mode == "auto":
        nodes = [n for n in nodes if product_depth(n, graph) >= MIN_WIDE_DEPTH]
    if mode == "compact" or not nodes:
        return False
    budget = None if mode == "wide" else room
    nodes.sort(key=lambda n: -lookup(n.op).macs(n, graph) / graph.tensor(packed_weights(n)).nbytes)
    widened = False
    for node in nodes:
        extra = graph.tensor(packed_weights(node)).nbytes + _ALIGN_SLACK
        if budget is not None:
            if extra > budget:
                continue
            budget -= extra
        _widen(node, graph)
        widened = True
    return widened


# Taps per output below which `auto` keeps a layer compact: the SMLAD loop enters mid-iteration
# for any number of 4-tap groups, so from 8 taps wide pays (qemu-an386: VWW's 48x48x8 -> 16
# pointwise layer 2.32 M instructions compact, 1.00 M wide).
MIN_WIDE_DEPTH = 8
# Bytes a constant may add to the weight blob for alignment.
_ALIGN_SLACK = 16
# Flash per output channel of an int8 convolution or fully connected layer besides its weights:
# the generated code's ChannelRequant (16 B) and folded bias (4 B) (measured on VWW for
# qemu-an386: 54,760 B of such tables for 2,738 channels).
_TABLE_BYTES_PER_CHANNEL = 20


def int8_table_bytes(graph: Graph) -> int:
    """Estimated flash of the generated per-channel tables of the int8 layers."""
    return sum(
        _TABLE_BYTES_PER_CHANNEL * graph.tensor(n.inputs[1]).shape[0] for n in graph.nodes if n.op in PRODUCTS
    )
