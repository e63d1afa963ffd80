"""ONNX → IR: initializers, Constant nodes and empty inputs become constants; shapes are made static."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ariel_build.errors import ModelImportError
from ariel_build.ir import DType, Graph, Node, Tensor
from ariel_build.passes.infer_shapes import infer_shapes


def _attr_value(attr: onnx.AttributeProto) -> object:
    if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        raise ValueError("subgraph attributes (If/Loop/Scan bodies) are not supported")
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    return value


def _constant_value(node: onnx.NodeProto) -> np.ndarray:
    attr = node.attribute[0]
    value = _attr_value(attr)
    if attr.name in ("value_float", "value_int", "value_floats", "value_ints"):
        dtype = np.float32 if "float" in attr.name else np.int64
        return np.asarray(value, dtype=dtype)
    if not isinstance(value, np.ndarray):
        raise ValueError(f"Constant attribute '{attr.name}' is not supported")
    return value


def _dtype(elem_type: int, where: str) -> DType:
    try:
        return DType.from_numpy(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, ValueError, TypeError) as e:
        name = onnx.TensorProto.DataType.Name(elem_type)
        raise ModelImportError(
            f"element type {name} of '{where}' is not supported",
            fix="export the model with float32 (or int8/int32/int64) tensors",
        ) from e


def _static_shape(
    vi: onnx.ValueInfoProto, overrides: dict[str, tuple[int, ...]], path: Path
) -> tuple[int, ...]:
    if vi.name in overrides:
        return tuple(overrides[vi.name])
    dims = []
    for k, d in enumerate(vi.type.tensor_type.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(d.dim_value)
        elif d.HasField("dim_value"):
            dims.append(0)  # an empty input: see load_onnx
        elif k == 0:
            dims.append(1)  # a symbolic batch dimension: one sample per inference
        else:
            raise ModelImportError(
                f"input '{vi.name}' has a symbolic dimension {k} ('{d.dim_param}')",
                where=str(path),
                fix=f"give its shape in ariel.toml: input_shapes = {{ {vi.name} = [...] }}",
            )
    return tuple(dims)


def read_onnx(path: Path) -> onnx.ModelProto:
    """Parse an ONNX file; a corrupt or empty one is a ModelImportError naming the file."""
    if not path.is_file():
        raise ModelImportError("model file not found", where=str(path), fix="check the path")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises several unrelated types for corrupt files
        raise ModelImportError(
            f"not a valid ONNX file ({type(e).__name__})", where=str(path), fix="re-export the model"
        ) from e
    if not model.graph.node and not model.graph.output:
        raise ModelImportError("the ONNX file holds no graph", where=str(path), fix="re-export the model")
    return model


def list_ops(path: Path) -> Counter[str]:
    """Op types and their node counts, without importing the model (for `check`)."""
    return Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        for n in read_onnx(path).graph.node
    )


def load_onnx(path: Path, input_shapes: dict[str, tuple[int, ...]]) -> Graph:
    model = read_onnx(path)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    g = Graph(name=model.graph.name or path.stem, source=str(path), opset=opset)

    for init in model.graph.initializer:
        g.add_tensor(_constant_tensor(init.name, numpy_helper.to_array(init), path))
    known_inputs = {vi.name for vi in model.graph.input}
    unknown = set(input_shapes) - known_inputs
    if unknown:
        raise ModelImportError(
            f"input_shapes names unknown input(s) {sorted(unknown)}",
            where=str(path),
            fix=f"graph inputs are {sorted(known_inputs - set(g.tensors))}",
        )
    for vi in model.graph.input:
        if vi.name in g.tensors:
            continue  # an initializer listed as input (old exporters): a constant
        dtype = _dtype(vi.type.tensor_type.elem_type, vi.name)
        shape = _static_shape(vi, input_shapes, path)
        if 0 in shape:  # no elements, so only one possible value: a constant, not a parameter of `run`
            g.add_tensor(Tensor(vi.name, shape, dtype, np.zeros(shape, dtype.numpy)))
            continue
        g.add_tensor(Tensor(vi.name, shape, dtype))
        g.inputs.append(vi.name)

    for k, n in enumerate(model.graph.node):
        name = n.name or f"{n.op_type}_{k}"
        if n.domain not in ("", "ai.onnx"):
            node = Node(f"{n.domain}.{n.op_type}", name, list(n.input), list(n.output))
        elif n.op_type == "Constant":
            try:
                g.add_tensor(_constant_tensor(n.output[0], _constant_value(n), path))
            except ValueError as e:
                raise ModelImportError(str(e), where=f"{path}: node '{name}'") from e
            continue
        else:
            try:
                attrs = {a.name: _attr_value(a) for a in n.attribute}
            except ValueError as e:
                attrs = {"__unsupported__": str(e)}
            node = Node(n.op_type, name, list(n.input), list(n.output), attrs)
        g.nodes.append(node)
    g.outputs = [o.name for o in model.graph.output]
    infer_shapes(g)
    return g


def _constant_tensor(name: str, data: np.ndarray, path: Path) -> Tensor:
    try:
        dtype = DType.from_numpy(data.dtype)
    except ValueError as e:
        raise ModelImportError(
            f"constant '{name}' has unsupported element type {data.dtype}", where=str(path)
        ) from e
    return Tensor(name, tuple(int(d) for d in data.shape), dtype, np.asarray(data, order="C"))
