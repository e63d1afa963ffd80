"""Elementwise unary ops: y[i] = f(x[i]). Kernel: kernels/src/ops/unary.rs (`map` / `map_inplace`
with the scalar function as a closure; attributes become constants in the closure)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    in_dtype,
    in_shape,
    register,
    require_dtype,
    rust_f32,
    rust_literal,
)

INTS = (DType.I8, DType.U8, DType.I16, DType.U16, DType.I32, DType.U32, DType.I64, DType.U64)
SIGNED_INTS = tuple(d for d in INTS if d.is_signed)
NUMERIC = (DType.F32, DType.F64, *INTS)


class Unary(Op):
    inplace = True
    dtypes: ClassVar[tuple[DType, ...]] = (DType.F32,)
    function: ClassVar[str]  # scalar function in kernels/src/ops/unary.rs
    attrs: ClassVar[tuple[tuple[str, float], ...]] = ()  # float attributes passed after x, with defaults

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        """Rust expression of the result for the input value `v`."""
        args = "".join(f", {rust_f32(float(node.attrs.get(a, d)))}" for a, d in self.attrs)
        return f"k::ops::unary::{self.function}(v{args})"

    def out_dtype(self, dtype: DType) -> DType:
        return dtype

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, self.dtypes)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), self.out_dtype(in_dtype(node, graph)))]

    def closure(self, node: Node, graph: Graph) -> str:
        dtype = in_dtype(node, graph)
        return f"|v: {dtype.rust}| {self.expr(node, graph, dtype)}"

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        return f"k::ops::unary::map({io.inputs[0]}, {io.outputs[0]}, {self.closure(node, graph)});"

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        return f"k::ops::unary::map_inplace({io.outputs[0]}, {self.closure(node, graph)});"


def _unary(op_name: str, function: str, attrs: tuple[tuple[str, float], ...] = ()) -> None:
    register(type(op_name, (Unary,), {"name": op_name, "function": function, "attrs": attrs}))


for _op, _fn in {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Erf": "erf",
    "Exp": "exp",
    "Log": "log",
    "Sqrt": "sqrt",
    "Reciprocal": "reciprocal",
    "Floor": "floor",
    "Ceil": "ceil",
    "Round": "round",
    "Sin": "sin",
    "Cos": "cos",
    "Tan": "tan",
    "Asin": "asin",
    "Acos": "acos",
    "Atan": "atan",
    "Sinh": "sinh",
    "Cosh": "cosh",
    "Asinh": "asinh",
    "Acosh": "acosh",
    "Atanh": "atanh",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "HardSwish": "hard_swish",
    "Mish": "mish",
}.items():
    _unary(_op, _fn)

_unary("LeakyRelu", "leaky_relu", (("alpha", 0.01),))
_unary("Elu", "elu", (("alpha", 1.0),))
_unary("Celu", "celu", (("alpha", 1.0),))
_unary("ThresholdedRelu", "thresholded_relu", (("alpha", 1.0),))
_unary("HardSigmoid", "hard_sigmoid", (("alpha", 0.2), ("beta", 0.5)))
_unary(
    "Selu",
    "selu",
    (("alpha", 1.6732632423543772848170429916717), ("gamma", 1.0507009873554804934193349852946)),
)


@register
class Gelu(Unary):
    name = "Gelu"

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        approximate = node.attrs.get("approximate", "none")
        if approximate not in ("none", "tanh"):
            raise OpUnsupported(f"approximate='{approximate}' (supported: none, tanh)")
        return f"k::ops::unary::{'gelu' if approximate == 'none' else 'gelu_tanh'}(v)"

    def check(self, node: Node, graph: Graph) -> None:
        super().check(node, graph)
        self.expr(node, graph, DType.F32)


@register
class Neg(Unary):
    name = "Neg"
    dtypes = (DType.F32, DType.F64, *SIGNED_INTS)

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        return "-v" if dtype.is_float else "v.wrapping_neg()"


@register
class Abs(Unary):
    name = "Abs"
    dtypes = (DType.F32, DType.F64, *INTS)

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        if dtype.is_float:
            return "if v < 0.0 { -v } else { v + 0.0 }"  # + 0.0 turns -0.0 into 0.0
        return "v.wrapping_abs()" if dtype.is_signed else "v"


@register
class Sign(Unary):
    name = "Sign"
    dtypes = (DType.F32, *INTS)

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        if dtype is DType.F32:
            return "k::ops::unary::sign(v)"
        return "v.signum()" if dtype.is_signed else f"{dtype.rust}::from(v > 0)"


@register
class IsNaN(Unary):
    name = "IsNaN"

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        return "k::ops::unary::is_nan(v)"

    def out_dtype(self, dtype: DType) -> DType:
        return DType.BOOL


@register
class IsInf(Unary):
    name = "IsInf"

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        positive = bool(node.attrs.get("detect_positive", 1))
        negative = bool(node.attrs.get("detect_negative", 1))
        return f"k::ops::unary::is_inf(v, {str(positive).lower()}, {str(negative).lower()})"

    def out_dtype(self, dtype: DType) -> DType:
        return DType.BOOL


@register
class Not(Unary):
    name = "Not"
    dtypes = (DType.BOOL,)

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        return "k::ops::unary::not(v)"


@register
class Clip(Unary):
    """Bounds from attributes (opset < 11) or inputs 1, 2 (constants become literals, run-time
    scalars are read once); an absent bound is ±inf (the type's extremes for integers). A Clip
    with constant bounds after a fusing op becomes its `k::Act::Clip`."""

    name = "Clip"
    dtypes = NUMERIC

    def runtime_bounds(self, node: Node, graph: Graph) -> list[int]:
        if graph.opset < 11:
            return []
        return [i for i in (1, 2) if node.input(i) and graph.const(node.input(i)) is None]

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0, *self.runtime_bounds(node, graph)]

    def bounds(self, node: Node, graph: Graph, inputs: list[str | None] | None = None) -> tuple[str, str]:
        """Rust expressions of (low, high); `inputs` are the operand variables (run-time bounds)."""
        dtype = in_dtype(node, graph)
        info = np.finfo(dtype.numpy) if dtype.is_float else np.iinfo(dtype.numpy)
        defaults = (-np.inf, np.inf) if dtype.is_float else (int(info.min), int(info.max))
        if graph.opset < 11:
            low, high = node.attrs.get("min", defaults[0]), node.attrs.get("max", defaults[1])
            return rust_literal(low, dtype), rust_literal(high, dtype)
        found = []
        for i, default in zip((1, 2), defaults, strict=True):
            name = node.input(i)
            if not name:
                found.append(rust_literal(default, dtype))
                continue
            t = graph.tensor(name)
            if t.size != 1 or t.dtype != dtype:
                raise OpUnsupported(
                    f"bound (input {i}) must be one {dtype.numpy_name}, not {t.dtype.numpy_name}{list(t.shape)}"
                )
            value = graph.const(name)
            found.append(
                f"{inputs[i] if inputs else 'bound'}[0]"
                if value is None
                else rust_literal(value.reshape(-1)[0].item(), dtype)
            )
        return found[0], found[1]

    def check(self, node: Node, graph: Graph) -> None:
        super().check(node, graph)
        self.bounds(node, graph)

    def expr(self, node: Node, graph: Graph, dtype: DType) -> str:
        return "k::ops::unary::clip(v, low, high)"

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        low, high = self.bounds(node, graph, io.inputs)
        return f"let (low, high) = ({low}, {high});\n{super().emit(node, graph, io)}"

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        low, high = self.bounds(node, graph, io.inputs)
        return f"let (low, high) = ({low}, {high});\n{super().emit_inplace(node, graph, io)}"
