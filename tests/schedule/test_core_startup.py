"""Start-up of core 1 on the RP2040 and RP2350 (cross-build only: no hardware here): a two-core
model's firmware links the runtime's launch code, and core 1's vector table, which the SIO FIFO
sequence hands to the boot ROM, points at core 1's own stack and its reset handler."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import CORE1_STACK, runtime_features
from ariel_build.schedule.multicore import board_cores
from tests.conftest import SHARED_MODELS


def _symbol(elf: ELFFile, suffix: str) -> tuple[int, int]:
    """(address, size) of the one symbol of the runtime's `cores::core1` module ending in `suffix`."""
    table = elf.get_section_by_name(".symtab")
    found = [s for s in table.iter_symbols() if "5cores5core1" in s.name and s.name.endswith(suffix)]
    assert len(found) == 1, [s.name for s in found]
    return found[0]["st_value"], found[0]["st_size"]


def _read(elf: ELFFile, address: int, size: int) -> bytes:
    for section in elf.iter_sections():
        start = section["sh_addr"]
        if section["sh_type"] != "SHT_NOBITS" and start <= address < start + section["sh_size"]:
            return section.data()[address - start : address - start + size]
    raise AssertionError(f"{address:#x} is in no loaded section")


@pytest.mark.cargo
@pytest.mark.parametrize("board", ["rp2040", "rp2350"])
def test_core1_launch_is_built_with_its_own_stack_and_vectors(board: str, tmp_path: Path) -> None:
    b = load_board(board)
    assert "rp-sio-fifo" in runtime_features(b)
    model = compile_model(SHARED_MODELS / "onnx" / "mnist_simplified.onnx", cores=board_cores(b, 2))
    elf_path = QemuHarness({"mnist_simplified": model}, tmp_path, b).build()
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        stack, stack_size = _symbol(elf, "5STACK")
        vectors, _ = _symbol(elf, "7VECTORS")
        reset, _ = _symbol(elf, "5reset")
        assert stack_size == CORE1_STACK
        assert vectors % 128 == 0  # VTOR alignment
        stack_top, reset_handler = struct.unpack("<II", _read(elf, vectors, 8))
    assert b.ram is not None and b.ram.origin <= stack < b.ram.origin + b.ram.size
    assert stack_top == stack + CORE1_STACK
    assert reset_handler == reset and reset & 1  # a Thumb function
