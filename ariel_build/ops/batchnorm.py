"""BatchNormalization (inference). passes/fold_batchnorm.py always rewrites it: folded into the
Conv/Gemm before it, or lowered to a per-channel Mul + Add. So it has a shape rule but no kernel."""

from __future__ import annotations

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, OpUnsupported, in_dtype, in_shape, register, require_const, require_dtype


@register
class BatchNormalization(Op):
    name = "BatchNormalization"

    def check(self, node: Node, graph: Graph) -> None:
        require_dtype(node, graph, (DType.F32,))
        for k, what in enumerate(("scale", "bias", "mean", "variance"), start=1):
            require_const(node, graph, k, what)
        if int(node.attrs.get("training_mode", 0)) or len([o for o in node.outputs if o]) > 1:
            raise OpUnsupported("training mode (running statistics outputs) is not supported")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), in_dtype(node, graph))]
