"""The contract every operator implements, and the registry that finds them by name.

An operator module (`ariel_build/ops/<op>.py`) holds, for one op or one family of ops:
its attribute checks, shape rule, MAC count, numpy reference and Rust emitter. Its kernel lives
in `kernels/src/ops/<op>.rs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ariel_build.ir import DType, Graph, Node

Shape = tuple[int, ...]


class OpUnsupported(Exception):
    """Raised by `check`/`infer` with the reason an op instance cannot be compiled."""


@dataclass
class Operands:
    """Rust expressions the emitter uses: inputs are `&[T]`, outputs `&mut [T]` (None = absent)."""

    inputs: list[str | None]
    outputs: list[str]
    scratch: str | None = None  # `&mut [u8]` of `scratch_bytes`, when the op asks for it


class Op:
    name: ClassVar[str]
    # Output may be written over input 0 (same shape and dtype): the planner may share the buffer.
    inplace: ClassVar[bool] = False
    # Output is input 0 reinterpreted (Reshape, Flatten, ...): no code, the buffer is shared.
    view: ClassVar[bool] = False
    # A following Relu/Clip/Sigmoid can be applied inside this op's output loop.
    fuses_activation: ClassVar[bool] = False
    # Only evaluated at build time (all inputs must fold to constants).
    build_time_only: ClassVar[bool] = False

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        """Indices of the inputs the kernel reads at run time (others are build-time parameters)."""
        return [0] if self.view else list(range(len(node.inputs)))

    def check(self, node: Node, graph: Graph) -> None:  # noqa: B027 - optional hook
        """Raise OpUnsupported when attributes or dtypes are outside what the kernel handles."""

    def infer(self, node: Node, graph: Graph) -> list[tuple[Shape, DType]]:
        """Output shapes and dtypes from input shapes (and constant inputs where needed)."""
        raise NotImplementedError(f"{self.name}.infer")

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        """Numpy semantics; used for constant folding and as the tests' second opinion."""
        from ariel_build.ops.onnx_reference import evaluate

        return evaluate(node, graph, inputs)

    def macs(self, node: Node, graph: Graph) -> int:
        """Multiply-accumulates (elementwise ops count one per output element)."""
        return sum(graph.tensor(o).size for o in node.outputs if o)

    def persistent_outputs(self, node: Node, graph: Graph) -> list[int]:
        """Outputs that keep their value from one `run` to the next (state, e.g. SVDF's memory):
        the planner gives them arena bytes no other buffer shares."""
        return []

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """Temporary arena bytes the kernel needs while it runs (0 = none)."""
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        """Rust statements computing the outputs (called for non-view ops that run at run time)."""
        raise NotImplementedError(f"{self.name}.emit")

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        """Rust statements that overwrite `io.outputs[0]` (holding input 0) with the result; the
        other run-time inputs are in `io.inputs` as for `emit` (`io.inputs[0]` is None)."""
        raise NotImplementedError(f"{self.name}.emit_inplace")


REGISTRY: dict[str, Op] = {}


def register(cls: type[Op]) -> type[Op]:
    REGISTRY[cls.name] = cls()
    return cls


def lookup(op_type: str) -> Op | None:
    from ariel_build import ops  # noqa: F401 - importing the package registers every op module

    return REGISTRY.get(op_type)


# --- helpers shared by op modules -------------------------------------------------------------


def in_shape(node: Node, graph: Graph, i: int = 0) -> Shape:
    return graph.tensor(node.inputs[i]).shape


def in_dtype(node: Node, graph: Graph, i: int = 0) -> DType:
    return graph.tensor(node.inputs[i]).dtype


def out_shape(node: Node, graph: Graph, i: int = 0) -> Shape:
    return graph.tensor(node.outputs[i]).shape


def require_dtype(node: Node, graph: Graph, allowed: tuple[DType, ...], i: int = 0) -> DType:
    d = in_dtype(node, graph, i)
    if d not in allowed:
        names = ", ".join(a.numpy_name for a in allowed)
        raise OpUnsupported(f"input {i} has element type {d.numpy_name}; supported: {names}")
    return d


def require_const(node: Node, graph: Graph, i: int, what: str) -> np.ndarray:
    data = graph.const(node.input(i))
    if data is None:
        raise OpUnsupported(f"{what} (input {i}) must be a constant")
    return data


def normalize_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise OpUnsupported(f"axis {axis} out of range for rank {rank}")
    return axis % rank if rank else 0


def rust_array(values: list[int] | tuple[int, ...] | np.ndarray) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def rust_f32(v: float) -> str:
    f = float(np.float32(v))
    if np.isnan(f):
        return "f32::NAN"
    if np.isinf(f):
        return "f32::INFINITY" if f > 0 else "f32::NEG_INFINITY"
    return f"{f!r}_f32"


def rust_literal(value: float | int | bool, dtype: DType) -> str:
    """A Rust literal of `dtype` (bool as 0/1 u8); ±inf and integer extremes by name."""
    if dtype is DType.F32:
        return rust_f32(value)
    if dtype is DType.F64:
        v = float(value)
        if np.isnan(v):
            return "f64::NAN"
        if np.isinf(v):
            return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
        return f"{v!r}_f64"
    if dtype is DType.BOOL:
        return "1_u8" if value else "0_u8"
    v = int(value)
    info = np.iinfo(dtype.numpy)
    if v == info.min and v < 0:
        return f"{dtype.rust}::MIN"
    return f"{v}_{dtype.rust}"


def broadcast_shapes(*shapes: Shape) -> Shape:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError as e:
        raise OpUnsupported(f"shapes {list(shapes)} do not broadcast") from e
