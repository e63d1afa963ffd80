"""Every model in /work/shared/models on the multicore QEMU boards (qemu-an524: 2 cores,
qemu-riscv32: 4 harts): the N-core firmware's outputs are bit-identical to the one-core
firmware's, and those equal the oracle (int8 TFLite: TFLite Micro, bit for bit; float TFLite:
LiteRT; ONNX: onnxruntime). Models are compiled as `ariel-build run` compiles them (int8 weight
layout within the board's flash). The default run takes one model per board; `-m slow` all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.ir import DType
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import wide_weight_budget
from ariel_build.schedule.multicore import board_cores
from tests.conftest import SHARED_MODELS
from tests.oracle import litert_outputs, onnxruntime_outputs, tflite_micro_outputs

BOARDS = {"qemu-an524": 2, "qemu-riscv32": 4}
MODELS = sorted(
    str(p.relative_to(SHARED_MODELS))
    for p in [*SHARED_MODELS.rglob("*.onnx"), *SHARED_MODELS.rglob("*.tflite")]
)
# LiteRT runs this model's weights as int8 (dynamic range): close, not float-exact.
HYBRID = {"mlperf_tiny/kws_ref_model_float32.tflite"}
SAMPLE = {"qemu-an524": "microflow/sine.tflite", "qemu-riscv32": "onnx/mnist_simplified.onnx"}


def random_inputs(model: CompiledModel, rng: np.random.Generator) -> list[np.ndarray]:
    inputs = []
    for name in model.graph.inputs:
        t = model.graph.tensor(name)
        if t.dtype in (DType.I8, DType.I16):
            info = np.iinfo(t.dtype.numpy)
            inputs.append(rng.integers(info.min, info.max + 1, t.shape, dtype=t.dtype.numpy))
        else:
            inputs.append(rng.standard_normal(t.shape).astype(t.dtype.numpy))
    return inputs


def run_on(board: str, cores: int, rel: str, inputs: list[np.ndarray] | None) -> tuple[list, list]:
    b = load_board(board)
    model = compile_model(SHARED_MODELS / rel, cores=board_cores(b, cores), flash=wide_weight_budget(b))
    inputs = inputs or random_inputs(model, np.random.default_rng(5))
    slug = rel.replace("/", "-").replace(".", "-")
    harness = QemuHarness({"m": model}, cache_dir() / "test-firmware" / f"every-{board}-{cores}-{slug}", b)
    harness.build()
    return inputs, harness.run("m", inputs, timeout=600).outputs


def params() -> list:
    return [
        pytest.param(board, rel, marks=() if SAMPLE[board] == rel else pytest.mark.slow, id=f"{board}-{rel}")
        for board in BOARDS
        for rel in MODELS
    ]


@pytest.mark.cargo
@pytest.mark.parametrize(("board", "rel"), params())
def test_n_cores_equal_one_core_and_the_oracle(board: str, rel: str) -> None:
    inputs, one = run_on(board, 1, rel, None)
    _, many = run_on(board, BOARDS[board], rel, inputs)
    for k, (got, ref) in enumerate(zip(many, one, strict=True)):
        np.testing.assert_array_equal(got, ref, err_msg=f"output {k} on {BOARDS[board]} cores")
    path = SHARED_MODELS / rel
    if path.suffix == ".onnx":
        want = onnxruntime_outputs(path, inputs)
    elif all(np.issubdtype(o.dtype, np.integer) for o in one):
        want = tflite_micro_outputs(path, inputs)
    else:
        want = litert_outputs(path, inputs)
    for k, (got, w) in enumerate(zip(one, want, strict=True)):
        w = np.asarray(w).reshape(got.shape)
        if np.issubdtype(got.dtype, np.integer):
            np.testing.assert_array_equal(got, w, err_msg=f"output {k}")
        elif rel in HYBRID:
            np.testing.assert_allclose(got, w, atol=5e-3, err_msg=f"output {k}")
            assert np.argmax(got) == np.argmax(w)
        else:
            np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-4, err_msg=f"output {k}")


def test_the_sweep_covers_every_shared_model() -> None:
    assert len(MODELS) >= 19 and all(rel in MODELS for rel in SAMPLE.values())
    assert all(Path(SHARED_MODELS / rel).is_file() for rel in MODELS)
