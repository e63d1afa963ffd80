"""Graph, nodes and tensors. Shapes are static; constants carry their data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ariel_build.ir.dtype import DType


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per slice along `axis`."""

    scale: np.ndarray  # float32, one value or one per slice
    zero_point: np.ndarray  # int64, same length as scale
    axis: int | None = None  # None: per tensor

    @property
    def per_tensor(self) -> tuple[float, int]:
        """(scale, zero point) of a per-tensor quantization."""
        return float(self.scale[0]), int(self.zero_point[0])


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    data: np.ndarray | None = None
    quant: Quant | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.size


@dataclass(frozen=True)
class Activation:
    """An activation fused into the op that produces a tensor (applied per output element)."""

    kind: str  # "relu" | "clip" | "sigmoid"
    low: float = float("-inf")
    high: float = float("inf")


@dataclass
class Node:
    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    activation: Activation | None = None

    def input(self, i: int) -> str | None:
        """Name of input i, or None when the optional input is absent."""
        return self.inputs[i] if i < len(self.inputs) and self.inputs[i] else None


@dataclass
class Graph:
    name: str
    source: str
    tensors: dict[str, Tensor] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    opset: int = 13
    # node name → op type in the source format, where it differs (TFLite CONV_2D → Conv, Transpose…)
    source_ops: dict[str, str] = field(default_factory=dict)

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def const(self, name: str | None) -> np.ndarray | None:
        if not name:
            return None
        t = self.tensors.get(name)
        return None if t is None else t.data

    def add_tensor(self, tensor: Tensor) -> Tensor:
        self.tensors[tensor.name] = tensor
        return tensor

    def add_constant(self, name: str, data: np.ndarray) -> Tensor:
        return self.add_tensor(
            Tensor(self.unique_name(name), tuple(data.shape), DType.from_numpy(data.dtype), data)
        )

    def unique_name(self, base: str) -> str:
        if base not in self.tensors:
            return base
        i = 1
        while f"{base}_{i}" in self.tensors:
            i += 1
        return f"{base}_{i}"

    def producers(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs if o}

    def consumers(self) -> dict[str, list[Node]]:
        uses: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    uses.setdefault(i, []).append(n)
        return uses

    def replace_uses(self, old: str, new: str) -> None:
        """Make every reader of `old` (nodes and graph outputs) read `new` instead."""
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_unused_tensors(self) -> None:
        used = set(self.inputs) | set(self.outputs)
        for n in self.nodes:
            used.update(i for i in n.inputs if i)
            used.update(o for o in n.outputs if o)
        self.tensors = {k: v for k, v in self.tensors.items() if k in used}
