"""Elementwise ops with numpy (multidirectional) broadcasting: arithmetic, comparisons, logic,
variadic Sum/Mean/Max/Min, PRelu, Where. Kernel: kernels/src/ops/binary.rs.

The broadcast is collapsed at build time into a `Broadcast` literal: output dims of size 1 are
dropped and neighbouring dims where every operand has the same pattern (full or broadcast) merge,
so a same-shape op is one contiguous row and a per-channel bias add is `[N*C, H*W]` rows of
"slice op scalar"."""

from __future__ import annotations

from typing import ClassVar

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import (
    Op,
    Operands,
    OpUnsupported,
    Shape,
    broadcast_shapes,
    in_dtype,
    in_shape,
    out_shape,
    register,
    rust_array,
    rust_literal,
)
from ariel_build.ops.unary import NUMERIC

FLOATS = (DType.F32, DType.F64)


def collapse(out: Shape, operands: list[Shape]) -> tuple[list[int], list[list[int]]]:
    """(shape, strides per operand) of the smallest loop nest equivalent to broadcasting
    `operands` to `out`; stride 0 marks a broadcast dim."""
    rank = len(out)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in operands]
    merged: list[tuple[int, tuple[bool, ...]]] = []
    for axis, size in enumerate(out):
        if size == 1:
            continue
        full = tuple(s[axis] == size for s in padded)
        if merged and merged[-1][1] == full:
            merged[-1] = (merged[-1][0] * size, full)
        else:
            merged.append((size, full))
    if not merged:
        merged = [(1, tuple(True for _ in operands))]
    strides: list[list[int]] = []
    for k in range(len(operands)):
        run, per_dim = 1, []
        for size, full in reversed(merged):
            per_dim.append(run if full[k] else 0)
            run *= size if full[k] else 1
        strides.append(per_dim[::-1])
    return [size for size, _ in merged], strides


def rust_broadcast(out: Shape, operands: list[Shape]) -> str:
    shape, strides = collapse(out, operands)
    rows = ", ".join(rust_array(s) for s in strides)
    return f"&k::ops::binary::Broadcast {{ shape: {rust_array(shape)}, strides: [{rows}] }}"


def operand_shapes(node: Node, graph: Graph) -> list[Shape]:
    """Input shapes as broadcast sees them; before opset 7, `broadcast=1, axis=k` aligns B at A's axis k."""
    shapes = [in_shape(node, graph, i) for i in range(len(node.inputs))]
    if graph.opset < 7 and len(shapes) == 2:
        a, b = shapes
        if not node.attrs.get("broadcast", 0):
            if a != b:
                raise OpUnsupported(f"shapes {list(a)} and {list(b)} differ and broadcast=0")
        elif "axis" in node.attrs:
            axis = int(node.attrs["axis"]) % max(len(a), 1)
            if axis + len(b) > len(a):
                raise OpUnsupported(f"B {list(b)} does not fit A {list(a)} at axis {axis}")
            shapes[1] = (1,) * axis + tuple(b) + (1,) * (len(a) - axis - len(b))
    return shapes


class Elementwise(Op):
    """y = f(x0, x1, ...) folded left to right; `expr` is f's Rust body in `a` (so far) and `b`."""

    inplace = True
    dtypes: ClassVar[tuple[DType, ...]] = NUMERIC
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int] = 2

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        raise NotImplementedError

    def out_dtype(self, node: Node, graph: Graph) -> DType:
        return in_dtype(node, graph)

    def check(self, node: Node, graph: Graph) -> None:
        n = len(node.inputs)
        if not self.min_inputs <= n <= self.max_inputs or not all(node.inputs):
            raise OpUnsupported(f"{n} inputs (takes {self.min_inputs} to {self.max_inputs}, none empty)")
        first = in_dtype(node, graph)
        if first not in self.dtypes:
            names = ", ".join(d.numpy_name for d in self.dtypes)
            raise OpUnsupported(f"element type {first.numpy_name}; supported: {names}")
        for i in range(1, n):
            self.check_operand(node, graph, i)
        for i in range(1, n):
            self.expr(node, graph, first, in_dtype(node, graph, i))

    def check_operand(self, node: Node, graph: Graph, i: int) -> None:
        if in_dtype(node, graph, i) != in_dtype(node, graph):
            raise OpUnsupported(
                f"input {i} is {in_dtype(node, graph, i).numpy_name}, input 0 {in_dtype(node, graph).numpy_name}"
            )

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, DType]]:
        return [(broadcast_shapes(*operand_shapes(node, graph)), self.out_dtype(node, graph))]

    def closure(self, node: Node, graph: Graph, i: int) -> str:
        a, b = in_dtype(node, graph), in_dtype(node, graph, i)
        return f"|a: {a.rust}, b: {b.rust}| {self.expr(node, graph, a, b)}"

    def finish(self, node: Node, graph: Graph, output: str) -> list[str]:
        """Statements after all operands are folded into `output` (Mean divides)."""
        return []

    def fold_rest(self, node: Node, graph: Graph, output: str, inputs: list[str], first: int) -> list[str]:
        out, shapes = out_shape(node, graph), operand_shapes(node, graph)
        lines = [
            f"k::ops::binary::binary_assign({rust_broadcast(out, [shapes[i]])}, {output}, {inputs[i]}, "
            f"{self.closure(node, graph, i)});"
            for i in range(first, len(node.inputs))
        ]
        return lines + self.finish(node, graph, output)

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        inputs = [x or "" for x in io.inputs]
        y = io.outputs[0]
        if len(node.inputs) == 1:
            return "\n".join([f"{y}.copy_from_slice({inputs[0]});", *self.finish(node, graph, y)])
        out, shapes = out_shape(node, graph), operand_shapes(node, graph)
        first = (
            f"k::ops::binary::binary({rust_broadcast(out, shapes[:2])}, {inputs[0]}, {inputs[1]}, {y}, "
            f"{self.closure(node, graph, 1)});"
        )
        return "\n".join([first, *self.fold_rest(node, graph, y, inputs, 2)])

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        return "\n".join(self.fold_rest(node, graph, io.outputs[0], io.inputs, 1))


def _int_or_float(dtype: DType, float_expr: str, int_expr: str) -> str:
    return float_expr if dtype.is_float else int_expr


class Arithmetic(Elementwise):
    symbol: ClassVar[str]
    wrapping: ClassVar[str]

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return _int_or_float(a, f"a {self.symbol} b", f"a.{self.wrapping}(b)")


for _op, _symbol, _wrapping in (
    ("Add", "+", "wrapping_add"),
    ("Sub", "-", "wrapping_sub"),
    ("Mul", "*", "wrapping_mul"),
):
    register(type(_op, (Arithmetic,), {"name": _op, "symbol": _symbol, "wrapping": _wrapping}))


@register
class Div(Elementwise):
    name = "Div"

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        # Integer division truncates; x / 0 gives 0 instead of a panic.
        return _int_or_float(a, "a / b", "a.checked_div(b).unwrap_or(0)")


@register
class Mod(Elementwise):
    name = "Mod"

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        fmod = int(node.attrs.get("fmod", 0))
        if a.is_float:
            if not fmod:
                raise OpUnsupported("fmod=0 on floating-point inputs (ONNX requires fmod=1)")
            return "k::ops::binary::fmod(a, b)" if a is DType.F32 else "k::ops::binary::fmod_f64(a, b)"
        rem = "a.checked_rem(b).unwrap_or(0)"
        if fmod or not a.is_signed:
            return rem
        # Python-style: the remainder takes the divisor's sign.
        return f"{{ let r = {rem}; if r != 0 && (r < 0) != (b < 0) {{ r + b }} else {{ r }} }}"


@register
class Pow(Elementwise):
    name = "Pow"
    dtypes = (DType.F32, DType.F64, DType.I32, DType.I64)

    def check_operand(self, node: Node, graph: Graph, i: int) -> None:
        if in_dtype(node, graph, i) not in NUMERIC:
            raise OpUnsupported(f"exponent of element type {in_dtype(node, graph, i).numpy_name}")

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        if a is DType.F32:
            return "k::ops::binary::pow(a, b)" if b is DType.F32 else "k::ops::binary::pow(a, b as f32)"
        if a is DType.F64:
            return "k::ops::binary::pow_f64(a, b as f64)"
        if b.is_float:
            return f"k::ops::binary::pow_f64(a as f64, b as f64) as {a.rust}"
        return f"k::ops::binary::pow_int(a as i64, b as i64) as {a.rust}"


class Variadic(Elementwise):
    min_inputs = 1
    max_inputs = 1 << 16


@register
class Max(Variadic):
    name = "Max"

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return "k::ops::binary::max(a, b)"


@register
class Min(Variadic):
    name = "Min"

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return "k::ops::binary::min(a, b)"


@register
class Sum(Variadic):
    name = "Sum"
    dtypes = FLOATS

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return "a + b"


@register
class Mean(Sum):
    name = "Mean"

    def finish(self, node: Node, graph: Graph, output: str) -> list[str]:
        n = len(node.inputs)
        if n == 1:
            return []
        dtype = self.out_dtype(node, graph)
        return [f"k::ops::unary::map_inplace({output}, |v: {dtype.rust}| v / {rust_literal(n, dtype)});"]


class Comparison(Elementwise):
    inplace = False  # the bool output never has input 0's element type
    symbol: ClassVar[str]

    def out_dtype(self, node: Node, graph: Graph) -> DType:
        return DType.BOOL

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return f"u8::from(a {self.symbol} b)"


for _op, _symbol in (
    ("Less", "<"),
    ("LessOrEqual", "<="),
    ("Greater", ">"),
    ("GreaterOrEqual", ">="),
):
    register(type(_op, (Comparison,), {"name": _op, "symbol": _symbol}))


@register
class Equal(Comparison):
    name = "Equal"
    inplace = True  # bool == bool writes bools
    dtypes = (*NUMERIC, DType.BOOL)
    symbol = "=="


class Logical(Elementwise):
    dtypes = (DType.BOOL,)
    symbol: ClassVar[str]

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return f"a {self.symbol} b"


for _op, _symbol in (("And", "&"), ("Or", "|"), ("Xor", "^")):
    register(type(_op, (Logical,), {"name": _op, "symbol": _symbol}))


@register
class PRelu(Elementwise):
    name = "PRelu"
    dtypes = (DType.F32,)

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, DType]]:
        x, slope = in_shape(node, graph), in_shape(node, graph, 1)
        if broadcast_shapes(x, slope) != x:
            raise OpUnsupported(f"slope {list(slope)} does not broadcast to X {list(x)}")
        return [(x, DType.F32)]

    def expr(self, node: Node, graph: Graph, a: DType, b: DType) -> str:
        return "if a < 0.0 { a * b } else { a }"


@register
class Where(Op):
    name = "Where"

    def check(self, node: Node, graph: Graph) -> None:
        if len(node.inputs) != 3 or not all(node.inputs):
            raise OpUnsupported("needs condition, X and Y")
        if in_dtype(node, graph) is not DType.BOOL:
            raise OpUnsupported(
                f"condition of element type {in_dtype(node, graph).numpy_name} (must be bool)"
            )
        if in_dtype(node, graph, 1) != in_dtype(node, graph, 2):
            raise OpUnsupported("X and Y differ in element type")

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, DType]]:
        shapes = [in_shape(node, graph, i) for i in range(3)]
        return [(broadcast_shapes(*shapes), in_dtype(node, graph, 1))]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        shapes = [in_shape(node, graph, i) for i in range(3)]
        c, x, y = io.inputs
        t = in_dtype(node, graph, 1).rust
        return (
            f"k::ops::binary::ternary({rust_broadcast(out_shape(node, graph), shapes)}, {c}, {x}, {y}, "
            f"{io.outputs[0]}, |c: u8, a: {t}, b: {t}| if c != 0 {{ a }} else {{ b }});"
        )
