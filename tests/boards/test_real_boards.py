"""Every real board cross-builds a small model; the ELF lands in the board's memory map."""

from __future__ import annotations

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from ariel_build.boards import Board, board_names, load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.qemu import QemuHarness, cross_env
from ariel_build.toolchain import SetupError, target_usable
from tests.conftest import SHARED_MODELS

REAL_BOARDS = [n for n in board_names() if load_board(n).runner.kind in ("probe-rs", "espflash")]
XTENSA = [n for n in REAL_BOARDS if str(load_board(n).target).startswith("xtensa-")]

SHF_ALLOC, SHT_NOBITS = 0x2, "SHT_NOBITS"


def _inside(addr: int, size: int, origin: int, length: int) -> bool:
    return origin <= addr and addr + size <= origin + length


def check_layout(elf_path: Path, board: Board) -> dict[str, tuple[int, int]]:
    assert board.flash is not None and board.ram is not None
    sections = {}
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        for s in elf.iter_sections():
            if not s["sh_flags"] & SHF_ALLOC or s["sh_size"] == 0:
                continue
            addr, size = s["sh_addr"], s["sh_size"]
            sections[s.name] = (addr, size)
            in_flash = _inside(addr, size, board.flash.origin, board.flash.size)
            in_ram = _inside(addr, size, board.ram.origin, board.ram.size)
            assert in_flash or in_ram, f"{s.name} at {addr:#x}+{size} is outside {board.name}'s memory"
            if s["sh_type"] == SHT_NOBITS:
                assert in_ram, f"{s.name} (zero-initialised) must be in RAM"
        entry = elf.header["e_entry"] & ~1
    assert _inside(entry, 2, board.flash.origin, board.flash.size)
    return sections


@pytest.mark.cargo
@pytest.mark.parametrize("board", [n for n in REAL_BOARDS if n not in XTENSA])
def test_cross_builds_a_small_model(board: str, tmp_path: Path) -> None:
    b = load_board(board)
    model = compile_model(SHARED_MODELS / "onnx" / "mnist_simplified.onnx")
    harness = QemuHarness({"mnist_simplified": model}, tmp_path, b)
    elf = harness.build()
    sections = check_layout(elf, b)
    assert b.flash is not None
    boot = b.extra.get("boot_block")
    if boot == "rp2040-boot2":
        assert sections[".boot2"] == (b.flash.origin, 256)
    if boot == "rp2350-image-def":
        addr, size = sections[".start_block"]
        assert addr + size <= b.flash.origin + 4096 and size == 20  # found by the boot ROM
    assert harness.info is not None
    assert harness.info.memory["weights_bytes"] >= model.plan.weight_bytes


@pytest.mark.parametrize("board", XTENSA)
def test_xtensa_board_without_espressif_toolchain_says_what_to_install(board: str, tmp_path: Path) -> None:
    b = load_board(board)
    if target_usable(str(b.target), cross_env(str(b.target))["RUSTC"]):
        pytest.skip("an Xtensa Rust toolchain is installed here")
    harness = QemuHarness(
        {"mnist_simplified": compile_model(SHARED_MODELS / "onnx" / "mnist_simplified.onnx")}, tmp_path, b
    )
    with pytest.raises(SetupError) as e:
        harness.build()
    assert "espup" in e.value.render() and str(b.target) in e.value.message
