"""SequenceLstm, f32: TFLite UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro runs it (no peepholes,
projection or layer normalization). Kernel: kernels/src/ops/lstm.rs.

Inputs: x [batch, time, input] ([time, batch, input] when `time_major`), weights [4 * hidden, input],
recurrent weights [4 * hidden, hidden] and bias [4 * hidden], the gates stacked in the order input,
forget, cell, output. Outputs: the hidden state of every step, [batch, time, hidden] (time-major
alike), and the state [2, batch, hidden] (hidden, cell), a *persistent* output: it carries over
from one `run` to the next as TFLite Micro's variable tensors do (a zeroed arena is the reset
state). Attribute `cell_clip` (0 = none); the cell gate's activation is tanh (TFLite's fused
activation, the only one the schema allows there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ariel_build.ir import DType, Graph, Node
from ariel_build.ops.base import Op, Operands, OpUnsupported, in_shape, register, require_dtype, rust_f32

GATES = 4
STATE = 1  # output index of the hidden and cell state


@dataclass(frozen=True)
class LstmShape:
    batch: int
    time: int
    input: int
    hidden: int
    time_major: bool

    @property
    def out_shape(self) -> tuple[int, int, int]:
        if self.time_major:
            return (self.time, self.batch, self.hidden)
        return (self.batch, self.time, self.hidden)

    @property
    def state_shape(self) -> tuple[int, int, int]:
        return (2, self.batch, self.hidden)

    def rust(self) -> str:
        return (
            f"batch: {self.batch}, time: {self.time}, input: {self.input}, hidden: {self.hidden}, "
            f"time_major: {str(self.time_major).lower()}"
        )

    def steps(self) -> list[tuple[int, int]]:
        """(batch, time) in the order TFLite Micro runs them."""
        return [(b, t) for b in range(self.batch) for t in range(self.time)]

    def row(self, b: int, t: int) -> int:
        """Row of step (b, t) in the input and output, viewed as [steps, features]."""
        return t * self.batch + b if self.time_major else b * self.time + t


def lstm_shape(node: Node, graph: Graph) -> LstmShape:
    x, w, r, bias = (in_shape(node, graph, i) for i in range(4))
    if len(x) != 3 or len(w) != 2 or w[0] % GATES or w[0] == 0:
        raise OpUnsupported(f"input {list(x)} must be 3-D and weights {list(w)} [4 * hidden, input]")
    hidden = w[0] // GATES
    if w[1] != x[2] or r != (GATES * hidden, hidden) or bias != (GATES * hidden,):
        raise OpUnsupported(
            f"weights {list(w)}, recurrent weights {list(r)} and bias {list(bias)} do not fit "
            f"input {list(x)} and hidden size {hidden}"
        )
    time_major = bool(node.attrs.get("time_major", 0))
    batch, time = (x[1], x[0]) if time_major else (x[0], x[1])
    return LstmShape(batch, time, x[2], hidden, time_major)


def lstm_macs(s: LstmShape) -> int:
    """Per step: the gates' matrix products, then three products for cell and hidden state."""
    return s.batch * s.time * (GATES * s.hidden * (s.input + s.hidden) + 3 * s.hidden)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-v))).astype(np.float32)


@register
class SequenceLstm(Op):
    name = "SequenceLstm"

    def check(self, node: Node, graph: Graph) -> None:
        for i in range(4):
            require_dtype(node, graph, (DType.F32,), i)
        if float(node.attrs.get("cell_clip", 0.0)) < 0:
            raise OpUnsupported("cell_clip must not be negative")

    def infer(self, node: Node, graph: Graph) -> list[tuple[tuple[int, ...], DType]]:
        s = lstm_shape(node, graph)
        return [(s.out_shape, DType.F32), (s.state_shape, DType.F32)]

    def persistent_outputs(self, node: Node, graph: Graph) -> list[int]:
        return [STATE]

    def macs(self, node: Node, graph: Graph) -> int:
        return lstm_macs(lstm_shape(node, graph))

    def scratch_bytes(self, node: Node, graph: Graph) -> int:
        """The four gates of one batch row, their input and recurrent parts."""
        return 2 * GATES * lstm_shape(node, graph).hidden * DType.F32.size

    def reference(self, node: Node, graph: Graph, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        s = lstm_shape(node, graph)
        x, w, r, bias = (np.asarray(v, np.float32) for v in inputs)
        rows = x.reshape(-1, s.input)
        out = np.zeros((s.batch * s.time, s.hidden), np.float32)
        state = np.zeros(s.state_shape, np.float32)  # the reset state
        clip = np.float32(node.attrs.get("cell_clip", 0.0))
        for b, t in s.steps():
            h, c = state[:, b]
            gates = (w @ rows[s.row(b, t)] + bias) + r @ h
            i, f, g, o = np.split(gates, GATES)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            if clip > 0:
                c = np.clip(c, -clip, clip)
            h = (np.tanh(c) * _sigmoid(o)).astype(np.float32)
            out[s.row(b, t)] = state[0, b] = h
            state[1, b] = c
        return [out.reshape(s.out_shape), state]

    def emit(self, node: Node, graph: Graph, io: Operands) -> str:
        s = lstm_shape(node, graph)
        params = (
            f"k::ops::lstm::Lstm {{ {s.rust()}, cell_clip: {rust_f32(node.attrs.get('cell_clip', 0.0))} }}"
        )
        x, w, r, bias = io.inputs[:4]
        y, state = io.outputs
        return (
            f"k::ops::lstm::lstm(&{params}, {x}, {w}, {r}, {bias}, {y}, {state}, k::cast_mut({io.scratch}));"
        )
