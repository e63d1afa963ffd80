"""ONNX ConvInteger / MatMulInteger (int32 outputs, kernels/src/ops/int8/integer.rs) on the host equal
onnxruntime exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.frontends import load_model
from fixtures.model_case import ModelCase, single_node_case
from tests.oracle import CaseBatch


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: type[np.integer]) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


def _case(
    name: str,
    op: str,
    x: tuple[tuple[int, ...], type[np.integer]],
    w: tuple[tuple[int, ...], type[np.integer]],
    zeros: tuple[int | None, list[int] | None],
    w_runtime: bool = False,
    **attrs: object,
) -> ModelCase:
    rng = np.random.default_rng(len(name))
    inputs = {"x": _values(rng, *x)}
    constants: dict[str, np.ndarray] = {}
    (inputs if w_runtime else constants)["w"] = _values(rng, *w)
    names = ["x", "w"]
    if zeros != (None, None):
        x_zero, w_zero = zeros
        constants["x_zero"] = np.array(x_zero or 0, x[1])
        constants["w_zero"] = np.array(w_zero or 0, w[1]).reshape(-1 if w_zero and len(w_zero) > 1 else ())
        names += ["x_zero", "w_zero"]
    return single_node_case(name, op, inputs, constants=constants, attrs=attrs, input_order=names)


CASES = [
    _case("conv_u8_u8_pads", "ConvInteger", ((1, 3, 7, 9), np.uint8), ((4, 3, 3, 3), np.uint8), (131, [117]),
          pads=[1, 1, 1, 1]),
    _case("conv_u8_i8_stride2", "ConvInteger", ((2, 2, 9, 8), np.uint8), ((3, 2, 3, 2), np.int8),
          (7, [3]), strides=[2, 2], pads=[0, 1, 1, 0]),
    _case("conv_u8_groups_dilation", "ConvInteger", ((1, 4, 10, 9), np.uint8), ((6, 2, 3, 3), np.uint8),
          (128, [128]), group=2, dilations=[2, 2], pads=[2, 1, 0, 2]),
    _case("conv_u8_1d_no_zero_points", "ConvInteger", ((1, 3, 17), np.uint8), ((5, 3, 4), np.uint8),
          (None, None), strides=[3], pads=[2, 1]),
    _case("matmul_u8_u8", "MatMulInteger", ((5, 17), np.uint8), ((17, 6), np.uint8), (140, [100])),
    _case("matmul_i8_i8_batched_per_column", "MatMulInteger", ((2, 3, 9), np.int8), ((9, 4), np.int8),
          (-5, [3, -2, 0, 7])),
    _case("matmul_u8_i8_runtime_b", "MatMulInteger", ((4, 11), np.uint8), ((11, 7), np.int8), (None, None),
          w_runtime=True),
]  # fmt: skip


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, Path(tmp_path_factory.mktemp("integer")))


@pytest.mark.cargo
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_integer_op_equals_onnxruntime(batch: CaseBatch, name: str) -> None:
    assert {n.op for n in batch.compiled[name].graph.nodes} & {"ConvInteger", "MatMulInteger"}
    batch.check(name)


def test_sums_that_could_overflow_int32_are_reported(tmp_path: Path) -> None:
    case = _case(
        "too_deep", "ConvInteger", ((1, 4000, 3, 3), np.uint8), ((1, 4000, 3, 3), np.uint8), (0, [0])
    )
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(case.save(tmp_path))
    assert [(op, "overflow" in why) for op, _, why in e.value.problems] == [("ConvInteger", True)]
