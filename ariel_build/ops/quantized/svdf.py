"""QSvdf: TFLite SVDF with int8 input and output, int8 feature weights, int16 time weights and an
int16 activation state kept between runs (TFLM's integer SVDF).

Inputs: x [batch, input_size], weights_feature [filters, input_size], weights_time
[filters, memory], bias [filters / rank] (int32). Outputs: y [batch, filters / rank] and the
state [batch, filters * memory], a *persistent* output: the memory planner keeps it in an arena
range no other tensor uses, so it carries over to the next `run` with the same arena (a new,
zeroed arena starts from a zero state, like TFLM's interpreter). TFLM's integer SVDF applies no
fused activation (only the int8 clamp), and neither does this op.
Kernel: kernels/src/ops/int8/svdf.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_dtype, in_shape, register, require_const
from ariel_build.ops.quantized.fixed_point import per_tensor, quantize_multiplier, require_int8

STATE = 1  # output index of the activation state


def _dims(node: Node, graph: Graph) -> tuple[int, int, int, int, int]:
    """(batch, input_size, filters, rank, memory)."""
    x, wf, wt = (in_shape(node, graph, i) for i in range(3))
    rank = int(node.attrs.get("rank", 1))
    if len(x) != 2 or len(wf) != 2 or len(wt) != 2 or wf[1] != x[1] or wt[0] != wf[0]:
        raise OpUnsupported(
            f"input {list(x)}, feature weights {list(wf)} and time weights {list(wt)} must be "
            "[batch, input], [filters, input] and [filters, memory]"
        )
    if rank < 1 or wf[0] % rank:
        raise OpUnsupported(f"rank {rank} must divide the {wf[0]} filters")
    return x[0], x[1], wf[0], rank, wt[1]


def _single(*scales: float) -> float:
    """`a * b / c` in single precision, as TFLM computes its SVDF scales."""
    a, b, c = (np.float32(s) for s in scales)
    return float(a * b / c)


@register
class QSvdf(Op):
    """Attribute `rank`."""

    name = "QSvdf"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0, 1)
        if in_dtype(node, graph, 2) is not DType.I16:
            raise OpUnsupported("time weights must be int16 (the int16 activation state)")
        if len(node.inputs) < 4 or not node.inputs[3] or in_dtype(node, graph, 3) is not DType.I32:
            raise OpUnsupported("an int32 bias is required")
        _, input_size, filters, rank, _ = _dims(node, graph)
        if input_size * 128 * 255 >= 1 << 31:
            raise OpUnsupported(f"{input_size} inputs could overflow the int32 feature sum")
        for i, what in ((1, "feature weights"), (2, "time weights"), (3, "bias")):
            require_const(node, graph, i, what)
        if in_shape(node, graph, 3) != (filters // rank,):
            raise OpUnsupported(f"bias must have one value per unit ({filters // rank})")
        for i, what in ((1, "feature weights"), (2, "time weights")):
            if per_tensor(graph, node.inputs[i], what)[1] != 0:
                raise OpUnsupported(f"{what} must be symmetric (zero point 0)")
        if per_tensor(graph, node.outputs[STATE], "state")[1] != 0:
            raise OpUnsupported("the int16 state must have zero point 0")
        self.multipliers(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        batch, _, filters, rank, memory = _dims(node, graph)
        return [((batch, filters // rank), DType.I8), ((batch, filters * memory), DType.I16)]

    def persistent_outputs(self, node: Node, graph: Graph) -> list[int]:
        return [STATE]

    def macs(self, node: Node, graph: Graph) -> int:
        batch, input_size, filters, _, memory = _dims(node, graph)
        return batch * filters * (input_size + memory)

    def multipliers(self, node: Node, graph: Graph) -> tuple[tuple[int, int], tuple[int, int]]:
        """(feature → state, state * time → output) as multiplier and shift."""
        in_scale, _ = per_tensor(graph, node.inputs[0], "input")
        feature_scale, _ = per_tensor(graph, node.inputs[1], "feature weights")
        time_scale, _ = per_tensor(graph, node.inputs[2], "time weights")
        state_scale, _ = per_tensor(graph, node.outputs[STATE], "state")
        out_scale, _ = per_tensor(graph, node.outputs[0], "output")
        return (
            quantize_multiplier(_single(in_scale, feature_scale, state_scale)),
            quantize_multiplier(_single(state_scale, time_scale, out_scale)),
        )

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        batch, input_size, filters, rank, memory = _dims(node, graph)
        (feature_m, feature_s), (output_m, output_s) = self.multipliers(node, graph)
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        _, state_zero = per_tensor(graph, node.outputs[STATE], "state")
        _, out_zero = per_tensor(graph, node.outputs[0], "output")
        params = (
            f"k::ops::int8::svdf::Svdf {{ batch: {batch}, input_size: {input_size}, filters: {filters}, "
            f"rank: {rank}, memory: {memory}, input_zero_point: {in_zero}, "
            f"feature_multiplier: {feature_m}, feature_shift: {feature_s}, state_zero_point: {state_zero}, "
            f"output_multiplier: {output_m}, output_shift: {output_s}, output_zero_point: {out_zero} }}"
        )
        x, wf, wt, bias = io.inputs[:4]
        y, state = io.outputs
        return f"k::ops::int8::svdf::svdf(&{params}, {x}, {wf}, {wt}, {bias}, {state}, {y});"
