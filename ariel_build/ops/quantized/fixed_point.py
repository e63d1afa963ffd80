"""Build-time side of TFLite Micro's integer arithmetic: real multipliers → (Q31 mantissa, shift),
fused-activation clamps in the quantized domain, and the checks every int8 op shares."""

from __future__ import annotations

import math

import numpy as np

from ariel_build.ir import DType, Graph, Node, Quant
from ariel_build.ops.base import OpUnsupported, rust_array

INT8_MIN, INT8_MAX = -128, 127


def round_half_away(v: float) -> int:
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """`real` = mantissa / 2^31 * 2^shift with mantissa in [2^30, 2^31) (TFLM's QuantizeMultiplier)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    mantissa = round_half_away(q * (1 << 31))
    if mantissa == 1 << 31:
        mantissa //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return (1 << 31) - 1, 30
    return mantissa, shift


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """TFLM's single-precision quantization of one real value."""
    return zero_point + round_half_away(float(np.float32(value) / np.float32(scale)))


# TFLite fused activations: the real interval the output is clamped to.
ACTIVATIONS: dict[str, tuple[float | None, float | None]] = {
    "NONE": (None, None),
    "RELU": (0.0, None),
    "RELU_N1_TO_1": (-1.0, 1.0),
    "RELU6": (0.0, 6.0),
}


def activation_bounds(node: Node, graph: Graph) -> tuple[int, int]:
    """The int8 clamp of the node's fused activation (attribute `activation`) on output 0."""
    kind = node.attrs.get("activation", "NONE")
    if kind not in ACTIVATIONS:
        raise OpUnsupported(f"fused activation {kind} is not supported for int8")
    scale, zero_point = per_tensor(graph, node.outputs[0], "output")
    low, high = ACTIVATIONS[kind]
    lo = INT8_MIN if low is None else max(INT8_MIN, quantize_value(low, scale, zero_point))
    hi = INT8_MAX if high is None else min(INT8_MAX, quantize_value(high, scale, zero_point))
    return lo, hi


def quant_of(graph: Graph, name: str, what: str) -> Quant:
    t = graph.tensor(name)
    if t.quant is None or t.quant.scale.size == 0:
        raise OpUnsupported(f"{what} '{name}' has no quantization parameters")
    return t.quant


def per_tensor(graph: Graph, name: str, what: str) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized tensor."""
    q = quant_of(graph, name, what)
    if q.scale.size != 1:
        raise OpUnsupported(f"{what} '{name}' must be quantized per tensor, not per channel")
    return q.per_tensor


def require_int8(node: Node, graph: Graph, *indices: int) -> None:
    for i in indices:
        dtype = graph.tensor(node.inputs[i]).dtype
        if dtype is not DType.I8:
            raise OpUnsupported(f"input {i} is {dtype.numpy_name}; this int8 op needs int8")


def symmetric_weight_scales(node: Node, graph: Graph, i: int, channels: int) -> np.ndarray:
    """Scales of an int8 weight (input i): one, or one per output channel along axis 0."""
    q = quant_of(graph, node.inputs[i], "weight")
    if np.any(q.zero_point != 0):
        raise OpUnsupported("weights must be symmetric (zero point 0)")
    if q.scale.size not in (1, channels) or (q.scale.size > 1 and q.axis != 0):
        raise OpUnsupported(
            f"weight scales ({q.scale.size}, axis {q.axis}) are neither per tensor nor per output channel"
        )
    return q.scale.astype(np.float64)


def rust_requant(multipliers: list[tuple[int, int]], output_zero_point: int, bounds: tuple[int, int]) -> str:
    """A `k::ops::int8::Requant` literal."""
    return (
        f"k::ops::int8::Requant {{ multiplier: &{rust_array([m for m, _ in multipliers])}, "
        f"shift: &{rust_array([s for _, s in multipliers])}, output_offset: {output_zero_point}, "
        f"act_min: {bounds[0]}, act_max: {bounds[1]} }}"
    )


def rust_channel_requants(
    multipliers: list[tuple[int, int]], output_zero_point: int, bounds: tuple[int, int], channels: int
) -> str:
    """A `&[k::ops::int8::ChannelRequant]` expression, one per channel, built at compile time."""
    per_channel = multipliers * channels if len(multipliers) == 1 else multipliers
    items = ", ".join(
        f"k::ops::int8::ChannelRequant::new({m}, {s}, {output_zero_point}, {bounds[0]}, {bounds[1]})"
        for m, s in per_channel
    )
    return f"{{ static RQ: [k::ops::int8::ChannelRequant; {channels}] = [{items}]; &RQ }}"


def optional_bias(node: Node, graph: Graph, channels: int) -> None:
    if node.input(2):
        t = graph.tensor(node.inputs[2])
        if t.dtype is not DType.I32 or t.shape != (channels,):
            raise OpUnsupported(f"bias must be int32 [{channels}], not {t.dtype.numpy_name} {list(t.shape)}")


def require_int32_accumulator(node: Node, graph: Graph, taps: int) -> None:
    """The bias (constant input 2, if any) plus `taps` products of offset int8 values fits in int32
    (the kernels' accumulators must not overflow: that would panic in debug builds)."""
    bias = graph.const(node.input(2))
    largest_bias = int(np.abs(bias.astype(np.int64)).max()) if bias is not None and bias.size else 0
    if largest_bias + taps * 255 * 128 >= 2**31:
        raise OpUnsupported(f"bias plus {taps} products per output could overflow the int32 accumulator")


def folded_bias(node: Node, graph: Graph, channels: int, input_zero_point: int) -> list[int]:
    """`bias - x_zero * sum(w)` per output channel (constant weights input 1, optional bias input 2):
    the matrix-product kernels then multiply raw inputs, padding taps packed as the zero point."""
    weights = graph.const(node.input(1))
    if weights is None:
        raise OpUnsupported("int8 weights must be constant")
    sums = weights.astype(np.int64).reshape(channels, -1).sum(axis=1)
    bias = graph.const(node.input(2))
    base = np.zeros(channels, np.int64) if bias is None else bias.astype(np.int64).reshape(-1)
    folded = base - input_zero_point * sums
    if np.abs(folded).max(initial=0) >= 2**31:
        raise OpUnsupported("bias with the input zero point folded in does not fit int32")
    return [int(v) for v in folded]
