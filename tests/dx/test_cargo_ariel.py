"""`cargo ariel`: scaffolding a crate for a board, flashing through probe-rs (a fake one that
records its arguments), and a scaffolded crate running in QEMU against onnxruntime."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ariel_build.boards import load_board
from ariel_build.runners.qemu_firmware import CORE1_STARTS
from tests.dx.cargo_ariel import MNIST, cargo_ariel, cargo_ariel_binary, prediction
from tests.oracle import onnxruntime_outputs

pytestmark = pytest.mark.cargo


@pytest.fixture(scope="module")
def binary() -> Path:
    return cargo_ariel_binary()


def fake_probe_rs(bin_dir: Path, log: Path) -> None:
    """A `probe-rs` that appends its arguments (one a line, then `--`) to `log`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "probe-rs"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{log}'\necho -- >> '{log}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def calls(log: Path) -> list[list[str]]:
    return [c.strip("\n").split("\n") for c in log.read_text().split("--\n") if c.strip()]


def path_without_probe_rs(extra: Path | None = None) -> str:
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "probe-rs").exists()]
    return os.pathsep.join(([str(extra)] if extra else []) + dirs)


def new_crate(binary: Path, tmp_path: Path, board: str, framework: str = "bare") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    result = cargo_ariel(
        binary, tmp_path, "new", "fw", "--board", board, "--framework", framework, "--model", str(MNIST)
    )
    assert result.returncode == 0, result.stderr
    return tmp_path / "fw"


def test_new_writes_the_boards_target_runner_and_memory(binary: Path, tmp_path: Path) -> None:
    for name in ("qemu-an386", "rp2350"):
        board = load_board(name)
        crate = new_crate(binary, tmp_path / name, name)
        config = (crate / ".cargo" / "config.toml").read_text()
        assert f'target = "{board.target}"' in config
        runner = (
            " ".join(board.runner.command) if board.emulated else f"probe-rs run --chip {board.runner.chip}"
        )
        assert f'runner = "{runner}"' in config
        assert f'board = "{name}"' in (crate / "Cargo.toml").read_text()
        assert board.flash is not None
        assert f"FLASH : ORIGIN = {board.flash.origin:#x}" in (crate / "memory.x").read_text()


def test_new_refuses_the_host_board_and_a_missing_model(binary: Path, tmp_path: Path) -> None:
    host = cargo_ariel(binary, tmp_path, "new", "fw", "--board", "host", "--model", str(MNIST))
    assert host.returncode == 2 and "runs on the host" in host.stderr and "Traceback" not in host.stderr
    missing = cargo_ariel(binary, tmp_path, "new", "fw2", "--board", "rp2350", "--model", "nope.onnx")
    assert missing.returncode == 2 and "model file not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_flash_without_probe_rs_says_how_to_install_it(binary: Path, tmp_path: Path) -> None:
    result = cargo_ariel(binary, tmp_path, "flash", path=path_without_probe_rs())
    assert result.returncode == 2
    assert "probe-rs" in result.stderr and "cargo install probe-rs-tools" in result.stderr


def test_flash_refuses_an_emulated_board(binary: Path, tmp_path: Path) -> None:
    crate = new_crate(binary, tmp_path, "qemu-an386")
    fake_probe_rs(tmp_path / "bin", tmp_path / "probe-rs.log")
    result = cargo_ariel(binary, crate, "flash", path=path_without_probe_rs(tmp_path / "bin"))
    assert result.returncode == 2 and "cargo ariel run" in result.stderr
    assert not (tmp_path / "probe-rs.log").exists()


def test_flash_passes_chip_elf_and_options_to_probe_rs(binary: Path, tmp_path: Path) -> None:
    board = load_board("rp2350")
    crate = new_crate(binary, tmp_path, board.name)
    log = tmp_path / "probe-rs.log"
    fake_probe_rs(tmp_path / "bin", log)
    result = cargo_ariel(
        binary, crate, "flash", "--release", "--probe-rs-arg=--probe=2e8a:000c",
        path=path_without_probe_rs(tmp_path / "bin"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    download, reset = calls(log)
    assert download[:4] == ["download", "--chip", str(board.runner.chip), "--probe=2e8a:000c"]
    elf = Path(download[4])
    assert len(download) == 5 and elf.name == "fw" and elf.parent.name == "release"
    header = elf.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 40  # EM_ARM
    assert reset == ["reset", "--chip", str(board.runner.chip), "--probe=2e8a:000c"]


def test_new_crate_runs_in_qemu_and_matches_onnxruntime(binary: Path, tmp_path: Path) -> None:
    crate = new_crate(binary, tmp_path, "qemu-an386")
    result = cargo_ariel(binary, crate, "run")
    assert result.returncode == 0, result.stderr[-3000:]
    label, scores = prediction(result.stdout)
    want = onnxruntime_outputs(MNIST, [np.zeros((1, 1, 28, 28), np.float32)])[0].reshape(-1)
    np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-5)
    assert label == int(np.argmax(want))


def test_report_writes_a_page_per_model_for_the_crates_board(binary: Path, tmp_path: Path) -> None:
    crate = new_crate(binary, tmp_path, "rp2350")
    result = cargo_ariel(binary, crate, "report")
    assert result.returncode == 0, result.stderr
    page = (crate / "target" / "ariel-report" / "mnist.html").read_text()
    assert "mnist.onnx on rp2350" in page and "Arena over time" in page


def test_run_on_a_real_board_goes_through_probe_rs(binary: Path, tmp_path: Path) -> None:
    board = load_board("rp2350")
    crate = new_crate(binary, tmp_path, board.name)
    missing = cargo_ariel(binary, crate, "run", "--release", path=path_without_probe_rs())
    assert missing.returncode == 2 and "cargo install probe-rs-tools" in missing.stderr
    log = tmp_path / "probe-rs.log"
    fake_probe_rs(tmp_path / "bin", log)
    result = cargo_ariel(binary, crate, "run", "--release", path=path_without_probe_rs(tmp_path / "bin"))
    assert result.returncode == 0, result.stderr
    ((*args, elf),) = calls(log)
    assert args == ["run", "--chip", str(board.runner.chip)]
    assert Path(elf).name == "fw" and Path(elf).read_bytes()[:4] == b"\x7fELF"


@pytest.mark.parametrize(
    ("board", "framework", "cores", "message"),
    [
        ("qemu-an524", "bare", 3, "board 'qemu-an524' has 2 core(s)"),
        ("esp32s3", "bare", 2, "cannot start the other cores of board 'esp32s3'"),
        ("qemu-riscv32", "embassy", 1, "the embassy template is for Cortex-M boards"),
    ],
)
def test_new_says_what_a_board_cannot_do(
    binary: Path, tmp_path: Path, board: str, framework: str, cores: int, message: str
) -> None:
    result = cargo_ariel(
        binary, tmp_path, "new", "fw", "--board", board, "--framework", framework, "--cores", str(cores),
        "--model", str(MNIST),
    )  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "fw").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("board", "framework"), [("rp2040", "bare"), ("rp2350", "embassy"), ("stm32h747", "bare")]
)
def test_new_two_core_crate_cross_builds_for_real_boards(
    binary: Path, tmp_path: Path, board: str, framework: str
) -> None:
    """The RP2040/RP2350 SIO FIFO launch and the STM32H747's M4 start-up (ariel-board `cores`):
    a two-core crate is written with the start-up's runtime feature and cross-builds."""
    result = cargo_ariel(
        binary, tmp_path, "new", "fw", "--board", board, "--framework", framework, "--cores", "2",
        "--model", str(MNIST),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    crate = tmp_path / "fw"
    manifest = (crate / "Cargo.toml").read_text()
    start = load_board(board).secondary_start
    assert "cores = 2" in manifest and CORE1_STARTS[start] in manifest
    built = cargo_ariel(binary, crate, "build", "--release", "--quiet")
    assert built.returncode == 0, built.stderr[-3000:]


def test_a_bad_key_fails_the_build_with_one_message(binary: Path, tmp_path: Path) -> None:
    crate = new_crate(binary, tmp_path, "qemu-an386")
    (crate / "ariel.toml").write_text(
        f'[[model]]\nname = "mnist"\npath = "{MNIST}"\ninput_shape = {{ x = [1] }}\n'
    )
    result = cargo_ariel(binary, crate, "build")
    assert result.returncode != 0
    assert result.stderr.count("unknown key 'model[0].input_shape'") == 1
    assert "did you mean 'input_shapes'" in result.stderr and "Traceback" not in result.stderr


def test_check_names_an_unsupported_op_before_cargo_runs(binary: Path, tmp_path: Path) -> None:
    crate = new_crate(binary, tmp_path, "qemu-an386")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Unique", ["x"], ["y"], name="dedup")], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), crate / "u.onnx")
    (crate / "ariel.toml").write_text('[[model]]\nname = "u"\npath = "u.onnx"\n')
    result = cargo_ariel(binary, crate, "check")
    assert result.returncode == 1
    assert "Unique 'dedup'" in result.stdout and "1 unsupported op type(s): Unique" in result.stdout
    assert "Checking" not in result.stderr  # cargo check did not start
