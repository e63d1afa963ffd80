"""Layout decisions.

Activations stay NCHW, the layout ONNX defines every op's axes in: Reshape, Flatten, Transpose,
Concat and Softmax axes then need no rewriting and no Transpose ops are inserted. Conv weights are
already OIHW (each output channel's filter contiguous). Constant Gemm weights are stored [N, K]
(transB = 1) so that each output's weights are one contiguous dot product, like TFLite's
FULLY_CONNECTED. (TFLite models arrive NHWC and keep it.)
"""

from __future__ import annotations

import numpy as np

from ariel_build.ir import Graph


def choose_layout(graph: Graph) -> Graph:
    for node in graph.nodes:
        if node.op != "Gemm" or node.attrs.get("transB", 0):
            continue
        w = graph.const(node.input(1))
        if w is None or w.ndim != 2:
            continue
        node.inputs[1] = graph.add_constant(f"{node.inputs[1]}_nk", np.ascontiguousarray(w.T)).name
        node.attrs["transB"] = 1
    graph.remove_unused_tensors()
    return graph
