"""Per-op int8 models (tests/int8/cases.py) on the host equal TFLite Micro exactly."""

from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import UnsupportedOpsError
from ariel_build.frontends import load_model
from ariel_build.pipeline import compile_model
from ariel_build.runners.host import HostHarness
from tests.int8.cases import OpCase, cases, strided_slice, transpose
from tests.oracle import tflite_micro_outputs

CASES = {c.name: c for c in cases()}
RUNS = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostHarness, dict[str, Path]]:
    workdir = tmp_path_factory.mktemp("int8-ops")
    paths = {name: c.model.save(workdir / "models" / f"{name}.tflite") for name, c in CASES.items()}
    harness = HostHarness({name: compile_model(p) for name, p in paths.items()}, workdir / "harness")
    harness.build()
    return harness, paths


def _inputs(harness: HostHarness, case: OpCase, rng: np.random.Generator) -> list[np.ndarray]:
    if case.inputs is not None:
        return case.inputs(rng)
    g = harness.models[case.name].graph
    return [rng.integers(-128, 128, g.tensor(i).shape, dtype=np.int8) for i in g.inputs]


@pytest.mark.cargo
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_equals_tflite_micro(built: tuple[HostHarness, dict[str, Path]], name: str) -> None:
    harness, paths = built
    rng = np.random.default_rng(7)
    for run in range(RUNS):
        inputs = _inputs(harness, CASES[name], rng)
        want = tflite_micro_outputs(paths[name], inputs)
        got = harness.run(name, inputs)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            bad = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert bad.size == 0, (
                f"run {run}: {bad.size} of {a.size} differ; at {bad[:4]}: {a.reshape(-1)[bad[:4]]} "
                f"vs TFLite Micro {b.reshape(-1)[bad[:4]]}"
            )


@pytest.mark.parametrize("kind", ["TRANSPOSE", "STRIDED_SLICE"])
def test_int8_data_movement_with_a_different_output_quantization_is_reported(
    tmp_path: Path, kind: str
) -> None:
    case = (
        transpose(kind, (2, 3), [1, 0])
        if kind == "TRANSPOSE"
        else strided_slice(kind, (2, 3), [0, 0], [2, 3], [1, 1])
    )
    model = case.model
    model.tensors[model.outputs[0]].scale = [0.5]
    with pytest.raises(UnsupportedOpsError) as e:
        load_model(model.save(tmp_path / "m.tflite"))
    assert [(op, "quantization differs" in why) for op, _, why in e.value.problems] == [(kind, True)]
