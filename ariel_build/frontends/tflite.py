"""TFLite flatbuffer → IR.

TFLite activations are NHWC; the IR is NCHW (docs/architecture.md). Every 4-D activation is
therefore held as NCHW inside the graph: a 4-D graph input gets a Transpose to NCHW, a 4-D graph
output one back, and ops whose meaning depends on the axis order (Reshape, FullyConnected, Mean,
Concatenation, Pad, Softmax) translate their axes or go through NHWC explicitly.
Constant weights stored as int8/float16 in float models (weight-only quantization) are dequantized
at import. Ops whose runtime inputs are int8 become the quantized IR ops of
`ariel_build/ops/quantized/` (TFLite Micro's integer semantics); every int8 tensor carries its
`Tensor.quant` (docs/int8.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ariel_build.errors import ModelImportError
from ariel_build.ir import DType, Graph, Node, Quant, Tensor
from ariel_build.passes.infer_shapes import infer_shapes

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_AXIS_IN_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}

# TensorType enum of the TFLite schema.
TENSOR_TYPES = {
    0: DType.F32,
    2: DType.I32,
    3: DType.U8,
    4: DType.I64,
    6: DType.BOOL,
    7: DType.I16,
    9: DType.I8,
}
FLOAT16 = 1
FLOAT32, INT16, INT8 = 0, 7, 9
# Integer ops that also take int16 run-time inputs; others are int8 only.
INT16_INPUT_OPS = {"QUANTIZE"}

# Ops that only move data: their output has their input's quantization.
DATA_MOVEMENT = {"Transpose", "Reshape", "Concat", "Pad"}

# ActivationFunctionType enum: fused activation → (ONNX op, extra constant inputs).
FUSED_ACTIVATIONS: dict[int, tuple[str, tuple[float, float] | None]] = {
    1: ("Relu", None),
    2: ("Clip", (-1.0, 1.0)),
    3: ("Clip", (0.0, 6.0)),
    4: ("Tanh", None),
}


def _import_tflite() -> Any:
    try:
        import tflite
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise ModelImportError("the 'tflite' package is missing", fix="pip install tflite") from e
    return tflite


def _op_name(model: Any, op: Any) -> str:
    from tflite.utils import BUILTIN_OPCODE2NAME

    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == 32:  # CUSTOM
        return "CUSTOM." + (code.CustomCode() or b"?").decode()
    return BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")


def read_tflite(path: Path) -> Any:
    tflite = _import_tflite()
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise ModelImportError(f"cannot read the model: {e.strerror}", where=str(path)) from e
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelImportError(
            "not a TFLite flatbuffer (no TFL3 identifier)",
            where=str(path),
            fix="export the model with the TFLite converter",
        )
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        if model.SubgraphsLength() < 1:
            raise ValueError("no subgraph")
        model.Subgraphs(0).TensorsLength()
    except Exception as e:  # flatbuffers raises assorted errors on corrupt data
        raise ModelImportError(f"corrupt TFLite model ({e})", where=str(path)) from e
    return model


def list_ops(path: Path) -> Counter[str]:
    model = read_tflite(path)
    sg = model.Subgraphs(0)
    return Counter(_op_name(model, sg.Operators(i)) for i in range(sg.OperatorsLength()))


class _Importer:
    def __init__(self, model: Any, path: Path) -> None:
        self.model = model
        self.path = path
        self.sg = model.Subgraphs(0)
        self.g = Graph(name=path.stem, source=str(path), opset=13)
        self.names: dict[int, str] = {}  # TFLite tensor index → IR tensor name (NCHW when 4-D)
        self.taken: set[str] = set()  # names of tensors whose shape inference will create

    def unique(self, base: str) -> str:
        name, i = base, 0
        while name in self.taken or name in self.g.tensors:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    # --- tensors ---------------------------------------------------------------------------

    def tensor_name(self, index: int) -> str:
        return self.names[index]

    def shape(self, index: int) -> tuple[int, ...]:
        return (
            tuple(int(d) for d in self.sg.Tensors(index).ShapeAsNumpy())
            if self.sg.Tensors(index).ShapeLength()
            else ()
        )

    def constant_data(self, index: int) -> np.ndarray | None:
        t = self.sg.Tensors(index)
        raw = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw.size == 0:
            return None
        ttype = t.Type()
        if ttype == FLOAT16:
            data = np.frombuffer(raw.tobytes(), np.float16).astype(np.float32)
        elif ttype in TENSOR_TYPES:
            data = np.frombuffer(raw.tobytes(), TENSOR_TYPES[ttype].numpy)
        else:
            raise ModelImportError(
                f"tensor '{t.Name().decode()}' has unsupported type {ttype}", where=str(self.path)
            )
        return data.reshape(self.shape(index)).copy()

    def dequantized(self, index: int) -> np.ndarray | None:
        """A constant as float32: int8 weights of float ops are scaled (weight-only quantization)."""
        data = self.constant_data(index)
        if data is None or data.dtype == np.float32:
            return data
        q = self.sg.Tensors(index).Quantization()
        if q is None or q.ScaleLength() == 0:
            return data
        scale = q.ScaleAsNumpy().astype(np.float32)
        zero = q.ZeroPointAsNumpy().astype(np.float32) if q.ZeroPointLength() else np.zeros_like(scale)
        axis = q.QuantizedDimension()
        bshape = [1] * data.ndim
        if scale.size > 1:
            bshape[axis] = scale.size
        return ((data.astype(np.float32) - zero.reshape(bshape)) * scale.reshape(bshape)).astype(np.float32)

    def value(self, index: int, *, float_const: bool = True) -> str:
        """IR name of an op input, importing constants on first use."""
        if index in self.names:
            return self.names[index]
        data = self.dequantized(index) if float_const else self.constant_data(index)
        if data is None:
            raise ModelImportError(f"tensor {index} is read before it is written", where=str(self.path))
        name = self.const(data, self.label(index))
        self.names[index] = name
        return name

    def const(self, data: np.ndarray, base: str, quant: Quant | None = None) -> str:
        name = self.unique(base)
        self.g.add_tensor(Tensor(name, tuple(data.shape), DType.from_numpy(data.dtype), data, quant))
        return name

    def quant(
        self, index: int, perm: tuple[int, ...] | None = None, *, any_type: bool = False
    ) -> Quant | None:
        """Quantization of TFLite tensor `index` (its axis moved by `perm`, if the data is): of int8
        and int16 tensors, or, with `any_type`, of any tensor (an int32 QUANTIZE output)."""
        t = self.sg.Tensors(index)
        q = t.Quantization()
        if (t.Type() not in (INT8, INT16) and not any_type) or q is None or q.ScaleLength() == 0:
            return None
        scale = q.ScaleAsNumpy().astype(np.float32)
        zero = (
            q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(scale.size, np.int64)
        )
        axis = None
        if scale.size > 1:
            axis = int(q.QuantizedDimension())
            axis = perm.index(axis) if perm else axis
        return Quant(scale, zero, axis)

    def declare(self, name: str, quant: Quant | None) -> None:
        """Record the quantization of a tensor shape inference will create."""
        if quant is not None:
            self.g.add_tensor(Tensor(name, (), DType.I8, quant=quant))

    def quant_of(self, name: str) -> Quant | None:
        t = self.g.tensors.get(name)
        return None if t is None else t.quant

    def label(self, index: int) -> str:
        name = self.sg.Tensors(index).Name()
        return (name or b"").decode(errors="replace").split(";")[0] or f"t{index}"

    # --- nodes -----------------------------------------------------------------------------

    def node(
        self,
        op: str,
        inputs: list[str],
        name: str,
        output: str | None = None,
        quant: Quant | None = None,
        **attrs: Any,
    ) -> str:
        """Appends a node; its output gets `quant`, or the input's quantization for data movement."""
        out = output or self.unique(f"{name}_{op.lower()}")
        self.g.nodes.append(Node(op, name, inputs, [out], attrs))
        if quant is None and op in DATA_MOVEMENT and inputs:
            quant = self.quant_of(inputs[0])
        if quant is not None and self.quant_of(out) is None:
            self.declare(out, quant)
        return out

    def to_nhwc(self, name: str, label: str) -> str:
        return self.node("Transpose", [name], f"{label}/to_nhwc", perm=list(NCHW_TO_NHWC))

    def to_nchw(self, name: str, label: str, output: str | None = None) -> str:
        return self.node("Transpose", [name], f"{label}/to_nchw", output, perm=list(NHWC_TO_NCHW))

    def define(self, index: int, name: str) -> None:
        self.names[index] = name

    def output_name(self, index: int) -> str:
        name = self.unique(self.label(index))
        self.names[index] = name
        self.declare(name, self.quant(index))
        return name

    def activation(self, x: str, fused: int, label: str, output: str) -> str:
        """Append the fused activation (if any) so that the result is named `output`."""
        if fused == 0:
            return x
        if fused not in FUSED_ACTIVATIONS:
            raise _Unsupported(f"fused activation {fused} is not supported")
        op, bounds = FUSED_ACTIVATIONS[fused]
        inputs = [x]
        if bounds:
            inputs += [
                self.const(np.float32(bounds[0]), f"{label}/min"),
                self.const(np.float32(bounds[1]), f"{label}/max"),
            ]
        return self.node(op, inputs, f"{label}/{op.lower()}", output)

    def finish_with_activation(
        self, op: str, inputs: list[str], label: str, out_index: int, fused: int, **attrs: Any
    ) -> None:
        final = self.output_name(out_index)
        if fused == 0:
            self.node(op, inputs, label, final, **attrs)
        else:
            raw = self.node(op, inputs, label, **attrs)
            self.activation(raw, fused, label, final)


class _Unsupported(Exception):
    pass


def _options(op: Any, cls_name: str) -> Any:
    tflite = _import_tflite()
    table = op.BuiltinOptions()
    opts = getattr(tflite, cls_name)()
    if table is not None:
        opts.Init(table.Bytes, table.Pos)
    return opts


def _padding(code: int) -> str:
    return "SAME_UPPER" if code == 0 else "VALID"


Converter = Callable[[_Importer, Any, list[int], list[int], str], None]
CONVERTERS: dict[str, Converter] = {}  # float ops
QCONVERTERS: dict[str, Converter] = {}  # integer (quantized) ops


def _registrar(table: dict[str, Converter]) -> Callable[..., Callable[[Converter], Converter]]:
    """A decorator factory: `@deco("OP_A", "OP_B")` enters the converter under those op names."""

    def register(*names: str) -> Callable[[Converter], Converter]:
        def wrap(fn: Converter) -> Converter:
            for n in names:
                table[n] = fn
            return fn

        return wrap

    return register


converter = _registrar(CONVERTERS)
qconverter = _registrar(QCONVERTERS)


def _bias(imp: _Importer, ins: list[int]) -> list[str]:
    return [imp.value(ins[2])] if len(ins) > 2 and ins[2] >= 0 else []


@converter("CONV_2D", "DEPTHWISE_CONV_2D")
def _conv(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    depthwise = _op_name(imp.model, op) == "DEPTHWISE_CONV_2D"
    o = _options(op, "DepthwiseConv2DOptions" if depthwise else "Conv2DOptions")
    w = imp.dequantized(ins[1])
    if w is None:
        raise _Unsupported("filter must be a constant")
    cin = imp.shape(ins[0])[3]
    # TFLite filters: OHWI (conv) or 1HW(C*m) (depthwise) → OIHW with groups.
    oihw = w.transpose(3, 0, 1, 2) if depthwise else w.transpose(0, 3, 1, 2)
    weights = imp.const(np.ascontiguousarray(oihw), f"{label}/weights")
    imp.finish_with_activation(
        "Conv", [imp.value(ins[0]), weights, *_bias(imp, ins)], label, outs[0], o.FusedActivationFunction(),
        kernel_shape=list(w.shape[1:3]), strides=[o.StrideH(), o.StrideW()], auto_pad=_padding(o.Padding()),
        dilations=[o.DilationHFactor(), o.DilationWFactor()], group=cin if depthwise else cin // w.shape[3],
    )  # fmt: skip


@converter("AVERAGE_POOL_2D", "MAX_POOL_2D")
def _pool(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "Pool2DOptions")
    kind = "AveragePool" if _op_name(imp.model, op) == "AVERAGE_POOL_2D" else "MaxPool"
    imp.finish_with_activation(
        kind, [imp.value(ins[0])], label, outs[0], o.FusedActivationFunction(),
        kernel_shape=[o.FilterHeight(), o.FilterWidth()], strides=[o.StrideH(), o.StrideW()],
        auto_pad=_padding(o.Padding()),
    )  # fmt: skip


@converter("FULLY_CONNECTED")
def _fully_connected(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "FullyConnectedOptions")
    w = imp.dequantized(ins[1])
    if w is None:
        raise _Unsupported("weights must be a constant")
    x = imp.value(ins[0])
    in_shape = imp.shape(ins[0])
    if len(in_shape) == 4:
        x = imp.to_nhwc(x, label)
    if len(in_shape) != 2:
        x = imp.node(
            "Reshape",
            [x, imp.const(np.array([-1, w.shape[1]], np.int64), f"{label}/shape")],
            f"{label}/flatten",
        )
    out_shape = imp.shape(outs[0])
    if len(out_shape) == 2:
        imp.finish_with_activation(
            "Gemm", [x, imp.const(w, f"{label}/weights"), *_bias(imp, ins)], label, outs[0],
            o.FusedActivationFunction(), transB=1,
        )  # fmt: skip
        return
    y = imp.node("Gemm", [x, imp.const(w, f"{label}/weights"), *_bias(imp, ins)], label, transB=1)
    y = imp.activation(y, o.FusedActivationFunction(), label, imp.unique(f"{label}_act"))
    _reshape_to(imp, y, outs[0], label)


def _reshape_to(imp: _Importer, x: str, out_index: int, label: str) -> None:
    """Reshape an NHWC-ordered (or rank ≠ 4) value into TFLite tensor `out_index`."""
    shape = imp.shape(out_index)
    target = imp.const(np.array(shape, np.int64), f"{label}/shape")
    if len(shape) == 4:
        nhwc = imp.node("Reshape", [x, target], f"{label}/reshape")
        imp.to_nchw(nhwc, label, imp.output_name(out_index))
    else:
        imp.node("Reshape", [x, target], label, imp.output_name(out_index))


@converter("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def _reshape(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    x = imp.value(ins[0])
    if len(imp.shape(ins[0])) == 4:
        x = imp.to_nhwc(x, label)
    _reshape_to(imp, x, outs[0], label)


@converter("SOFTMAX")
def _softmax(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    beta = _options(op, "SoftmaxOptions").Beta()
    x = imp.value(ins[0])
    if beta != 1.0:
        x = imp.node("Mul", [x, imp.const(np.float32(beta), f"{label}/beta")], f"{label}/beta")
    axis = 1 if len(imp.shape(ins[0])) == 4 else -1
    imp.node("Softmax", [x], label, imp.output_name(outs[0]), axis=axis)


@converter("ADD", "SUB", "MUL", "DIV")
def _binary(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    name = _op_name(imp.model, op)
    opts = _options(
        op, {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions"}[name]
    )
    out_rank = len(imp.shape(outs[0]))
    operands = []
    for i in ins[:2]:
        rank = len(imp.shape(i))
        if out_rank == 4 and rank < 4 or (rank == 4 and i not in imp.names):
            data = imp.dequantized(i)
            if data is None:
                raise _Unsupported("a lower-rank runtime operand of a 4-D op is not supported")
            data = data.reshape((1,) * (4 - data.ndim) + data.shape).transpose(NHWC_TO_NCHW)
            operands.append(imp.const(np.ascontiguousarray(data), f"{label}/operand"))
        else:
            operands.append(imp.value(i))
    op_type = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div"}[name]
    imp.finish_with_activation(op_type, operands, label, outs[0], opts.FusedActivationFunction())


@converter("RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH")
def _activation(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    fused = {"RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}.get(_op_name(imp.model, op))
    x = imp.value(ins[0])
    if fused is None:
        imp.node("Sigmoid", [x], label, imp.output_name(outs[0]))
    else:
        imp.activation(x, fused, label, imp.output_name(outs[0]))


@converter("CONCATENATION")
def _concat(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "ConcatenationOptions")
    rank = len(imp.shape(outs[0]))
    axis = o.Axis() % rank
    if rank == 4:
        axis = NHWC_AXIS_IN_NCHW[axis]
    imp.finish_with_activation(
        "Concat", [imp.value(i) for i in ins], label, outs[0], o.FusedActivationFunction(), axis=axis
    )


@converter("PAD")
def _pad(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    pads = imp.constant_data(ins[1])
    if pads is None:
        raise _Unsupported("paddings must be a constant")
    pads = pads.reshape(-1, 2).astype(np.int64)
    if len(pads) == 4:
        pads = pads[list(NHWC_TO_NCHW)]
    onnx_pads = imp.const(np.concatenate([pads[:, 0], pads[:, 1]]), f"{label}/pads")
    imp.node("Pad", [imp.value(ins[0]), onnx_pads], label, imp.output_name(outs[0]))


@converter("MEAN")
def _mean(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    axes = imp.constant_data(ins[1])
    if axes is None:
        raise _Unsupported("axes must be a constant")
    rank = len(imp.shape(ins[0]))
    axes = [int(a) % rank for a in axes.reshape(-1)]
    keep = bool(_options(op, "ReducerOptions").KeepDims())
    if rank != 4:
        imp.node(
            "ReduceMean", [imp.value(ins[0])], label, imp.output_name(outs[0]), axes=axes, keepdims=int(keep)
        )
        return
    nchw_axes = sorted(NHWC_AXIS_IN_NCHW[a] for a in axes)
    if keep:
        imp.node(
            "ReduceMean", [imp.value(ins[0])], label, imp.output_name(outs[0]), axes=nchw_axes, keepdims=1
        )
        return
    y = imp.node("ReduceMean", [imp.value(ins[0])], label, axes=nchw_axes, keepdims=1)
    _reshape_to(imp, imp.to_nhwc(y, label), outs[0], label)


@converter("DEQUANTIZE")
def _dequantize(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    data = imp.dequantized(ins[0])
    if data is None or imp.sg.Tensors(ins[0]).Type() not in (FLOAT16, 9, 3):
        raise _Unsupported("only constant float16/int8 weights can be dequantized so far")
    if data.ndim == 4:
        data = np.ascontiguousarray(data.transpose(NHWC_TO_NCHW))
    imp.names[outs[0]] = imp.const(data, imp.label(outs[0]))


# UNIDIRECTIONAL_SEQUENCE_LSTM inputs: 1-4 input weights and 5-8 recurrent weights of the input,
# forget, cell and output gates, 12-15 their biases, 18-19 hidden and cell state (variables).
LSTM_OPTIONAL = {
    (9, 10, 11): "peephole connections",
    (16, 17): "a projection layer",
    (20, 21, 22, 23): "layer normalization",
}
LSTM_TANH = 4


def _lstm_attrs(imp: _Importer, op: Any, ins: list[int]) -> dict[str, Any]:
    """Checks the LSTM variant (TFLite Micro's: no peepholes, projection, layer norm or CIFG) and
    returns the attributes shared by the f32 and int8 ops."""
    if len(ins) != 24:
        raise _Unsupported(f"{len(ins)} inputs (24 expected)")
    for indices, feature in LSTM_OPTIONAL.items():
        if any(ins[i] >= 0 for i in indices):
            raise _Unsupported(f"{feature} is not supported")
    if ins[1] < 0 or ins[5] < 0 or ins[12] < 0:
        raise _Unsupported("coupled input and forget gates (CIFG) are not supported")
    for i in (18, 19):
        if imp.constant_data(ins[i]) is not None or not imp.sg.Tensors(ins[i]).IsVariable():
            raise _Unsupported(f"state tensor '{imp.label(ins[i])}' must be a variable without initial data")
    o = _options(op, "UnidirectionalSequenceLSTMOptions")
    if o.ProjClip() != 0.0:
        raise _Unsupported("proj_clip without a projection layer is not supported")
    if o.FusedActivationFunction() != LSTM_TANH:
        raise _Unsupported(f"fused activation {o.FusedActivationFunction()} (only TANH is supported)")
    return {"time_major": int(o.TimeMajor()), "cell_clip": float(o.CellClip())}


def _stacked(imp: _Importer, indices: list[int], what: str) -> np.ndarray:
    """The four gates' constants (input, forget, cell, output) stacked along axis 0."""
    parts = [imp.dequantized(i) for i in indices]
    if any(p is None for p in parts):
        raise _Unsupported(f"{what} must be constants")
    return np.concatenate([p for p in parts if p is not None]).astype(np.float32)


@converter("UNIDIRECTIONAL_SEQUENCE_LSTM")
def _lstm(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    attrs = _lstm_attrs(imp, op, ins)
    inputs = [
        imp.value(ins[0]),
        imp.const(_stacked(imp, ins[1:5], "input weights"), f"{label}/weights"),
        imp.const(_stacked(imp, ins[5:9], "recurrent weights"), f"{label}/recurrent_weights"),
        imp.const(_stacked(imp, ins[12:16], "biases"), f"{label}/bias"),
    ]
    state = imp.unique(f"{label}/state")
    imp.g.nodes.append(Node("SequenceLstm", label, inputs, [imp.output_name(outs[0]), state], attrs))


# --- int8 (fully quantized) models ---------------------------------------------------------------


FUSED_ACTIVATION_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
SVDF_CONSTANTS = ("weights_feature", "weights_time", "bias")


def _fused(code: int) -> str:
    if code not in FUSED_ACTIVATION_NAMES:
        raise _Unsupported(f"fused activation {code} is not supported for int8")
    return FUSED_ACTIVATION_NAMES[code]


def _qconst(imp: _Importer, index: int, label: str, perm: tuple[int, ...] | None = None) -> str:
    """An integer constant (weights, bias) as stored, with its quantization; `perm` transposes it."""
    data = imp.constant_data(index)
    if data is None:
        raise _Unsupported(f"tensor '{imp.label(index)}' must be a constant")
    if perm is not None:
        data = np.ascontiguousarray(data.transpose(perm))
    return imp.const(data, label, imp.quant(index, perm))


def _qbias(imp: _Importer, ins: list[int], label: str) -> list[str]:
    return [_qconst(imp, ins[2], f"{label}/bias")] if len(ins) > 2 and ins[2] >= 0 else []


def _qoperand(imp: _Importer, index: int, out_rank: int, label: str) -> str:
    """A runtime value, or a constant operand broadcast like the (NCHW-held) output."""
    if index in imp.names and imp.g.const(imp.names[index]) is None:
        return imp.names[index]
    data = imp.constant_data(index)
    if data is None:
        raise _Unsupported(f"tensor '{imp.label(index)}' is read before it is written")
    if out_rank == 4:
        data = np.ascontiguousarray(data.reshape((1,) * (4 - data.ndim) + data.shape).transpose(NHWC_TO_NCHW))
    return imp.const(data, f"{label}/operand", imp.quant(index))


@qconverter("CONV_2D", "DEPTHWISE_CONV_2D")
def _qconv(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    depthwise = _op_name(imp.model, op) == "DEPTHWISE_CONV_2D"
    o = _options(op, "DepthwiseConv2DOptions" if depthwise else "Conv2DOptions")
    w_shape = imp.shape(ins[1])  # conv [O, H, W, I]; depthwise [1, H, W, C * multiplier]
    weights = _qconst(imp, ins[1], f"{label}/weights", (3, 0, 1, 2) if depthwise else (0, 3, 1, 2))
    cin = imp.shape(ins[0])[3]
    imp.node(
        "QConv", [imp.value(ins[0]), weights, *_qbias(imp, ins, label)], label, imp.output_name(outs[0]),
        kernel_shape=list(w_shape[1:3]), strides=[o.StrideH(), o.StrideW()], auto_pad=_padding(o.Padding()),
        dilations=[o.DilationHFactor(), o.DilationWFactor()], group=cin if depthwise else cin // w_shape[3],
        activation=_fused(o.FusedActivationFunction()),
    )  # fmt: skip


@qconverter("FULLY_CONNECTED")
def _qfully_connected(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "FullyConnectedOptions")
    depth = imp.shape(ins[1])[1]
    x = imp.value(ins[0])
    in_shape = imp.shape(ins[0])
    if len(in_shape) == 4:
        x = imp.to_nhwc(x, label)
    if len(in_shape) != 2:
        x = imp.node(
            "Reshape", [x, imp.const(np.array([-1, depth], np.int64), f"{label}/shape")], f"{label}/flatten"
        )
    inputs = [x, _qconst(imp, ins[1], f"{label}/weights"), *_qbias(imp, ins, label)]
    activation = _fused(o.FusedActivationFunction())
    if len(imp.shape(outs[0])) == 2:
        imp.node("QFullyConnected", inputs, label, imp.output_name(outs[0]), activation=activation)
        return
    y = imp.node("QFullyConnected", inputs, label, quant=imp.quant(outs[0]), activation=activation)
    _reshape_to(imp, y, outs[0], label)


@qconverter("AVERAGE_POOL_2D", "MAX_POOL_2D")
def _qpool(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "Pool2DOptions")
    kind = "QAveragePool" if _op_name(imp.model, op) == "AVERAGE_POOL_2D" else "QMaxPool"
    imp.node(
        kind, [imp.value(ins[0])], label, imp.output_name(outs[0]),
        kernel_shape=[o.FilterHeight(), o.FilterWidth()], strides=[o.StrideH(), o.StrideW()],
        auto_pad=_padding(o.Padding()), activation=_fused(o.FusedActivationFunction()),
    )  # fmt: skip


@qconverter("SOFTMAX")
def _qsoftmax(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    beta = _options(op, "SoftmaxOptions").Beta()
    output_dtype = _integer_dtype(imp, outs[0])
    x = imp.value(ins[0])
    if len(imp.shape(ins[0])) != 4:
        imp.node("QSoftmax", [x], label, imp.output_name(outs[0]), beta=beta, output_dtype=output_dtype)
        return
    y = imp.node(
        "QSoftmax",
        [imp.to_nhwc(x, label)],
        label,
        quant=imp.quant(outs[0]),
        beta=beta,
        output_dtype=output_dtype,
    )
    imp.to_nchw(y, label, imp.output_name(outs[0]))


@qconverter("ADD", "SUB", "MUL")
def _qbinary(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    name = _op_name(imp.model, op)
    opts = _options(op, {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[name])
    out_rank = len(imp.shape(outs[0]))
    operands = [_qoperand(imp, i, out_rank, label) for i in ins[:2]]
    attrs: dict[str, Any] = {"activation": _fused(opts.FusedActivationFunction())}
    if name != "MUL":
        attrs["subtract"] = int(name == "SUB")
    imp.node("QMul" if name == "MUL" else "QAdd", operands, label, imp.output_name(outs[0]), **attrs)


@qconverter("LOGISTIC", "TANH")
def _qfunction(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    kind = "QLogistic" if _op_name(imp.model, op) == "LOGISTIC" else "QTanh"
    imp.node(kind, [imp.value(ins[0])], label, imp.output_name(outs[0]))


@qconverter("RELU", "RELU6")
def _qrelu(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    imp.node(
        "QRelu", [imp.value(ins[0])], label, imp.output_name(outs[0]), activation=_op_name(imp.model, op)
    )


@qconverter("LEAKY_RELU")
def _qleaky_relu(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    alpha = float(np.float32(_options(op, "LeakyReluOptions").Alpha()))
    imp.node("QLeakyRelu", [imp.value(ins[0])], label, imp.output_name(outs[0]), alpha=alpha)


def _integer_dtype(imp: _Importer, index: int) -> str:
    """Numpy name of an integer tensor's element type (the ops check which they support)."""
    ttype = imp.sg.Tensors(index).Type()
    if ttype not in TENSOR_TYPES or not TENSOR_TYPES[ttype].is_int:
        raise _Unsupported(f"output type {ttype} is not an integer type")
    return TENSOR_TYPES[ttype].numpy_name


@qconverter("QUANTIZE")
def _quantize(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    imp.node(
        "Quantize", [imp.value(ins[0])], label, imp.output_name(outs[0]),
        quant=imp.quant(outs[0], any_type=True), output_dtype=_integer_dtype(imp, outs[0]),
    )  # fmt: skip


@qconverter("SVDF")
def _qsvdf(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    o = _options(op, "SVDFOptions")
    if len(ins) < 5 or min(ins) < 0:
        raise _Unsupported("SVDF needs its bias and activation state inputs")
    if imp.constant_data(ins[4]) is not None or not imp.sg.Tensors(ins[4]).IsVariable():
        raise _Unsupported(f"state tensor '{imp.label(ins[4])}' must be a variable without initial data")
    state = imp.unique(f"{label}/state")
    imp.declare(state, imp.quant(ins[4]))
    inputs = [
        imp.value(ins[0]),
        *(_qconst(imp, i, f"{label}/{part}") for i, part in zip(ins[1:4], SVDF_CONSTANTS, strict=True)),
    ]
    imp.g.nodes.append(Node("QSvdf", label, inputs, [imp.output_name(outs[0]), state], {"rank": o.Rank()}))


@qconverter("DEQUANTIZE")
def _qdequantize(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    imp.node("Dequantize", [imp.value(ins[0])], label, imp.output_name(outs[0]))


@qconverter("CONCATENATION")
def _qconcat(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    out_q = imp.quant(outs[0])
    for i in ins:
        q = imp.quant(i)
        if out_q is None or q is None or q.per_tensor != out_q.per_tensor:
            raise _Unsupported("int8 inputs with quantization different from the output's are not supported")
    o = _options(op, "ConcatenationOptions")
    if o.FusedActivationFunction() != 0:
        raise _Unsupported("a fused activation on int8 concatenation is not supported")
    _concat(imp, op, ins, outs, label)


@qconverter("PAD", "PADV2")
def _qpad(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    q = imp.quant(outs[0])
    if q is None or imp.quant(ins[0]) is None or imp.quant(ins[0]).per_tensor != q.per_tensor:  # type: ignore[union-attr]
        raise _Unsupported("input and output quantization must be equal")
    if len(ins) > 2 and ins[2] >= 0:
        value = imp.constant_data(ins[2])
        if value is None:
            raise _Unsupported("the pad value must be a constant")
        value = value.reshape(-1)[:1].astype(np.int8).reshape(())
    else:
        value = np.int8(q.per_tensor[1])
    _pad(imp, op, ins[:2], outs, label)
    imp.g.nodes[-1].inputs.append(imp.const(np.asarray(value, np.int8), f"{label}/value"))


@qconverter("MEAN")
def _qmean(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    axes = imp.constant_data(ins[1])
    if axes is None:
        raise _Unsupported("axes must be a constant")
    rank = len(imp.shape(ins[0]))
    axes = sorted({int(a) % rank for a in axes.reshape(-1)})
    keep = bool(_options(op, "ReducerOptions").KeepDims())
    x = imp.value(ins[0])
    if rank != 4:
        imp.node("QMean", [x], label, imp.output_name(outs[0]), axes=axes, keepdims=int(keep))
        return
    nchw_axes = sorted(NHWC_AXIS_IN_NCHW[a] for a in axes)
    if keep:
        imp.node("QMean", [x], label, imp.output_name(outs[0]), axes=nchw_axes, keepdims=1)
        return
    y = imp.node("QMean", [x], label, quant=imp.quant(outs[0]), axes=nchw_axes, keepdims=1)
    _reshape_to(imp, imp.to_nhwc(y, label), outs[0], label)


LSTM_CELL_TYPE, LSTM_BIAS_TYPE = 7, 2  # int16 cell state, int32 biases (TFLite Micro's int8 LSTM)


def _per_tensor_quant(imp: _Importer, index: int, dtype: int, what: str) -> tuple[float, int]:
    """(scale, zero point) of TFLite tensor `index`, which must have type `dtype`."""
    t = imp.sg.Tensors(index)
    q = t.Quantization()
    if t.Type() != dtype or q is None or q.ScaleLength() != 1:
        raise _Unsupported(
            f"{what} '{imp.label(index)}' must be per-tensor quantized {TENSOR_TYPES[dtype].numpy_name}"
        )
    return float(q.ScaleAsNumpy()[0]), int(q.ZeroPointAsNumpy()[0]) if q.ZeroPointLength() else 0


def _stacked_quantized(imp: _Importer, indices: list[int], dtype: int, what: str, label: str) -> str:
    """The four gates' integer constants stacked along axis 0, quantized per row with their gate's
    (per-tensor) scale."""
    parts, scales = [], []
    for i in indices:
        scale, zero = _per_tensor_quant(imp, i, dtype, what)
        data = imp.constant_data(i)
        if data is None or zero != 0:
            raise _Unsupported(f"{what} must be constants with zero point 0")
        parts.append(data)
        scales.append(np.full(data.shape[0], scale, np.float32))
    scale = np.concatenate(scales)
    quant = Quant(scale, np.zeros(scale.size, np.int64), 0)
    return imp.const(np.concatenate(parts), label, quant)


@qconverter("UNIDIRECTIONAL_SEQUENCE_LSTM")
def _qlstm(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    attrs = _lstm_attrs(imp, op, ins)
    hidden = _per_tensor_quant(imp, ins[18], INT8, "hidden state")
    cell_scale, _ = _per_tensor_quant(imp, ins[19], LSTM_CELL_TYPE, "cell state")
    if _per_tensor_quant(imp, outs[0], INT8, "output") != hidden:
        raise _Unsupported("the output must have the hidden state's quantization")
    inputs = [
        imp.value(ins[0]),
        _stacked_quantized(imp, ins[1:5], INT8, "input weights", f"{label}/weights"),
        _stacked_quantized(imp, ins[5:9], INT8, "recurrent weights", f"{label}/recurrent_weights"),
        _stacked_quantized(imp, ins[12:16], LSTM_BIAS_TYPE, "biases", f"{label}/bias"),
    ]
    attrs.update(hidden_scale=hidden[0], hidden_zero_point=hidden[1], cell_scale=cell_scale)
    state = imp.unique(f"{label}/state")
    imp.g.nodes.append(Node("QSequenceLstm", label, inputs, [imp.output_name(outs[0]), state], attrs))


QCONVERTERS["RESHAPE"] = QCONVERTERS["SQUEEZE"] = QCONVERTERS["EXPAND_DIMS"] = CONVERTERS["RESHAPE"]


def _require_same_quant(imp: _Importer, ins: list[int], outs: list[int]) -> None:
    """int8 data movement: the output's quantization must be the input's (nothing is rescaled)."""
    q_in, q_out = imp.quant(ins[0]), imp.quant(outs[0])
    if q_in is None or q_out is None or q_in.axis is not None or q_in.per_tensor != q_out.per_tensor:
        raise _Unsupported("int8 output quantization differs from the input's (no requantization here)")


@qconverter("TRANSPOSE")
@converter("TRANSPOSE")
def _transpose(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    if imp.sg.Tensors(ins[0]).Type() == INT8:
        _require_same_quant(imp, ins, outs)
    perm_data = imp.constant_data(ins[1])
    if perm_data is None:
        raise _Unsupported("perm must be a constant")
    rank = len(imp.shape(ins[0]))
    perm = [int(p) % rank for p in perm_data.reshape(-1)] if rank else []
    if sorted(perm) != list(range(rank)):
        raise _Unsupported(f"perm {perm_data.reshape(-1).tolist()} is not a permutation of {rank} axes")
    # The IR holds 4-D values NCHW: read through NCHW→NHWC, write back NHWC→NCHW, as one Transpose.
    held = list(NCHW_TO_NHWC) if rank == 4 else list(range(rank))
    composed = [held[p] for p in perm]
    if rank == 4:
        composed = [composed[i] for i in NHWC_TO_NCHW]
    imp.node("Transpose", [imp.value(ins[0])], label, imp.output_name(outs[0]), perm=composed)


@qconverter("STRIDED_SLICE")
@converter("STRIDED_SLICE")
def _strided_slice(imp: _Importer, op: Any, ins: list[int], outs: list[int], label: str) -> None:
    if imp.sg.Tensors(ins[0]).Type() == INT8:
        _require_same_quant(imp, ins, outs)
    o = _options(op, "StridedSliceOptions")
    if o.EllipsisMask() or o.NewAxisMask() or o.Offset():
        raise _Unsupported("ellipsis_mask, new_axis_mask and offset are not supported")
    shape = imp.shape(ins[0])
    values = [imp.constant_data(i) for i in ins[1:4]]
    if len(values) < 3 or any(v is None for v in values):
        raise _Unsupported("begin, end and strides must be constants")
    begin, end, strides = ([int(v) for v in data.reshape(-1)] for data in values if data is not None)
    if not len(begin) == len(end) == len(strides) == len(shape):
        raise _Unsupported(f"begin/end/strides must have one value per axis of the input {list(shape)}")
    last = 2**62
    starts, ends = [], []
    for axis, dim in enumerate(shape):
        bit = 1 << axis
        if o.ShrinkAxisMask() & bit:  # one element, at `begin`
            first = begin[axis] + dim if begin[axis] < 0 else begin[axis]
            if not 0 <= first < dim:
                raise _Unsupported(f"shrunk axis {axis} index {begin[axis]} is outside [0, {dim})")
            starts.append(first)
            ends.append(first + 1)
            strides[axis] = 1
            continue
        forward = strides[axis] > 0
        starts.append((0 if forward else last) if o.BeginMask() & bit else begin[axis])
        ends.append((last if forward else -last) if o.EndMask() & bit else end[axis])
    if 0 in strides:
        raise _Unsupported("a stride of 0")
    axes = list(range(len(shape)))
    if len(shape) == 4:
        axes = [NHWC_AXIS_IN_NCHW[a] for a in axes]
    params = [imp.const(np.array(v, np.int64), f"{label}/{k}") for k, v in
              (("starts", starts), ("ends", ends), ("axes", axes), ("steps", strides))]  # fmt: skip
    x = imp.value(ins[0])
    if not o.ShrinkAxisMask():
        imp.node("Slice", [x, *params], label, imp.output_name(outs[0]))
        return
    y = imp.node("Slice", [x, *params], label, quant=imp.quant(outs[0]))
    _reshape_to(imp, imp.to_nhwc(y, label) if len(shape) == 4 else y, outs[0], label)


def _converter_for(imp: _Importer, name: str, ins: list[int]) -> Converter:
    """The float converter, or the int8 one when the op's runtime inputs are int8."""
    runtime = {imp.sg.Tensors(i).Type() for i in ins if i in imp.names and imp.g.const(imp.names[i]) is None}
    if runtime <= {FLOAT32} and name != "QUANTIZE":
        convert = CONVERTERS.get(name)
    elif runtime <= {INT8} or (name in INT16_INPUT_OPS and runtime <= {FLOAT32, INT8, INT16}):
        convert = QCONVERTERS.get(name)
    else:
        types = ", ".join(
            sorted(TENSOR_TYPES[t].numpy_name if t in TENSOR_TYPES else str(t) for t in runtime)
        )
        raise _Unsupported(f"{types} execution is not supported (float32 and int8 are)")
    if convert is None:
        raise _Unsupported("no implementation" + (" for int8" if INT8 in runtime else ""))
    return convert


def load_tflite(path: Path, input_shapes: dict[str, tuple[int, ...]]) -> Graph:
    model = read_tflite(path)
    imp = _Importer(model, path)
    sg, g = imp.sg, imp.g
    if input_shapes:
        raise ModelImportError(
            "input_shapes are not supported for TFLite models (their shapes are static)",
            where=str(path),
            fix="remove input_shapes for this model",
        )
    for index in sg.InputsAsNumpy():
        t = sg.Tensors(index)
        if t.Type() not in TENSOR_TYPES:
            raise ModelImportError(
                f"input '{t.Name().decode()}' has unsupported type {t.Type()}", where=str(path)
            )
        name = imp.output_name(int(index))
        shape = imp.shape(int(index))
        g.add_tensor(Tensor(name, shape, TENSOR_TYPES[t.Type()], quant=imp.quant(int(index))))
        g.inputs.append(name)
        if len(shape) == 4:
            imp.names[int(index)] = imp.to_nchw(name, name)
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        name = _op_name(model, op)
        ins = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(i) for i in op.OutputsAsNumpy()]
        label = imp.label(outs[0]) if outs else f"op{k}"
        try:
            convert = _converter_for(imp, name, ins)
            first = len(g.nodes)
            convert(imp, op, ins, outs, label)
            g.source_ops.update((n.name, name) for n in g.nodes[first:])
        except _Unsupported as e:
            g.nodes.append(
                Node(name, label, [], [imp.output_name(o) for o in outs], {"__unsupported__": str(e)})
            )
    outputs = []
    for index in sg.OutputsAsNumpy():
        index = int(index)
        name = imp.names.get(index)
        if name is None:
            raise ModelImportError(f"output tensor {index} is never produced", where=str(path))
        if len(imp.shape(index)) == 4:
            label = name
            internal = imp.unique(f"{name}_nchw")
            imp.declare(internal, imp.quant_of(name))
            for n in g.nodes:
                n.outputs = [internal if o == name else o for o in n.outputs]
                n.inputs = [internal if i == name else i for i in n.inputs]
            imp.node("Transpose", [internal], f"{label}/to_nhwc", name, perm=list(NCHW_TO_NHWC))
        outputs.append(name)
    g.outputs = outputs
    infer_shapes(g)
    return g
