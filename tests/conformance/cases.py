"""ONNX backend node tests: discovery, test data, and output comparison (onnx's own tolerances)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ariel_build.codegen.names import snake_case

NODE_TESTS = Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"
# onnx's backend test defaults (a test's data.json may override them).
RTOL = 1e-3
ATOL = 1e-7


class CaseUnsupported(Exception):
    """The test's inputs or outputs are of a kind the product does not take (reason in the message)."""


@dataclass
class Case:
    name: str
    directory: Path

    @property
    def model_path(self) -> Path:
        return self.directory / "model.onnx"

    @property
    def module(self) -> str:
        """Rust module name in the harness (test names are unique, so are their snake cases)."""
        return snake_case(self.name)

    def tolerances(self) -> tuple[float, float]:
        meta = self.directory / "data.json"
        if not meta.exists():
            return RTOL, ATOL
        data = json.loads(meta.read_text())
        return float(data.get("rtol", RTOL)), float(data.get("atol", ATOL))


def discover(pattern: str | None = None, root: Path = NODE_TESTS) -> list[Case]:
    regex = re.compile(pattern) if pattern else None
    return [
        Case(d.name, d)
        for d in sorted(root.iterdir())
        if (d / "model.onnx").exists() and (regex is None or regex.search(d.name))
    ]


def _check_value_types(values: list[onnx.ValueInfoProto], kind: str) -> None:
    for vi in values:
        which = vi.type.WhichOneof("value")
        if which != "tensor_type":
            raise CaseUnsupported(f"{kind} of {which.removesuffix('_type') if which else 'unknown'} type")
        elem = vi.type.tensor_type.elem_type
        if elem == onnx.TensorProto.STRING:
            raise CaseUnsupported(f"{kind} of string type")
        if kind == "input":
            dims = vi.type.tensor_type.shape.dim
            if not vi.type.tensor_type.HasField("shape") or any(not d.HasField("dim_value") for d in dims):
                raise CaseUnsupported("dynamic input shape")


def _read_tensor(path: Path) -> np.ndarray:
    proto = onnx.TensorProto()
    proto.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(proto)


@dataclass
class TestData:
    inputs: dict[str, np.ndarray]  # by graph input name (initializers listed as inputs get none)
    outputs: list[np.ndarray]  # in graph output order


def load_data(case: Case) -> TestData:
    """The first data set, keyed like the model; CaseUnsupported for non-tensor or dynamic I/O."""
    model = onnx.load(str(case.model_path), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in initializers]
    _check_value_types(graph_inputs, "input")
    _check_value_types(list(model.graph.output), "output")
    data_dir = case.directory / "test_data_set_0"
    # input_k.pb belongs to graph input k, as in onnx's backend runner.
    inputs = {
        vi.name: _read_tensor(data_dir / f"input_{k}.pb")
        for k, vi in enumerate(model.graph.input)
        if vi.name not in initializers and (data_dir / f"input_{k}.pb").exists()
    }
    missing = [vi.name for vi in graph_inputs if vi.name not in inputs]
    if missing:
        raise CaseUnsupported(f"no test data for input(s) {missing}")
    outputs = [_read_tensor(data_dir / f"output_{k}.pb") for k in range(len(model.graph.output))]
    return TestData(inputs, outputs)


@dataclass
class Comparison:
    ok: bool
    reason: str = ""
    max_abs_error: float = 0.0


def compare(got: list[np.ndarray], want: list[np.ndarray], rtol: float, atol: float) -> Comparison:
    """onnx's backend check: same shapes and dtypes; floats within rtol/atol (NaN matches NaN); others exact."""
    worst = 0.0
    problems: list[str] = []
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        if g.shape != w.shape:
            problems.append(f"output {k}: shape {list(g.shape)} != expected {list(w.shape)}")
            continue
        if g.dtype != w.dtype:
            problems.append(f"output {k}: dtype {g.dtype} != expected {w.dtype}")
            continue
        if g.size == 0:
            continue
        if np.issubdtype(w.dtype, np.floating):
            g64, w64 = g.astype(np.float64), w.astype(np.float64)
            both_nan = np.isnan(g64) & np.isnan(w64)
            same_inf = np.isinf(w64) & (g64 == w64)
            with np.errstate(invalid="ignore"):  # inf - inf; both cases are settled just below
                err = np.where(both_nan | same_inf, 0.0, np.abs(g64 - w64))
            err = np.where(np.isnan(err), np.inf, err)
            worst = max(worst, float(err.max()))
            bad = err > atol + rtol * np.where(np.isfinite(w64), np.abs(w64), 0.0)
        else:
            bad = g != w
            if bad.any():
                worst = max(worst, float(np.abs(g.astype(np.float64) - w.astype(np.float64)).max()))
        if bad.any():
            problems.append(f"output {k}: {int(bad.sum())}/{bad.size} elements differ")
    return Comparison(not problems, "; ".join(problems), worst)
