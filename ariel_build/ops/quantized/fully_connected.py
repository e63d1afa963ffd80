"""QFullyConnected: int8 `y[b, n] = requant(bias[n] + sum_k (x[b, k] - x_zero) * w[n, k])`
(TFLite FULLY_CONNECTED; weights [units, depth], per-tensor or per-unit scales).
Kernel: kernels/src/ops/int8/fully_connected.rs."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register, rust_array
from ariel_build.ops.quantized.fixed_point import (
    activation_bounds,
    folded_bias,
    optional_bias,
    per_tensor,
    quantize_multiplier,
    require_int8,
    require_int32_accumulator,
    rust_channel_requants,
    symmetric_weight_scales,
)
from ariel_build.ops.quantized.packing import (
    PACKED_INPUT,
    is_wide,
    pack_bytes,
    packed_weights,
    rust_weights,
    wide_accumulator_bytes,
)


def _dims(node: Node, graph: Graph) -> tuple[int, int, int]:
    x, w = in_shape(node, graph, 0), in_shape(node, graph, 1)
    if len(x) != 2 or len(w) != 2 or x[1] != w[1]:
        raise OpUnsupported(
            f"input {list(x)} and weights {list(w)} must be [batch, depth] and [units, depth]"
        )
    return x[0], x[1], w[0]


@register
class QFullyConnected(Op):
    """Attribute `activation` (TFLite fused activation name)."""

    name = "QFullyConnected"

    def check(self, node: Node, graph: Graph) -> None:
        require_int8(node, graph, 0, 1)
        _, depth, units = _dims(node, graph)
        optional_bias(node, graph, units)
        require_int32_accumulator(node, graph, depth)
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        folded_bias(node, graph, units, in_zero)
        symmetric_weight_scales(node, graph, 1, units)
        activation_bounds(node, graph)

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        batch, _, units = _dims(node, graph)
        return [((batch, units), DType.I8)]

    def macs(self, node: Node, graph: Graph) -> int:
        batch, depth, units = _dims(node, graph)
        return batch * depth * units

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """One packed input row, with wide weights followed by accumulators."""
        _, depth, units = _dims(node, graph)
        return pack_bytes(depth, 1) + (wide_accumulator_bytes(units, 1) if is_wide(node) else 0)

    def runtime_inputs(self, node: Node, graph: Graph) -> list[int]:
        return [0, PACKED_INPUT] if packed_weights(node) is not None else [0, 1, 2]

    def multipliers(self, node: Node, graph: Graph, units: int) -> list[tuple[int, int]]:
        in_scale, _ = per_tensor(graph, node.inputs[0], "input")
        out_scale, _ = per_tensor(graph, node.outputs[0], "output")
        weight_scales = symmetric_weight_scales(node, graph, 1, units)
        # TFLM multiplies input and weight scale in single precision before the division.
        return [
            quantize_multiplier(float(np.float32(in_scale) * np.float32(w)) / out_scale)
            for w in weight_scales
        ]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        batch, depth, units = _dims(node, graph)
        _, in_zero = per_tensor(graph, node.inputs[0], "input")
        _, out_zero = per_tensor(graph, node.outputs[0], "output")
        rq = rust_channel_requants(
            self.multipliers(node, graph, units), out_zero, activation_bounds(node, graph), units
        )
        params = (
            f"k::ops::int8::fully_connected::FullyConnected {{ batch: {batch}, depth: {depth}, "
            f"units: {units}, input_offset: {-in_zero} }}"
        )
        bias = rust_array(folded_bias(node, graph, units, in_zero))
        if packed_weights(node) is None:
            raise OpUnsupported("weights were not packed (the pack_int8_weights pass did not run)")
        return (
            f"k::ops::int8::fully_connected::fully_connected(&{params}, {io.inputs[0]}, "
            f"{rust_weights(node, io.inputs[PACKED_INPUT])}, &{bias}, {rq}, {io.outputs[0]}, "
            f"k::cast_mut({io.scratch}));"
        )
