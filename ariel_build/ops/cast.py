"""Cast and CastLike between the IR's element types (Rust `as`: float → int truncates toward
zero and saturates, NaN → 0; anything → bool is `!= 0`). Kernel: `map` in kernels/src/ops/unary.rs."""

from __future__ import annotations

import onnx
from onnx import helper

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_dtype, in_shape, register


def target_dtype(node: Node, graph: Graph) -> DType:
    if node.op == "CastLike":
        return in_dtype(node, graph, 1)
    to = int(node.attrs.get("to", 0))
    try:
        return DType.from_numpy(helper.tensor_dtype_to_np_dtype(to))
    except (KeyError, ValueError, TypeError) as e:
        name = onnx.TensorProto.DataType.Name(to) if to in onnx.TensorProto.DataType.values() else str(to)
        supported = ", ".join(d.numpy_name for d in DType)
        raise OpUnsupported(f"cast to {name} (supported element types: {supported})") from e


def conversion(src: DType, dst: DType) -> str:
    """Rust expression converting `v` of `src` to `dst`."""
    if dst is DType.BOOL:
        zero = "0.0" if src.is_float else "0"
        return f"u8::from(v != {zero})"
    return "v" if src.rust == dst.rust else f"v as {dst.rust}"


class CastBase(Op):
    inplace = True  # only taken when the element type does not change

    def check(self, node: Node, graph: Graph) -> None:
        target_dtype(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), target_dtype(node, graph))]

    def macs(self, node: Node, graph: Graph) -> int:
        return 0

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        src, dst = in_dtype(node, graph), target_dtype(node, graph)
        if src.rust == dst.rust and src is not DType.BOOL:
            return f"{io.outputs[0]}.copy_from_slice({io.inputs[0]});"
        return f"k::ops::unary::map({io.inputs[0]}, {io.outputs[0]}, |v: {src.rust}| {conversion(src, dst)});"

    def emit_inplace(self, node: Node, graph: Graph, io: Operands) -> str:
        return "// same element type: nothing to convert"


@register
class Cast(CastBase):
    name = "Cast"


@register
class CastLike(CastBase):
    name = "CastLike"

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0]
