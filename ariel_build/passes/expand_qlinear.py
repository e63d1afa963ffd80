"""ONNX QLinearConv / QLinearMatMul → DequantizeLinear → Conv / MatMul → QuantizeLinear, the QDQ
form that `fuse_qdq` (run next) folds into QConv / QFullyConnected; where it cannot, the group
runs in float between Dequantize and Quantize. The int32 bias of QLinearConv is dequantized with
scale `x_scale * w_scale` (zero point 0), which is what its integer addition means."""

from __future__ import annotations

import numpy as np

from ariel_build.ir import DType, Graph, Node, Tensor


def _float_tensor(graph: Graph, base: str, like: str) -> str:
    name = graph.unique_name(base)
    graph.add_tensor(Tensor(name, graph.tensor(like).shape, DType.F32))
    return name


def _dequantized(graph: Graph, node: Node, value: int, scale: int, zero: int, axis: int) -> tuple[Node, str]:
    """A DequantizeLinear of the node's input `value` (per channel along `axis` when its scale has
    several values) and the float tensor it writes."""
    source = node.inputs[value]
    out = _float_tensor(graph, f"{source}_dequantized", source)
    dq = Node(
        "DequantizeLinear",
        f"{node.name}/dequantize{value}",
        [source, node.inputs[scale], node.inputs[zero]],
        [out],
        {"axis": axis},
    )
    return dq, out


def _expand(graph: Graph, node: Node) -> list[Node]:
    x_dq, x = _dequantized(graph, node, 0, 1, 2, 1)
    if node.op == "QLinearConv":
        w_dq, w = _dequantized(graph, node, 3, 4, 5, 0)
    else:
        w_dq, w = _dequantized(graph, node, 3, 4, 5, len(graph.tensor(node.inputs[3]).shape) - 1)
    nodes = [x_dq, w_dq]
    inputs = [x, w]
    if node.op == "QLinearConv" and node.input(8):
        x_scale = graph.const(node.inputs[1])
        w_scale = graph.const(node.inputs[4])
        assert x_scale is not None and w_scale is not None
        bias_scale = (x_scale.astype(np.float32) * w_scale.astype(np.float32)).reshape(-1)
        scale_name = graph.add_constant(f"{node.inputs[8]}_scale", bias_scale).name
        b = _float_tensor(graph, f"{node.inputs[8]}_dequantized", node.inputs[8])
        nodes.append(
            Node(
                "DequantizeLinear", f"{node.name}/dequantize8", [node.inputs[8], scale_name], [b], {"axis": 0}
            )
        )
        inputs.append(b)
    y = node.outputs[0]
    y_float = _float_tensor(graph, f"{y}_float", y)
    attrs = dict(node.attrs) if node.op == "QLinearConv" else {}
    nodes.append(Node(node.op.removeprefix("QLinear"), node.name, inputs, [y_float], attrs))
    nodes.append(
        Node("QuantizeLinear", f"{node.name}/quantize", [y_float, node.inputs[6], node.inputs[7]], [y])
    )
    return nodes


def expand_qlinear(graph: Graph) -> Graph:
    if not any(n.op in ("QLinearConv", "QLinearMatMul") for n in graph.nodes):
        return graph
    nodes: list[Node] = []
    for n in graph.nodes:
        nodes.extend(_expand(graph, n) if n.op in ("QLinearConv", "QLinearMatMul") else [n])
    graph.nodes = nodes
    return graph
