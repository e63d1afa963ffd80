"""The intermediate representation: static shapes, dtypes and constants."""

from ariel_build.ir.dtype import DType
from ariel_build.ir.graph import Graph, Node, Quant, Tensor

__all__ = ["DType", "Graph", "Node", "Quant", "Tensor"]
