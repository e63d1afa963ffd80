"""Resize (opset 10+) and Upsample (opset 7-9): nearest (any rank, any element type) and linear
(f32, resizing at most the last two axes). Kernel: kernels/src/ops/resize.rs.

Scales or sizes must be constants. The source coordinate of every output coordinate is computed
here in float32, as onnxruntime does, so ties round the same way; the kernels only read tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_dtype,
    in_shape,
    normalize_axis,
    register,
    require_const,
    require_dtype,
    rust_array,
)

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
F32 = np.float32


@dataclass(frozen=True)
class ResizeSpec:
    linear: bool
    coordinates: str  # one of COORDINATE_MODES, or "tf_half_pixel_for_nn"
    nearest: str  # one of NEAREST_MODES, or "simple" (Upsample and Resize-10)
    scales: tuple[float, ...]  # per axis, float32 values
    out_shape: tuple[int, ...]


def _constant(node: Node, graph: Graph, i: int, what: str) -> np.ndarray | None:
    """Optional constant input i; None when absent or empty."""
    if not node.input(i):
        return None
    data = require_const(node, graph, i, what)
    return data.reshape(-1) if data.size else None


def _mode(node: Node) -> bool:
    mode = node.attrs.get("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        raise OpUnsupported(f"mode '{mode}' is not supported (nearest, linear)")
    return mode != "nearest"


def resize_spec(node: Node, graph: Graph) -> ResizeSpec:
    shape = in_shape(node, graph)
    rank = len(shape)
    linear = _mode(node)
    if node.op == "Upsample" or graph.opset < 11:
        if node.op == "Upsample" and graph.opset < 9:
            raw = node.attrs.get("scales")
            scales = None if raw is None else np.array(raw, F32)
        else:
            scales = _constant(node, graph, 1, "scales")
        if scales is None or scales.size != rank:
            raise OpUnsupported(f"scales must give one value per axis of {list(shape)}")
        scales = scales.astype(F32)
        out = tuple(int(F32(s) * F32(d)) for s, d in zip(scales, shape, strict=True))
        return _checked(
            ResizeSpec(linear, "asymmetric", "simple", tuple(float(s) for s in scales), out), shape
        )

    coordinates = node.attrs.get("coordinate_transformation_mode", "half_pixel")
    if coordinates not in (*COORDINATE_MODES, "tf_half_pixel_for_nn") or (
        coordinates == "tf_half_pixel_for_nn" and graph.opset >= 13
    ):
        raise OpUnsupported(f"coordinate_transformation_mode '{coordinates}' is not supported")
    nearest = node.attrs.get("nearest_mode", "round_prefer_floor")
    if nearest not in NEAREST_MODES:
        raise OpUnsupported(f"nearest_mode '{nearest}' is not supported")
    axes = [normalize_axis(int(a), rank) for a in node.attrs.get("axes", range(rank))]
    scales, sizes = _constant(node, graph, 2, "scales"), _constant(node, graph, 3, "sizes")
    full_scales = np.ones(rank, F32)
    out = list(shape)
    if scales is not None:
        if scales.size != len(axes):
            raise OpUnsupported(f"{scales.size} scales for axes {axes}")
        for a, s in zip(axes, scales.astype(F32), strict=True):
            full_scales[a], out[a] = s, int(F32(s) * F32(shape[a]))
    elif sizes is not None:
        if sizes.size != len(axes):
            raise OpUnsupported(f"{sizes.size} sizes for axes {axes}")
        policy = node.attrs.get("keep_aspect_ratio_policy", "stretch")
        ratios = [F32(int(n)) / F32(shape[a]) for a, n in zip(axes, sizes, strict=True)]
        if policy in ("not_larger", "not_smaller"):
            ratio = min(ratios) if policy == "not_larger" else max(ratios)
            ratios = [ratio] * len(axes)
            sizes = np.array([np.floor(F32(ratio) * F32(shape[a]) + F32(0.5)) for a in axes])
        elif policy != "stretch":
            raise OpUnsupported(f"keep_aspect_ratio_policy '{policy}' is not supported")
        for a, n, r in zip(axes, sizes, ratios, strict=True):
            full_scales[a], out[a] = r, int(n)
    else:
        raise OpUnsupported("one of scales or sizes is required")
    spec = ResizeSpec(linear, coordinates, nearest, tuple(float(s) for s in full_scales), tuple(out))
    if int(node.attrs.get("antialias", 0)) and linear and min(spec.scales) < 1:
        raise OpUnsupported("antialias is not supported")
    return _checked(spec, shape)


def _checked(spec: ResizeSpec, shape: tuple[int, ...]) -> ResizeSpec:
    if min(shape, default=1) < 1 or min(spec.out_shape, default=1) < 1 or min(spec.scales, default=1) <= 0:
        raise OpUnsupported(f"empty input {list(shape)} or output {list(spec.out_shape)}")
    if spec.linear:
        resized = [k for k, (i, o) in enumerate(zip(shape, spec.out_shape, strict=True)) if i != o]
        if len(shape) < 2 or any(k < len(shape) - 2 for k in resized):
            raise OpUnsupported("linear resize of axes other than the last two is not supported")
    return spec


def source_coordinates(spec: ResizeSpec, axis: int, in_len: int) -> np.ndarray:
    """Input coordinate (float32) of every output coordinate along `axis`."""
    out_len, scale = spec.out_shape[axis], F32(spec.scales[axis])
    x = np.arange(out_len, dtype=F32)
    half = F32(0.5)
    mode = spec.coordinates
    if mode == "half_pixel":
        return (x + half) / scale - half
    if mode == "half_pixel_symmetric":
        adjustment = F32(out_len) / (scale * F32(in_len))
        center = F32(in_len) / F32(2)
        return center * (F32(1) - adjustment) + (x + half) / scale - half
    if mode == "pytorch_half_pixel":
        return (x + half) / scale - half if out_len > 1 else np.zeros(out_len, F32)
    if mode == "align_corners":
        return x * F32(in_len - 1) / F32(out_len - 1) if out_len > 1 else np.zeros(out_len, F32)
    if mode == "tf_half_pixel_for_nn":
        return (x + half) / scale
    return x / scale


def nearest_sources(spec: ResizeSpec, axis: int, in_len: int) -> np.ndarray:
    x = source_coordinates(spec, axis, in_len)
    mode = spec.nearest
    if mode == "simple":
        index = np.ceil(x) if spec.scales[axis] < 1 else np.trunc(x)
    elif mode == "round_prefer_floor":
        index = np.where(x == np.floor(x) + F32(0.5), np.floor(x), np.round(x))
    elif mode == "round_prefer_ceil":
        index = np.where(x == np.floor(x) + F32(0.5), np.ceil(x), np.round(x))
    else:
        index = np.floor(x) if mode == "floor" else np.ceil(x)
    return np.clip(index, 0, in_len - 1).astype(np.int64)


def linear_sources(spec: ResizeSpec, axis: int, in_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Low and high input coordinates and the weight of the high one."""
    x = np.clip(source_coordinates(spec, axis, in_len), F32(0), F32(in_len - 1))
    low = np.minimum(x.astype(np.int64), in_len - 1)
    high = np.minimum(low + 1, in_len - 1)
    return low, high, (x - low.astype(F32)).astype(F32)


def _column_repeat(columns: np.ndarray, in_len: int) -> int:
    """k when the table reads every input column k times in order (integer upscale), else 0."""
    k = columns.size // in_len
    return k if k > 1 and np.array_equal(columns, np.arange(columns.size) // k) else 0


def _f32_array(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(v)!r}_f32" for v in values.astype(F32)) + "]"


class ResizeOp(Op):
    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]

    def check(self, node: Node, graph: Graph) -> None:
        if resize_spec(node, graph).linear:
            require_dtype(node, graph, (DType.F32,))

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(resize_spec(node, graph).out_shape, in_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        """Linear: three blends per output; nearest: none (a copy)."""
        return 3 * graph.tensor(node.outputs[0]).size if resize_spec(node, graph).linear else 0

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """Linear: two rows of the output width (the horizontally resized source rows)."""
        spec = resize_spec(node, graph)
        return 2 * spec.out_shape[-1] * DType.F32.size if spec.linear else 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        spec = resize_spec(node, graph)
        shape = in_shape(node, graph)
        x, y = io.inputs[0], io.outputs[0]
        if not spec.linear:
            tables = [nearest_sources(spec, a, d) for a, d in enumerate(shape)]
            params = (
                f"k::ops::resize::Nearest {{ in_shape: {rust_array(shape)}, "
                f"out_shape: {rust_array(spec.out_shape)}, source: &{rust_array(np.concatenate(tables))}, "
                f"repeat: {_column_repeat(tables[-1], shape[-1])} }}"
            )
            return f"k::ops::resize::nearest(&{params}, {x}, {y});"
        rank = len(shape)
        axes = []
        for a in (rank - 2, rank - 1):
            low, high, frac = linear_sources(spec, a, shape[a])
            axes.append(
                f"k::ops::resize::LinearAxis {{ low: &{rust_array(low)}, high: &{rust_array(high)}, "
                f"frac: &{_f32_array(frac)} }}"
            )
        params = (
            f"k::ops::resize::Bilinear {{ planes: {int(np.prod(shape[:-2]))}, in_h: {shape[-2]}, "
            f"in_w: {shape[-1]}, rows: {axes[0]}, cols: {axes[1]} }}"
        )
        return f"k::ops::resize::bilinear(&{params}, {x}, {y}, k::cast_mut({io.scratch}));"


@register
class Resize(ResizeOp):
    name = "Resize"


@register
class Upsample(ResizeOp):
    name = "Upsample"
