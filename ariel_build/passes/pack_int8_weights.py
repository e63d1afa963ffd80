"""Give int8 matrix products (QConv with one group, QFullyConnected) their weights in the packed
layout of kernels/src/ops/int8/gemm.rs as an extra constant input (ops/quantized/packing.py); the
kernels then read only the packed copy."""

from __future__ import annotations

from ariel_build.ir import Graph
from ariel_build.ops.conv import conv_shape
from ariel_build.ops.quantized.packing import add_packed_weights, packed_weights


def pack_int8_weights(graph: Graph) -> Graph:
    for node in graph.nodes:
        if packed_weights(node) is not None:
            continue
        if (node.op == "QConv" and conv_shape(node, graph).groups == 1) or node.op == "QFullyConnected":
            add_packed_weights(node, graph)
    graph.remove_unused_tensors()
    return graph
