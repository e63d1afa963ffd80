"""Single-op int8 TFLite models (built with fixtures/tflite_builder.py) covering what the shared
models do not: odd sizes, strides, dilations, paddings, depth multipliers, per-tensor and
per-channel weights, fused activations, broadcasting, every int8 input of the nonlinear ops."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fixtures.tflite_builder import TFLiteModel

SAME, VALID = 0, 1
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


@dataclass
class OpCase:
    name: str
    model: TFLiteModel
    # Input arrays per run (several runs per case); default: random int8 over the full range.
    inputs: Callable[[np.random.Generator], list[np.ndarray]] | None = None


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _weights(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-127, 128, shape, dtype=np.int8)


def _scales(rng: np.random.Generator, n: int, per_channel: bool) -> list[float]:
    return list(rng.uniform(0.002, 0.02, n if per_channel else 1))


def conv(
    name: str, hw: tuple[int, int], cin: int, cout: int, k: tuple[int, int], stride: int = 1,
    padding: int = SAME, dilation: int = 1, act: int = NONE, per_channel: bool = True, bias: bool = True,
    depthwise: bool = False, tiny_first_channel: bool = False,
) -> OpCase:  # fmt: skip
    rng = _rng(name)
    m = TFLiteModel()
    in_scale, in_zero = float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 20))
    x = m.tensor((1, *hw, cin), scale=in_scale, zero_point=in_zero)
    if depthwise:
        w_shape, axis = (1, *k, cout), 3
    else:
        w_shape, axis = (cout, *k, cin), 0
    w_scales = _scales(rng, cout, per_channel)
    if tiny_first_channel:  # a right shift of 24-31: the requantization adds the offset late
        w_scales[0] *= 2.0**-19
    w = m.const(_weights(rng, w_shape), w_scales, axis)
    inputs = [x, w]
    if bias:
        b_scales = [in_scale * s for s in w_scales]
        inputs.append(m.const(rng.integers(-3000, 3000, cout).astype(np.int32), b_scales))
    span = [(kk - 1) * dilation + 1 for kk in k]
    out_hw = [
        -(-d // stride) if padding == SAME else (d - s) // stride + 1 for d, s in zip(hw, span, strict=True)
    ]
    taps = (1 if depthwise else cin) * k[0] * k[1]
    out_scale = in_scale * float(np.mean(w_scales)) * 127 * np.sqrt(taps) / 2
    y = m.tensor((1, *out_hw, cout), scale=out_scale, zero_point=int(rng.integers(-30, 30)))
    if depthwise:
        m.op("DEPTHWISE_CONV_2D", inputs, [y], "DepthwiseConv2DOptions", Padding=padding, StrideH=stride,
             StrideW=stride, DepthMultiplier=cout // cin, DilationHFactor=dilation, DilationWFactor=dilation,
             FusedActivationFunction=act)  # fmt: skip
    else:
        m.op("CONV_2D", inputs, [y], "Conv2DOptions", Padding=padding, StrideH=stride, StrideW=stride,
             DilationHFactor=dilation, DilationWFactor=dilation, FusedActivationFunction=act)  # fmt: skip
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def ring_chain(name: str, hw: tuple[int, int], c: int, wide: int) -> OpCase:
    """1x1 convs `c` -> `wide` -> `c`, then a 3x3 conv `c` -> `c`: the arena peaks at the wide
    tensor, so the 3x3 conv keeps its ring of channel-last input rows (`drop_rings`)."""
    rng = _rng(name)
    m = TFLiteModel()
    scale, zero = 0.05, int(rng.integers(-20, 20))
    x = m.tensor((1, *hw, c), scale=scale, zero_point=zero)
    m.inputs = [x]
    for cin, cout, k in [(c, wide, 1), (wide, c, 1), (c, c, 3)]:
        w_scales = _scales(rng, cout, True)
        w = m.const(_weights(rng, (cout, k, k, cin)), w_scales, 0)
        b = m.const(rng.integers(-3000, 3000, cout).astype(np.int32), [scale * s for s in w_scales])
        out_scale = scale * float(np.mean(w_scales)) * 127 * np.sqrt(cin * k * k) / 2
        y = m.tensor((1, *hw, cout), scale=out_scale, zero_point=int(rng.integers(-30, 30)))
        m.op("CONV_2D", [x, w, b], [y], "Conv2DOptions", Padding=SAME, StrideH=1, StrideW=1,
             DilationHFactor=1, DilationWFactor=1, FusedActivationFunction=NONE)  # fmt: skip
        x, scale = y, out_scale
    m.outputs = [x]
    return OpCase(name, m)


def fully_connected(
    name: str, batch: int, depth: int, units: int, act: int = NONE, bias: bool = True
) -> OpCase:
    rng = _rng(name)
    m = TFLiteModel()
    in_scale = float(rng.uniform(0.01, 0.1))
    x = m.tensor((batch, depth), scale=in_scale, zero_point=int(rng.integers(-50, 50)))
    w_scale = float(rng.uniform(0.002, 0.02))
    inputs = [x, m.const(_weights(rng, (units, depth)), w_scale)]
    if bias:
        inputs.append(m.const(rng.integers(-5000, 5000, units).astype(np.int32), in_scale * w_scale))
    y = m.tensor((batch, units), scale=in_scale * w_scale * 127 * np.sqrt(depth) / 4, zero_point=7)
    m.op("FULLY_CONNECTED", inputs, [y], "FullyConnectedOptions", FusedActivationFunction=act)
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def pool(name: str, kind: str, hw: tuple[int, int], c: int, k: tuple[int, int], stride: int, padding: int,
         act: int = NONE) -> OpCase:  # fmt: skip
    m = TFLiteModel()
    x = m.tensor((1, *hw, c), scale=0.05, zero_point=-7)
    out_hw = [
        -(-d // stride) if padding == SAME else (d - kk) // stride + 1 for d, kk in zip(hw, k, strict=True)
    ]
    y = m.tensor((1, *out_hw, c), scale=0.05, zero_point=-7)
    m.op(kind, [x], [y], "Pool2DOptions", Padding=padding, StrideH=stride, StrideW=stride, FilterHeight=k[0],
         FilterWidth=k[1], FusedActivationFunction=act)  # fmt: skip
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def binary(name: str, kind: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...], act: int = NONE,
           b_const: bool = False) -> OpCase:  # fmt: skip
    rng = _rng(name)
    m = TFLiteModel()
    a = m.tensor(a_shape, scale=float(rng.uniform(0.01, 0.1)), zero_point=int(rng.integers(-40, 40)))
    b_scale, b_zero = float(rng.uniform(0.01, 0.1)), int(rng.integers(-40, 40))
    if b_const:
        b = m.tensor(b_shape, "int8", b_scale, b_zero, data=rng.integers(-128, 128, b_shape, dtype=np.int8))
    else:
        b = m.tensor(b_shape, scale=b_scale, zero_point=b_zero)
    out_shape = tuple(np.broadcast_shapes(a_shape, b_shape))
    out_scale = 0.02 if kind == "MUL" else 0.12
    y = m.tensor(out_shape, scale=out_scale, zero_point=int(rng.integers(-10, 10)))
    options = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[kind]
    m.op(kind, [a, b], [y], options, FusedActivationFunction=act)
    m.inputs, m.outputs = ([a] if b_const else [a, b]), [y]
    return OpCase(name, m)


def every_int8(shape: tuple[int, ...]) -> Callable[[np.random.Generator], list[np.ndarray]]:
    """All 256 int8 values (shuffled), repeated to fill `shape`."""

    def make(rng: np.random.Generator) -> list[np.ndarray]:
        values = np.resize(rng.permutation(np.arange(-128, 128)), int(np.prod(shape)))
        return [values.astype(np.int8).reshape(shape)]

    return make


def unary(name: str, kind: str, in_scale: float, in_zero: int, out: tuple[float, int]) -> OpCase:
    m = TFLiteModel()
    shape = (2, 128)
    x = m.tensor(shape, scale=in_scale, zero_point=in_zero)
    y = m.tensor(shape, scale=out[0], zero_point=out[1])
    m.op(kind, [x], [y])
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m, every_int8(shape))


def softmax(name: str, shape: tuple[int, ...], in_scale: float, in_zero: int, beta: float = 1.0) -> OpCase:
    m = TFLiteModel()
    x = m.tensor(shape, scale=in_scale, zero_point=in_zero)
    y = m.tensor(shape, scale=1 / 256, zero_point=-128)
    m.op("SOFTMAX", [x], [y], "SoftmaxOptions", Beta=beta)
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def quantize_float(name: str, scale: float, zero: int) -> OpCase:
    m = TFLiteModel()
    x = m.tensor((3, 50), "float32")
    y = m.tensor((3, 50), scale=scale, zero_point=zero)
    m.op("QUANTIZE", [x], [y])
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m, lambda rng: [(rng.standard_normal((3, 50)) * 3).astype(np.float32)])


def requantize(name: str) -> OpCase:
    m = TFLiteModel()
    x = m.tensor((1, 6, 6, 4), scale=0.07, zero_point=5)
    q = m.tensor((1, 6, 6, 4), scale=0.031, zero_point=-9)
    y = m.tensor((1, 6, 6, 4), "float32")
    m.op("QUANTIZE", [x], [q])
    m.op("DEQUANTIZE", [q], [y])
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def pad_concat(name: str) -> OpCase:
    """PAD (zero point fill) feeding CONCATENATION on the channel axis, and a MAX_POOL."""
    m = TFLiteModel()
    a = m.tensor((1, 5, 6, 3), scale=0.04, zero_point=11)
    b = m.tensor((1, 7, 9, 2), scale=0.04, zero_point=11)
    pads = m.const(np.array([[0, 0], [1, 1], [2, 1], [0, 0]], np.int32))
    padded = m.tensor((1, 7, 9, 3), scale=0.04, zero_point=11)
    y = m.tensor((1, 7, 9, 5), scale=0.04, zero_point=11)
    m.op("PAD", [a, pads], [padded], "PadOptions")
    m.op("CONCATENATION", [padded, b], [y], "ConcatenationOptions", Axis=3)
    m.inputs, m.outputs = [a, b], [y]
    return OpCase(name, m)


def mean(name: str, shape: tuple[int, ...], axes: list[int], keep: bool, in_q: tuple[float, int],
         out_q: tuple[float, int]) -> OpCase:  # fmt: skip
    m = TFLiteModel()
    x = m.tensor(shape, scale=in_q[0], zero_point=in_q[1])
    out_shape = tuple(1 if k in axes else d for k, d in enumerate(shape) if keep or k not in axes)
    y = m.tensor(out_shape, scale=out_q[0], zero_point=out_q[1])
    m.op("MEAN", [x, m.const(np.array(axes, np.int32))], [y], "ReducerOptions", KeepDims=keep)
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m)


def relu(name: str, kind: str, in_q: tuple[float, int], out_q: tuple[float, int]) -> OpCase:
    m = TFLiteModel()
    shape = (2, 128)
    x = m.tensor(shape, scale=in_q[0], zero_point=in_q[1])
    y = m.tensor(shape, scale=out_q[0], zero_point=out_q[1])
    m.op(kind, [x], [y])
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m, every_int8(shape))


def leaky_relu(name: str, alpha: float, in_q: tuple[float, int], out_q: tuple[float, int]) -> OpCase:
    m = TFLiteModel()
    shape = (2, 128)
    x = m.tensor(shape, scale=in_q[0], zero_point=in_q[1])
    y = m.tensor(shape, scale=out_q[0], zero_point=out_q[1])
    m.op("LEAKY_RELU", [x], [y], "LeakyReluOptions", Alpha=alpha)
    m.inputs, m.outputs = [x], [y]
    return OpCase(name, m, every_int8(shape))


def transpose(name: str, shape: tuple[int, ...], perm: list[int], dtype: str = "int8") -> OpCase:
    m = TFLiteModel()
    q = {"scale": 0.05, "zero_point": -7} if dtype == "int8" else {}
    x = m.tensor(shape, dtype, **q)
    y = m.tensor(tuple(shape[p] for p in perm), dtype, **q)
    m.op("TRANSPOSE", [x, m.const(np.array(perm, np.int32))], [y], "TransposeOptions")
    m.inputs, m.outputs = [x], [y]
    if dtype == "int8":
        return OpCase(name, m)
    return OpCase(name, m, lambda rng: [rng.standard_normal(shape).astype(np.float32)])


def strided_slice(name: str, shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                  begin_mask: int = 0, end_mask: int = 0, shrink_mask: int = 0, dtype: str = "int8") -> OpCase:  # fmt: skip
    """Output shape from numpy's slicing (the same semantics), an index where an axis shrinks."""
    index: list[slice | int] = []
    for axis, (b, e, st) in enumerate(zip(begin, end, strides, strict=True)):
        bit = 1 << axis
        if shrink_mask & bit:
            index.append(b)
        else:
            index.append(slice(None if begin_mask & bit else b, None if end_mask & bit else e, st))
    out_shape = np.empty(shape)[tuple(index)].shape
    m = TFLiteModel()
    q = {"scale": 0.03, "zero_point": 12} if dtype == "int8" else {}
    x = m.tensor(shape, dtype, **q)
    y = m.tensor(out_shape, dtype, **q)
    inputs = [x, *(m.const(np.array(v, np.int32)) for v in (begin, end, strides))]
    m.op("STRIDED_SLICE", inputs, [y], "StridedSliceOptions", BeginMask=begin_mask, EndMask=end_mask,
         ShrinkAxisMask=shrink_mask)  # fmt: skip
    m.inputs, m.outputs = [x], [y]
    if dtype == "int8":
        return OpCase(name, m)
    return OpCase(name, m, lambda rng: [rng.standard_normal(shape).astype(np.float32)])


def cases() -> list[OpCase]:
    return [
        conv("conv_3x3_same", (7, 9), 3, 5, (3, 3)),
        conv("conv_5x3_stride2_valid_relu", (11, 8), 4, 6, (5, 3), stride=2, padding=VALID, act=RELU),
        conv("conv_3x3_dilation2_relu6", (9, 10), 2, 4, (3, 3), dilation=2, act=RELU6),
        conv("conv_1x1_pointwise_no_bias", (6, 7), 9, 3, (1, 1), bias=False),
        # Wide-weight column loops entered after 3, 2 and 1 of their 4 groups, an odd last channel.
        conv("conv_1x1_20_channels_odd_out", (5, 6), 20, 5, (1, 1)),
        conv("conv_3x3_6_channels_relu", (6, 5), 6, 6, (3, 3), act=RELU),
        conv("conv_1x1_8_channels", (7, 4), 8, 4, (1, 1)),
        conv("conv_1x1_4_channels", (5, 4), 4, 6, (1, 1)),
        # 3x3 windows inside the input gathered by the asm loops (stride 2; stride 1 above).
        conv("conv_3x3_stride2_relu", (9, 12), 3, 4, (3, 3), stride=2, act=RELU),
        # Channel-last columns without a ring (the arena is smaller without): packed per kernel
        # position, odd width (pairs across rows) and borders too.
        conv("conv_3x3_8_channels_no_ring", (7, 9), 8, 6, (3, 3), act=RELU),
        # Channel-last ring columns: kernel-row runs of 6 groups (copied 2 at a time).
        ring_chain("conv_3x3_8_channels_ring", (9, 10), 8, 32),
        conv("conv_2x2_stride2_same_per_tensor", (7, 7), 3, 4, (2, 2), stride=2, per_channel=False),
        conv("conv_relu_n1_to_1", (5, 5), 2, 3, (3, 3), act=RELU_N1_TO_1),
        conv("depthwise_3x3_same", (8, 9), 4, 4, (3, 3), depthwise=True),
        # An odd plane (the last output requantized alone) and a channel of tiny scale.
        conv(
            "depthwise_3x3_odd_plane_tiny_channel",
            (7, 5),
            3,
            3,
            (3, 3),
            depthwise=True,
            tiny_first_channel=True,
        ),
        conv("depthwise_multiplier3_stride2", (9, 7), 2, 6, (3, 3), stride=2, depthwise=True, act=RELU6),
        # Stride 2 over an odd output width, one channel of tiny scale (its offset added late).
        conv(
            "depthwise_3x3_stride2_odd_width_tiny_channel",
            (9, 10),
            3,
            3,
            (3, 3),
            stride=2,
            depthwise=True,
            tiny_first_channel=True,
        ),
        # Input rows of 3, 2 and 1 bytes (copied bytewise into the padded plane).
        conv("depthwise_3x3_rows_of_3", (4, 3), 5, 5, (3, 3), depthwise=True),
        conv("depthwise_3x3_rows_of_2_stride2", (5, 2), 3, 3, (3, 3), stride=2, depthwise=True),
        conv("depthwise_3x3_rows_of_1", (3, 1), 2, 2, (3, 3), depthwise=True),
        conv(
            "depthwise_5x5_valid_dilation2", (13, 12), 3, 3, (5, 5), padding=VALID, dilation=2, depthwise=True
        ),
        fully_connected("fc_batch3_relu", 3, 37, 11, act=RELU),
        fully_connected("fc_no_bias", 1, 64, 5, bias=False),
        pool("average_3x3_stride2_same", "AVERAGE_POOL_2D", (9, 8), 3, (3, 3), 2, SAME),
        pool("average_2x3_valid_relu6", "AVERAGE_POOL_2D", (7, 9), 2, (2, 3), 1, VALID, act=RELU6),
        pool("max_3x3_stride2_same", "MAX_POOL_2D", (9, 8), 3, (3, 3), 2, SAME),
        pool("max_2x2_valid_relu", "MAX_POOL_2D", (6, 6), 4, (2, 2), 2, VALID, act=RELU),
        binary("add_same_shape", "ADD", (1, 5, 6, 3), (1, 5, 6, 3)),
        binary("add_channel_constant_relu", "ADD", (1, 4, 5, 3), (3,), act=RELU, b_const=True),
        binary("sub_broadcast_rows", "SUB", (4, 7), (1, 7)),
        binary("mul_same_shape", "MUL", (2, 33), (2, 33)),
        binary("mul_scalar_constant_relu6", "MUL", (1, 3, 3, 4), (1,), act=RELU6, b_const=True),
        unary("logistic_scale_0p1", "LOGISTIC", 0.1, -3, (1 / 256, -128)),
        unary("logistic_scale_0p02", "LOGISTIC", 0.02, 40, (1 / 256, -128)),
        unary("tanh_scale_0p05", "TANH", 0.05, 7, (1 / 128, 0)),
        unary("tanh_scale_0p01", "TANH", 0.01, -20, (1 / 128, 0)),
        softmax("softmax_10_scale_0p15", (1, 10), 0.15, 14),
        softmax("softmax_rows_beta_0p5", (3, 17), 0.06, -5, beta=0.5),
        softmax("softmax_4d_channels", (1, 2, 3, 6), 0.1, 0),
        quantize_float("quantize_float", 0.05, -3),
        requantize("requantize_dequantize"),
        pad_concat("pad_concat"),
        mean("mean_spatial_keepdims", (1, 5, 7, 3), [1, 2], True, (0.05, 3), (0.05, 3)),
        mean("mean_spatial_rescaled", (1, 9, 9, 4), [2, 1], False, (0.02, -3), (0.011, 9)),
        mean("mean_last_axis_double_rounding", (2, 6, 4), [2], False, (0.1, 0), (0.1, 0)),
        mean("mean_channels_4d", (3, 5, 7, 2), [3], False, (0.1, 5), (0.1, 5)),
        mean("mean_two_axes_3d", (2, 3, 40), [1, 2], False, (0.3, -100), (0.05, 20)),
        relu("relu_rescaled", "RELU", (0.05, -10), (0.03, -128)),
        relu("relu6", "RELU6", (0.06, 4), (0.06, 4)),
        relu("relu6_small_scale", "RELU6", (0.01, -100), (0.01, -100)),
        leaky_relu("leaky_relu_0p2_rescaled", 0.2, (0.05, -10), (0.037, 20)),
        leaky_relu("leaky_relu_0p01_same_quant", 0.01, (0.1, 3), (0.1, 3)),
        leaky_relu("leaky_relu_0p3_coarser", 0.3, (0.013, 60), (0.11, -100)),
        transpose("transpose_4d_nhwc_to_nchw", (1, 5, 7, 3), [0, 3, 1, 2]),
        transpose("transpose_4d_swap_hw", (2, 5, 3, 4), [0, 2, 1, 3]),
        transpose("transpose_4d_reverse", (2, 3, 5, 7), [3, 2, 1, 0]),
        transpose("transpose_3d", (3, 5, 7), [2, 0, 1]),
        transpose("transpose_2d_float", (9, 13), [1, 0], "float32"),
        strided_slice("strided_slice_4d_strides", (1, 9, 8, 6), [0, 1, 0, 1], [1, 8, 7, 6], [1, 2, 3, 2]),
        strided_slice(
            "strided_slice_4d_masks_negative",
            (1, 7, 6, 5),
            [0, -2, 0, 0],
            [1, 0, 4, -1],
            [1, -1, 1, 1],
            begin_mask=0b0101,
            end_mask=0b0010,
        ),  # fmt: skip
        strided_slice(
            "strided_slice_4d_shrink_height",
            (1, 6, 5, 4),
            [0, 2, 0, 1],
            [1, 3, 5, 4],
            [1, 1, 1, 1],
            shrink_mask=0b0010,
        ),  # fmt: skip
        strided_slice("strided_slice_2d_shrink_row", (5, 9), [-1, 1], [0, 8], [1, 3], shrink_mask=0b01),
        strided_slice(
            "strided_slice_4d_shrink_channel_float",
            (2, 5, 4, 3),
            [0, 1, 0, -1],
            [2, 5, 4, 0],
            [1, 2, -1, 1],
            end_mask=0b0100,
            shrink_mask=0b1000,
            dtype="float32",
        ),  # fmt: skip
        strided_slice(
            "strided_slice_3d_reverse", (3, 4, 10), [0, 0, -1], [3, 4, 0], [1, 2, -2], end_mask=0b101
        ),
    ]
