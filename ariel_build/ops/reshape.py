"""Ops that only reinterpret their input's shape: no code, the output shares the input's buffer."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node, Tensor
from ariel_build.ops.base import (
    Op,
    OpUnsupported,
    in_dtype,
    in_shape,
    normalize_axis,
    register,
    require_const,
)


class View(Op):
    view = True

    def macs(self, node: Node, graph: Graph) -> int:
        return 0


@register
class Reshape(View):
    name = "Reshape"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        if graph.opset < 5:
            target = [int(v) for v in node.attrs["shape"]]
        else:
            target = [int(v) for v in require_const(node, graph, 1, "the target shape")]
        allow_zero = int(node.attrs.get("allowzero", 0))
        shape = [src[k] if v == 0 and not allow_zero else v for k, v in enumerate(target)]
        if shape.count(-1) > 1:
            raise OpUnsupported("more than one -1 in the target shape")
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(src)) // known if known else 0
        if int(np.prod(shape)) != int(np.prod(src)):
            raise OpUnsupported(f"cannot reshape {src} into {target}")
        return [(tuple(shape), in_dtype(node, graph))]


@register
class Flatten(View):
    name = "Flatten"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        axis = int(node.attrs.get("axis", 1))
        if not -len(src) <= axis <= len(src):
            raise OpUnsupported(f"axis {axis} out of range for rank {len(src)}")
        if axis < 0:
            axis += len(src)
        outer = int(np.prod(src[:axis]))
        return [((outer, int(np.prod(src[axis:]))), in_dtype(node, graph))]


@register
class Identity(View):
    name = "Identity"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        return [(in_shape(node, graph), in_dtype(node, graph))]


def _axes(node: Node, graph: Graph, first_input_opset: int) -> list[int] | None:
    """The `axes` attribute (before `first_input_opset`) or constant input 1; None = absent."""
    if graph.opset < first_input_opset:
        return [int(a) for a in node.attrs["axes"]] if "axes" in node.attrs else None
    if not node.input(1):
        return None
    return [int(a) for a in require_const(node, graph, 1, "axes").reshape(-1)]


@register
class Squeeze(View):
    name = "Squeeze"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        axes = _axes(node, graph, 13)
        if axes is None:
            drop = {k for k, d in enumerate(src) if d == 1}
        else:
            drop = {normalize_axis(a, len(src)) for a in axes}
            if any(src[k] != 1 for k in drop):
                raise OpUnsupported(f"cannot squeeze axes {axes} of shape {list(src)}: not all of size 1")
        return [(tuple(d for k, d in enumerate(src) if k not in drop), in_dtype(node, graph))]


@register
class Unsqueeze(View):
    name = "Unsqueeze"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        src = in_shape(node, graph)
        axes = _axes(node, graph, 13)
        if axes is None:
            raise OpUnsupported("axes are required")
        rank = len(src) + len(axes)
        inserted = {normalize_axis(a, rank) for a in axes}
        if len(inserted) != len(axes):
            raise OpUnsupported(f"axes {axes} repeat an axis")
        rest = iter(src)
        return [(tuple(1 if k in inserted else next(rest) for k in range(rank)), in_dtype(node, graph))]


@register
class Dropout(View):
    """Inference: the identity; the mask output, when read, is the constant all-true tensor."""

    name = "Dropout"

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        if graph.opset >= 12 and node.input(2):
            training = graph.const(node.input(2))
            if training is None or bool(training.reshape(-1)[0]):
                raise OpUnsupported("training_mode must be a constant false (inference only)")
        shape = in_shape(node, graph)
        mask = node.outputs[1] if len(node.outputs) > 1 else ""
        if mask:
            mask_dtype = DType.BOOL if graph.opset >= 10 else in_dtype(node, graph)
            graph.add_tensor(Tensor(mask, shape, mask_dtype, np.ones(shape, mask_dtype.numpy)))
            node.outputs = node.outputs[:1]  # the mask is now a constant, not this node's output
        return [(shape, in_dtype(node, graph))]
