"""The build-time budget check: models that cannot fit a board fail before any cargo build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from ariel_build.boards import load_board
from ariel_build.cli import main as cli_main
from ariel_build.errors import PlanError
from ariel_build.pipeline import compile_model
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import STACK_MARGIN, STATIC_RESERVE
from tests.conftest import SHARED_MODELS


def big_matmul(path: Path, k: int, n: int) -> Path:
    """x[1, k] @ W[k, n]: k*n*4 bytes of weights."""
    w = numpy_helper.from_array(np.full((k, n), 0.5, dtype=np.float32), "huge_weight")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "huge_weight"], ["y"])],
        "big",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, n])],
        [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_weights_beyond_flash_fail_with_the_numbers_and_the_tensor(tmp_path: Path) -> None:
    model = compile_model(big_matmul(tmp_path / "big.onnx", 1100, 1024))  # 4,505,600 B > 4 MiB
    harness = QemuHarness({"big": model}, tmp_path / "fw", load_board("qemu-an386"))
    with pytest.raises(PlanError) as e:
        harness.build()
    message = e.value.message
    assert "4,505,600 B" in message and "4,194,304 B of flash" in message and "huge_weight" in message
    assert not (tmp_path / "fw" / "Cargo.toml").exists()  # failed before writing or building


def test_arena_beyond_ram_fails_with_the_numbers_and_the_biggest_tensors(tmp_path: Path) -> None:
    model = compile_model(SHARED_MODELS / "onnx" / "mnist.onnx")
    io = (1 * 28 * 28 + 10) * 4  # the input image and the 10 scores, f32
    need = model.plan.arena_bytes + io + STACK_MARGIN
    room = 32 * 1024 - STATIC_RESERVE  # the GD32VF103 has 32 KiB of RAM and one hart
    assert need > room
    with pytest.raises(PlanError) as e:
        QemuHarness({"mnist": model}, tmp_path, load_board("gd32vf103")).build()
    message = e.value.message
    assert f"needs {need:,} B of RAM" in message and f"has {room:,} B" in message
    biggest = max(model.plan.buffers, key=lambda b: b.nbytes)
    assert f"'{biggest.tensor}' {biggest.nbytes:,} B" in message


def test_cli_reports_the_budget_error_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = big_matmul(tmp_path / "big.onnx", 1100, 1024)
    np.save(tmp_path / "x.npy", np.zeros((1, 1100), dtype=np.float32))
    argv = [
        "run",
        str(model),
        "--board",
        "qemu-an386",
        "--input",
        str(tmp_path / "x.npy"),
        "--out",
        str(tmp_path),
    ]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert "planning error" in err and "do not fit" in err and "Traceback" not in err


@pytest.mark.cargo
def test_a_firmware_the_linker_cannot_fit_gets_one_clear_error(tmp_path: Path) -> None:
    """VWW with every int8 layer widened passes the estimate on qemu-an524 (512 KiB) but not the
    link: the linker's overflow becomes a PlanError naming the region and the fix."""
    model = compile_model(SHARED_MODELS / "mlperf_tiny" / "vww_96_int8.tflite", int8_weights="wide")
    harness = QemuHarness({"vww": model}, tmp_path / "fw", load_board("qemu-an524"))
    with pytest.raises(PlanError) as e:
        harness.build()
    assert "larger than its FLASH" in e.value.message
    assert e.value.fix is not None and 'int8_weights = "compact"' in e.value.fix
