"""ONNX QDQ models → int8 ops: each `DequantizeLinear → op → QuantizeLinear` group whose op has an
int8 kernel becomes that quantized op (TFLM arithmetic, docs/int8.md), reading the int8 tensors
directly; uint8 tensors become int8 with the zero point moved by -128 (exact). What is left:
QuantizeLinear → `Quantize`, DequantizeLinear of a run-time value → `Dequantize`, of a constant →
folded to float, so ops without an int8 kernel run in float between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ir import DType, Graph, Node, Quant, Tensor
from ariel_build.ops.base import OpUnsupported, lookup
from ariel_build.ops.quantized.qdq import dequantize, qdq_quant

DATA_MOVEMENT = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"}


@dataclass(frozen=True)
class _Int:
    """An integer tensor a float value was dequantized from."""

    name: str
    quant: Quant
    constant: bool


def _as_int8(q: Quant, dtype: DType) -> Quant:
    return Quant(q.scale, q.zero_point - 128, q.axis) if dtype is DType.U8 else q


def _same(a: Quant, b: Quant) -> bool:
    return a.per_tensor == b.per_tensor if a.scale.size == b.scale.size == 1 else False


class _Rewriter:
    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.ints: dict[str, _Int] = {}  # constant source → its int8/int32 copy

    # --- reading through DequantizeLinear -------------------------------------------------

    def int_view(self, name: str | None) -> _Int | None:
        producer = self.g.producers().get(name or "")
        if producer is None or producer.op != "DequantizeLinear":
            return None
        src = self.g.tensor(producer.inputs[0])
        try:
            q = qdq_quant(producer, self.g)
        except OpUnsupported:
            return None
        if src.data is None:
            return _Int(src.name, src.quant, False) if src.dtype is DType.I8 and src.quant else None
        if src.name not in self.ints:
            data = src.data
            if src.dtype is DType.U8:
                data = (data.astype(np.int16) - 128).astype(np.int8)
            quant = _as_int8(q, src.dtype)
            name = self.g.add_constant(f"{src.name}_int", np.ascontiguousarray(data)).name
            self.g.tensors[name].quant = quant
            self.ints[src.name] = _Int(name, quant, True)
        return self.ints[src.name]

    def constant(self, data: np.ndarray, base: str, quant: Quant) -> str:
        t = self.g.add_constant(base, np.ascontiguousarray(data))
        t.quant = quant
        return t.name

    # --- building the replacement ---------------------------------------------------------

    def fuse(self, node: Node, out: str, activation: str = "NONE") -> list[Node] | None:
        g, op = self.g, node.op
        attrs: dict[str, Any] = dict(node.attrs)
        ins = [self.int_view(i) if i else None for i in node.inputs]
        x = ins[0] if ins else None
        if x is None or x.constant:
            return None
        if op == "Conv":
            w, b = ins[1], ins[2] if len(ins) > 2 else None
            if w is None or not w.constant or (node.input(2) and (b is None or not b.constant)):
                return None
            inputs = [x.name, w.name] + ([b.name] if b else [])
            return [Node("QConv", node.name, inputs, [out], {**attrs, "activation": activation})]
        if op in ("Gemm", "MatMul"):
            return self.fully_connected(node, x, ins, out, activation)
        if activation != "NONE":
            return None
        out_q = g.tensor(out).quant
        assert out_q is not None
        if op in ("Add", "Sub", "Mul"):
            if ins[1] is None:
                return None
            extra = {"subtract": int(op == "Sub")} if op != "Mul" else {}
            kind = "QMul" if op == "Mul" else "QAdd"
            return [Node(kind, node.name, [x.name, ins[1].name], [out], {"activation": "NONE", **extra})]
        if op == "Relu":
            return [Node("QRelu", node.name, [x.name], [out], {"activation": "RELU"})]
        if op == "Clip":
            low, high = self.clip_bounds(node)
            if low == 0.0 and high == 6.0 and _same(x.quant, out_q):
                return [Node("QRelu", node.name, [x.name], [out], {"activation": "RELU6"})]
            if low == 0.0 and high == float("inf"):
                return [Node("QRelu", node.name, [x.name], [out], {"activation": "RELU"})]
            return None
        if op == "GlobalAveragePool" and len(g.tensor(x.name).shape) == 4:
            return [Node("QMean", node.name, [x.name], [out], {"axes": [2, 3], "keepdims": 1})]
        if op in ("MaxPool", "AveragePool"):
            if attrs.get("ceil_mode", 0) or attrs.get("count_include_pad", 0) or len(node.outputs) > 1:
                return None
            if any(d != 1 for d in attrs.get("dilations", [])) or attrs.get("storage_order", 0):
                return None
            kind = "QMaxPool" if op == "MaxPool" else "QAveragePool"
            return self.requantized(
                Node(kind, node.name, [x.name], [out], {**attrs, "activation": "NONE"}), x, out
            )
        if op in DATA_MOVEMENT:
            moved = Node(op, node.name, [x.name, *node.inputs[1:]], [out], attrs)
            return self.requantized(moved, x, out)
        if op == "Concat":
            parts: list[str] = []
            nodes: list[Node] = []
            for k, v in enumerate(ins):
                if v is None:
                    return None
                if _same(v.quant, out_q):
                    parts.append(v.name)
                    continue
                name = self.intermediate(f"{out}_part{k}", v.name, out_q)
                nodes.append(Node("Quantize", f"{node.name}/requantize{k}", [v.name], [name]))
                parts.append(name)
            return [*nodes, Node("Concat", node.name, parts, [out], attrs)]
        return None

    def fully_connected(
        self, node: Node, x: _Int, ins: list[_Int | None], out: str, activation: str
    ) -> list[Node] | None:
        attrs = node.attrs
        w = ins[1] if len(ins) > 1 else None
        if w is None or not w.constant or len(self.g.tensor(x.name).shape) != 2:
            return None
        if node.op == "Gemm" and (
            attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0
        ):
            return None
        weights = self.g.tensor(w.name)
        assert weights.data is not None
        if weights.data.ndim != 2:
            return None
        w_name = w.name
        if node.op == "MatMul" or not attrs.get("transB", 0):
            axis = None if w.quant.axis is None else 1 - w.quant.axis
            quant = Quant(w.quant.scale, w.quant.zero_point, axis)
            w_name = self.constant(weights.data.T, f"{w.name}_t", quant)
        inputs = [x.name, w_name]
        if node.op == "Gemm" and node.input(2):
            b = ins[2]
            if b is None or not b.constant:
                return None
            bias = self.g.tensor(b.name)
            assert bias.data is not None
            inputs.append(self.constant(bias.data.reshape(-1), f"{b.name}_vector", b.quant))
        return [Node("QFullyConnected", node.name, inputs, [out], {"activation": activation})]

    def clip_bounds(self, node: Node) -> tuple[float, float]:
        if self.g.opset < 11:
            return float(node.attrs.get("min", -np.inf)), float(node.attrs.get("max", np.inf))
        low, high = self.g.const(node.input(1)), self.g.const(node.input(2))
        return (
            -np.inf if low is None else float(low),
            np.inf if high is None else float(high),
        )

    def intermediate(self, base: str, like: str, quant: Quant) -> str:
        name = self.g.unique_name(base)
        self.g.add_tensor(Tensor(name, self.g.tensor(like).shape, DType.I8, quant=quant))
        return name

    def requantized(self, node: Node, x: _Int, out: str) -> list[Node]:
        """`node` with output `out`, through a requantization when `out`'s parameters differ from x's."""
        out_q = self.g.tensor(out).quant
        assert out_q is not None
        if _same(x.quant, out_q):
            return [node]
        mid = self.g.unique_name(f"{out}_unscaled")
        self.g.add_tensor(Tensor(mid, self.g.tensor(out).shape, DType.I8, quant=x.quant))
        node.outputs = [mid]
        return [node, Node("Quantize", f"{node.name}/requantize", [mid], [out])]

    def valid(self, nodes: list[Node]) -> bool:
        for n in nodes:
            op = lookup(n.op)
            try:
                if op is None:
                    return False
                op.check(n, self.g)
                shapes = op.infer(n, self.g)
            except OpUnsupported:
                return False
            if [tuple(s) for s, _ in shapes] != [self.g.tensor(o).shape for o in n.outputs]:
                return False
        return True

    # --- the pass -------------------------------------------------------------------------

    def run(self) -> None:
        g = self.g
        problems = []
        for n in g.nodes:
            if n.op == "QuantizeLinear":
                t = g.tensor(n.outputs[0])
                if t.dtype is DType.U8 and t.name in g.outputs:
                    problems.append((n.op, n.name, "uint8 graph outputs are not supported (int8 are)"))
                t.quant = _as_int8(qdq_quant(n, g), t.dtype)
                t.dtype = DType.I8
            elif n.op == "DequantizeLinear" and n.inputs[0] in g.inputs:
                t = g.tensor(n.inputs[0])
                if t.dtype is not DType.I8 or (t.quant is not None and not _same(t.quant, qdq_quant(n, g))):
                    problems.append((n.op, n.name, "graph inputs must be int8 with one quantization"))
                t.quant = qdq_quant(n, g)
        if problems:
            raise UnsupportedOpsError(g.source, problems)
        for qn in [n for n in g.nodes if n.op == "QuantizeLinear"]:
            self.fuse_group(qn)
        self.lower_leftovers()
        g.remove_unused_tensors()

    def fuse_group(self, qn: Node) -> None:
        g = self.g
        producers, consumers = g.producers(), g.consumers()
        f = qn.inputs[0]
        node = producers.get(f)
        if node is None or len(consumers.get(f, [])) != 1 or f in g.outputs:
            return
        replaced = [node]
        new = None
        if node.op in ("Relu", "Clip"):
            inner = producers.get(node.inputs[0])
            if (
                inner is not None
                and inner.op in ("Conv", "Gemm", "MatMul")
                and len(consumers[node.inputs[0]]) == 1
            ):
                low, high = self.clip_bounds(node) if node.op == "Clip" else (0.0, np.inf)
                act = {(0.0, np.inf): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}.get(
                    (low, high)
                )
                if act is not None:
                    new = self.fuse(inner, qn.outputs[0], act)
                    replaced = [inner, node]
        if new is None:
            replaced = [node]
            new = self.fuse(node, qn.outputs[0])
        if new is None or not self.valid(new):
            return
        at = g.nodes.index(replaced[0])
        g.nodes[at : at + 1] = new
        for old in [*replaced[1:], qn]:
            g.nodes.remove(old)

    def lower_leftovers(self) -> None:
        g = self.g
        consumers = g.consumers()
        kept: list[Node] = []
        problems: list[tuple[str, str, str]] = []
        for n in g.nodes:
            if n.op == "QuantizeLinear":
                kept.append(Node("Quantize", n.name, n.inputs[:1], n.outputs, {"ties_to_even": 1}))
            elif n.op == "DequantizeLinear":
                out = n.outputs[0]
                if not consumers.get(out) and out not in g.outputs:
                    continue
                src = g.tensor(n.inputs[0])
                if src.data is not None:
                    g.tensor(out).data = dequantize(src.data, qdq_quant(n, g))
                elif src.dtype is DType.I8 and src.quant is not None:
                    kept.append(Node("Dequantize", n.name, n.inputs[:1], n.outputs))
                else:
                    problems.append(
                        ("DequantizeLinear", n.name, f"{src.dtype.numpy_name} graph inputs are not supported")
                    )
            else:
                kept.append(n)
        if problems:
            raise UnsupportedOpsError(g.source, problems)
        g.nodes = kept


def fuse_qdq(graph: Graph) -> Graph:
    if any(n.op in ("QuantizeLinear", "DequantizeLinear") for n in graph.nodes):
        _Rewriter(graph).run()
    return graph
