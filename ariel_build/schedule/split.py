"""How a node splits into parts that run on different cores without changing any result.

A part is a *sub-problem*: the same op over a sub-shape, whose output is one contiguous element
range of the full output and whose inputs are contiguous ranges (or whole tensors). Its code is
the op's own `emit` on a small graph holding the sub-shaped tensors, so kernels run unchanged.
Only parallel axes are split (output channels or groups, pooling planes, Gemm columns or rows,
elements); a reduction axis never is, so every output is summed in the same order as on one core.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ariel_build.ir import Graph, Node, Quant, Tensor
from ariel_build.ops.base import lookup
from ariel_build.ops.binary import Elementwise
from ariel_build.ops.gemm import gemm_shape
from ariel_build.ops.quantized.conv import PIXELS
from ariel_build.ops.quantized.packing import PACKED_INPUT, is_wide, pack_pairs, packed_weights, product_rows
from ariel_build.ops.unary import Unary

Range = tuple[int, int]  # [start, end) in elements of the full tensor


@dataclass(frozen=True)
class Part:
    node: Node  # the sub-problem's node (same name and op; attributes may differ, e.g. group)
    graph: Graph  # holds the sub-problem's tensors, under the full tensors' names
    input_ranges: tuple[Range | None, ...]  # per node input; None = the whole tensor
    output_range: Range  # of output 0 (its first row when `output_rows` is set)
    # (stride, count): output 0 is `count` rows like `output_range`, `stride` elements apart
    output_rows: tuple[int, int] | None = None


@dataclass(frozen=True)
class SplitRule:
    units: int  # how many slices the parallel axis has; a part is a range of them
    part: Callable[[int, int], Part]


def _sub(graph: Graph, name: str, shape: tuple[int, ...], rng: Range | None) -> Tensor:
    """The tensor's range `rng` as a tensor of `shape`; per-channel quantization (axis 0) keeps
    the channels in the range."""
    t = graph.tensor(name)
    data = None
    if t.data is not None:
        flat = t.data.reshape(-1)
        data = (flat if rng is None else flat[rng[0] : rng[1]]).reshape(shape)
    quant = t.quant
    if quant is not None and rng is not None and quant.scale.size > 1:
        assert quant.axis == 0, f"{name}: only per-channel quantization along axis 0 splits"
        per_channel = t.size // t.shape[0]
        lo, hi = rng[0] // per_channel, rng[1] // per_channel
        quant = Quant(quant.scale[lo:hi], quant.zero_point[lo:hi], 0)
    return Tensor(name, shape, t.dtype, data, quant)


def _make_part(
    node: Node,
    graph: Graph,
    inputs: dict[int, tuple[tuple[int, ...], Range]],
    output: tuple[tuple[int, ...], Range],
    attrs: dict[str, object] | None = None,
) -> Part:
    """`inputs` maps the input indices that are sliced to (sub-shape, range); others stay whole."""
    sub = Graph(graph.name, graph.source, opset=graph.opset)
    ranges: list[Range | None] = []
    for k, name in enumerate(node.inputs):
        if not name:
            ranges.append(None)
            continue
        shape, rng = inputs.get(k, (graph.tensor(name).shape, None))
        sub.add_tensor(_sub(graph, name, shape, rng))
        ranges.append(rng)
    sub.add_tensor(_sub(graph, node.outputs[0], output[0], None))
    sub_node = replace(
        node, attrs={**node.attrs, **(attrs or {})}, inputs=list(node.inputs), outputs=[node.outputs[0]]
    )
    return Part(sub_node, sub, tuple(ranges), output[1])


def _conv(node: Node, graph: Graph, bias_input: int | None = 2) -> SplitRule | None:
    """Output channels (one group) or whole groups; `bias_input`: the per-channel bias, if any."""
    x, w, y = (
        graph.tensor(node.inputs[0]).shape,
        graph.tensor(node.inputs[1]).shape,
        graph.tensor(node.outputs[0]).shape,
    )
    if x[0] != 1:
        return None  # batch > 1: a channel range is not contiguous in NCHW
    groups = int(node.attrs.get("group", 1))
    in_plane, out_plane, filter_len = math.prod(x[2:]), math.prod(y[2:]), math.prod(w[1:])
    has_bias = bias_input is not None and bool(node.input(bias_input))
    if groups == 1:  # output channels; every part reads the whole input

        def part(lo: int, hi: int) -> Part:
            n = hi - lo
            ins = {1: ((n, *w[1:]), (lo * filter_len, hi * filter_len))}
            if has_bias:
                ins[bias_input] = ((n,), (lo, hi))
            return _make_part(node, graph, ins, ((1, n, *y[2:]), (lo * out_plane, hi * out_plane)))

        return SplitRule(w[0], part)
    in_per_group, out_per_group = x[1] // groups, w[0] // groups

    def group_part(lo: int, hi: int) -> Part:  # whole groups: input channels are contiguous too
        n, ci, co = hi - lo, (hi - lo) * in_per_group, (hi - lo) * out_per_group
        ins = {
            0: ((1, ci, *x[2:]), (lo * in_per_group * in_plane, hi * in_per_group * in_plane)),
            1: ((co, *w[1:]), (lo * out_per_group * filter_len, hi * out_per_group * filter_len)),
        }
        if has_bias:
            ins[bias_input] = ((co,), (lo * out_per_group, hi * out_per_group))
        out = ((1, co, *y[2:]), (lo * out_per_group * out_plane, hi * out_per_group * out_plane))
        return _make_part(node, graph, ins, out, {"group": n})

    return SplitRule(groups, group_part)


def _pool(node: Node, graph: Graph) -> SplitRule:
    """Planes (batch x channels) are independent and contiguous in input and output."""
    x, y = graph.tensor(node.inputs[0]).shape, graph.tensor(node.outputs[0]).shape
    in_plane, out_plane = math.prod(x[2:]), math.prod(y[2:])

    def part(lo: int, hi: int) -> Part:
        ins = {0: ((1, hi - lo, *x[2:]), (lo * in_plane, hi * in_plane))}
        return _make_part(node, graph, ins, ((1, hi - lo, *y[2:]), (lo * out_plane, hi * out_plane)))

    return SplitRule(x[0] * x[1], part)


def _gemm(node: Node, graph: Graph) -> SplitRule | None:
    s = gemm_shape(node, graph)
    c = graph.tensor(node.inputs[2]).shape if node.input(2) else None
    if s.trans_a:
        return None
    if s.m == 1 and s.trans_b:  # columns: rows of the [N, K] weight

        def col_part(lo: int, hi: int) -> Part:
            n = hi - lo
            ins = {1: ((n, s.k), (lo * s.k, hi * s.k))}
            if c is not None and s.bias_strides and s.bias_strides[1]:
                ins[2] = ((*c[:-1], n), (lo, hi))
            return _make_part(node, graph, ins, ((1, n), (lo, hi)))

        return SplitRule(s.n, col_part)
    if s.m > 1:  # rows of A and of the output

        def row_part(lo: int, hi: int) -> Part:
            m = hi - lo
            ins = {0: ((m, s.k), (lo * s.k, hi * s.k))}
            if c is not None and s.bias_strides and s.bias_strides[0]:
                cols = s.bias_strides[0]
                ins[2] = ((m, cols), (lo * cols, hi * cols))
            return _make_part(node, graph, ins, ((m, s.n), (lo * s.n, hi * s.n)))

        return SplitRule(s.m, row_part)
    return None


def _matmul(node: Node, graph: Graph) -> SplitRule | None:
    """Rows of A and of the output, when B is one matrix and A has no batch beyond 1s; else whole
    matrices of a batch that A and B share (no broadcasting)."""
    a, b = graph.tensor(node.inputs[0]).shape, graph.tensor(node.inputs[1]).shape
    if len(a) >= 3 and a[:-2] == b[:-2] and math.prod(a[:-2]) > 1:
        return _matmul_batch(node, graph)
    if len(a) < 2 or len(b) != 2 or math.prod(a[:-2]) != 1 or a[-2] < 2:
        return None
    lead, k, n = a[:-2], b[0], b[1]

    def part(lo: int, hi: int) -> Part:
        m = hi - lo
        return _make_part(
            node, graph, {0: ((*lead, m, k), (lo * k, hi * k))}, ((*lead, m, n), (lo * n, hi * n))
        )

    return SplitRule(a[-2], part)


def _matmul_batch(node: Node, graph: Graph) -> SplitRule:
    """Matrices [lo, hi) of the batch: contiguous in A, B and the output."""
    shapes = [graph.tensor(n).shape for n in (*node.inputs[:2], node.outputs[0])]
    lead = shapes[0][:-2]

    def part(lo: int, hi: int) -> Part:
        sub = [(*(1,) * (len(lead) - 1), hi - lo, *s[-2:]) for s in shapes]
        ranges = [(lo * s[-2] * s[-1], hi * s[-2] * s[-1]) for s in shapes]
        ins = {k: (sub[k], ranges[k]) for k in (0, 1)}
        return _make_part(node, graph, ins, (sub[2], ranges[2]))

    return SplitRule(math.prod(lead), part)


def _matmul_integer(node: Node, graph: Graph) -> SplitRule | None:
    """Rows of A (all its leading dimensions, as the kernel reads them) against B [K, N]; the
    zero points stay whole (A's is one value, B's one per column)."""
    a, y = graph.tensor(node.inputs[0]).shape, graph.tensor(node.outputs[0]).shape
    k, n = a[-1], y[-1]

    def part(lo: int, hi: int) -> Part:
        lead = (1,) * (len(a) - 2)
        ins = {0: ((*lead, hi - lo, k), (lo * k, hi * k))}
        return _make_part(node, graph, ins, ((*lead, hi - lo, n), (lo * n, hi * n)))

    return SplitRule(math.prod(a[:-1]), part)


def _rows(node: Node, graph: Graph, axis: int) -> SplitRule | None:
    """Rows of input 0 and the output: the dimensions before `axis` (a row runs from `axis` to the
    end and is computed alone, e.g. one softmax or normalization); other inputs stay whole."""
    x, y = graph.tensor(node.inputs[0]).shape, graph.tensor(node.outputs[0]).shape
    axis = axis % len(x) if x else 0
    if x != y or axis == 0:
        return None
    row = math.prod(x[axis:])

    def part(lo: int, hi: int) -> Part:
        shape = (*(1,) * (axis - 1), hi - lo, *x[axis:])
        rng = (lo * row, hi * row)
        return _make_part(node, graph, {0: (shape, rng)}, (shape, rng))

    return SplitRule(math.prod(x[:axis]), part)


def _softmax(node: Node, graph: Graph) -> SplitRule | None:
    """The dimensions before `axis` (opset 13: the lines' outer dimensions; before: the rows of
    the 2-D coercion)."""
    default = -1 if graph.opset >= 13 else 1
    return _rows(node, graph, int(node.attrs.get("axis", default)))


def _elementwise(node: Node, graph: Graph) -> SplitRule | None:
    """Unary maps: element ranges of input 0 and the output (other inputs are scalar bounds)."""
    size = graph.tensor(node.outputs[0]).size

    def part(lo: int, hi: int) -> Part:
        return _make_part(node, graph, {0: ((hi - lo,), (lo, hi))}, ((hi - lo,), (lo, hi)))

    return SplitRule(size, part)


def _trailing(shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """How many trailing dimensions of `out` an input of `shape` spans when it broadcasts only
    along leading ones (its shape without leading 1s is `out`'s tail), else -1."""
    dims = list(shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    if not dims:
        return 0
    return len(dims) if tuple(dims) == out[len(out) - len(dims) :] else -1


def _elementwise_nary(node: Node, graph: Graph) -> SplitRule | None:
    """Binary and variadic elementwise ops whose inputs are the output's shape, single elements,
    or broadcast only along leading dimensions (a bias over rows): element ranges when nothing
    broadcasts but single elements, else rows of the broadcast inputs' span (they stay whole)."""
    out = graph.tensor(node.outputs[0])
    if "broadcast" in node.attrs or not out.shape:  # opset < 7 broadcast with an axis
        return None
    shapes = [graph.tensor(i).shape for i in node.inputs]
    same = [s == out.shape for s in shapes]
    spans = [
        0 if graph.tensor(i).size == 1 else _trailing(s, out.shape)
        for i, s in zip(node.inputs, shapes, strict=True)
    ]
    if any(span < 0 and not full for span, full in zip(spans, same, strict=True)):
        return None
    tail = max((span for span, full in zip(spans, same, strict=True) if not full), default=0)
    if tail == 0:

        def part(lo: int, hi: int) -> Part:
            ins = {k: ((hi - lo,), (lo, hi)) if full else ((1,), (0, 1)) for k, full in enumerate(same)}
            return _make_part(node, graph, ins, ((hi - lo,), (lo, hi)))

        return SplitRule(out.size, part)
    if tail >= len(out.shape):
        return None
    row = math.prod(out.shape[-tail:])

    def row_part(lo: int, hi: int) -> Part:
        shape = (*(1,) * (len(out.shape) - tail - 1), hi - lo, *out.shape[-tail:])
        rng = (lo * row, hi * row)
        ins = {k: (shape, rng) for k, full in enumerate(same) if full}
        return _make_part(node, graph, ins, (shape, rng))

    return SplitRule(out.size // row, row_part)


def _channel_pairs(node: Node, graph: Graph, channels: int) -> int | None:
    """Words of the packed weights per pair of output channels (passes/pack_int8_weights.py),
    when every pair's words are one contiguous run, else None (then the node runs whole)."""
    packed, weights = graph.const(packed_weights(node)), graph.const(node.input(1))
    pairs = -(-channels // 2)
    if packed is None or weights is None or packed.size % pairs:
        return None
    rows, w = packed.reshape(pairs, -1), product_rows(node, graph)
    wide = is_wide(node)
    if not all(np.array_equal(pack_pairs(w[2 * p : 2 * p + 2], wide), rows[p]) for p in range(pairs)):
        return None
    return packed.size // pairs


def _packed_part(
    node: Node, graph: Graph, lo: int, hi: int, words: int, out: tuple[tuple[int, ...], Range]
) -> Part:
    """Pairs [lo, hi) of output channels of a packed int8 product: weight rows, bias and packed
    words of those channels; `out` is the output's sub-shape and range."""
    channels = graph.tensor(node.inputs[1]).shape[0]
    c_lo, c_hi = 2 * lo, min(2 * hi, channels)
    w = graph.tensor(node.inputs[1]).shape
    depth = math.prod(w[1:])
    ins = {
        1: ((c_hi - c_lo, *w[1:]), (c_lo * depth, c_hi * depth)),
        PACKED_INPUT: (((hi - lo) * words,), (lo * words, hi * words)),
    }
    if node.input(2):
        ins[2] = ((c_hi - c_lo,), (c_lo, c_hi))
    return _make_part(node, graph, ins, out)


def splits_pixels(node: Node, graph: Graph) -> bool:
    """A packed int8 convolution (batch 1) splits by pairs of output pixels when a plane has at
    least two: each part then gathers only its own pixels' input columns and computes every
    channel for them, where a channel split gathers every column in each part."""
    if node.op != "QConv" or packed_weights(node) is None or graph.tensor(node.inputs[0]).shape[0] != 1:
        return False
    return math.prod(graph.tensor(node.outputs[0]).shape[2:]) >= 4


def _qconv_pixels(node: Node, graph: Graph) -> SplitRule:
    """Pairs of output pixels: every part reads the whole input and weights and writes its
    pixels of every channel plane (rows of the NCHW output, `Part.output_rows`)."""
    y = graph.tensor(node.outputs[0]).shape
    plane = math.prod(y[2:])

    def part(lo: int, hi: int) -> Part:
        p_lo, p_hi = 2 * lo, min(2 * hi, plane)
        sub = _make_part(node, graph, {}, ((*y[:2], p_hi - p_lo), (p_lo, p_hi)), {PIXELS: (p_lo, p_hi)})
        return replace(sub, output_rows=(plane, y[0] * y[1]))

    return SplitRule(-(-plane // 2), part)


def _qconv(node: Node, graph: Graph) -> SplitRule | None:
    """Packed products (one group) by pairs of output pixels (`splits_pixels`) or else of output
    channels (a pair shares its packed words); grouped and depthwise convolutions by whole
    groups, as float Conv."""
    if packed_weights(node) is None:
        return _conv(node, graph)
    return _qconv_pixels(node, graph) if splits_pixels(node, graph) else qconv_channels(node, graph)


def qconv_channels(node: Node, graph: Graph) -> SplitRule | None:
    """A packed int8 convolution by pairs of output channels."""
    x, y = graph.tensor(node.inputs[0]).shape, graph.tensor(node.outputs[0]).shape
    channels, plane = y[1], math.prod(y[2:])
    words = _channel_pairs(node, graph, channels) if x[0] == 1 else None
    if words is None:
        return None

    def part(lo: int, hi: int) -> Part:
        c_lo, c_hi = 2 * lo, min(2 * hi, channels)
        out = ((1, c_hi - c_lo, *y[2:]), (c_lo * plane, c_hi * plane))
        return _packed_part(node, graph, lo, hi, words, out)

    return SplitRule(-(-channels // 2), part)


def _qfully_connected(node: Node, graph: Graph) -> SplitRule | None:
    """Batch 1: pairs of output units (columns of the output)."""
    batch, units = graph.tensor(node.outputs[0]).shape
    words = _channel_pairs(node, graph, units) if batch == 1 and packed_weights(node) else None
    if words is None:
        return None

    def part(lo: int, hi: int) -> Part:
        c_lo, c_hi = 2 * lo, min(2 * hi, units)
        return _packed_part(node, graph, lo, hi, words, ((1, c_hi - c_lo), (c_lo, c_hi)))

    return SplitRule(-(-units // 2), part)


_RULES: dict[str, Callable[[Node, Graph], SplitRule | None]] = {
    "Conv": _conv,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalMaxPool": _pool,
    "GlobalAveragePool": _pool,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "QConv": _qconv,
    "QFullyConnected": _qfully_connected,
    "QAveragePool": _pool,
    "QMaxPool": _pool,
    "QAdd": _elementwise_nary,
    "QMul": _elementwise_nary,
    "QRelu": _elementwise,
    "QLogistic": _elementwise,
    "QTanh": _elementwise,
    "QLeakyRelu": _elementwise,
    "Quantize": _elementwise,
    "Dequantize": _elementwise,
    "QuantizeLinear": _elementwise,
    "DequantizeLinear": _elementwise,
    "QSoftmax": lambda node, graph: _rows(node, graph, -1),
    "ConvInteger": lambda node, graph: _conv(node, graph, bias_input=None),
    "MatMulInteger": _matmul_integer,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "LayerNormalization": lambda node, graph: _rows(node, graph, int(node.attrs.get("axis", -1))),
}


def split_rule(node: Node, graph: Graph) -> SplitRule | None:
    """How `node` splits, or None when it must run whole."""
    if len([o for o in node.outputs if o]) != 1:
        return None
    rule = _RULES.get(node.op)
    if rule is not None:
        return rule(node, graph)
    op = lookup(node.op)
    if isinstance(op, Unary):
        return _elementwise(node, graph)
    if isinstance(op, Elementwise) and all(node.inputs):
        return _elementwise_nary(node, graph)
    return None


def whole(node: Node, graph: Graph) -> Part:
    """The node as one part (any number of outputs)."""
    out = graph.tensor(node.outputs[0])
    return Part(node, graph, tuple(None for _ in node.inputs), (0, out.size))
