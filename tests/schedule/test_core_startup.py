"""Start-up of core 1 on the RP2040, RP2350 and STM32H747 (cross-build only: no hardware here): a
two-core model's firmware links the runtime's start-up code, and core 1's vector table (handed to
the RP boot ROM through the SIO FIFO; where the STM32H747's M4 boots) points at core 1's own stack
and its reset handler."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import CORE1_STACK, runtime_features
from ariel_build.schedule.multicore import board_cores
from tests.conftest import SHARED_MODELS

SHF_ALLOC = 0x2


def _symbol(elf: ELFFile, suffix: str) -> tuple[int, int]:
    """(address, size) of the one symbol of the runtime's `cores::core1` module ending in `suffix`."""
    table = elf.get_section_by_name(".symtab")
    found = [s for s in table.iter_symbols() if "5cores5core1" in s.name and s.name.endswith(suffix)]
    assert len(found) == 1, [s.name for s in found]
    return found[0]["st_value"], found[0]["st_size"]


def _section_of(elf: ELFFile, address: int) -> Section:
    for section in elf.iter_sections():
        start = section["sh_addr"]
        if section["sh_flags"] & SHF_ALLOC and start <= address < start + section["sh_size"]:
            return section
    raise AssertionError(f"{address:#x} is in no allocated section")


def _read(elf: ELFFile, address: int, size: int) -> bytes:
    section = _section_of(elf, address)
    assert section["sh_type"] != "SHT_NOBITS", f"{address:#x} is not loaded"
    start = address - section["sh_addr"]
    return section.data()[start : start + size]


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


@pytest.mark.cargo
def test_m4_vector_table_is_at_its_boot_address(tmp_path: Path) -> None:
    """The STM32H747's M4 boots from the vector table at BOOT_CM4_ADD0 (0x08100000 by default):
    its stack pointer is the top of core 1's stack, outside what core 0's start-up zeroes (the M4
    may boot before that), and its reset and exception handlers are Thumb code in flash bank 1."""
    b = load_board("stm32h747")
    assert b.flash is not None and b.ram is not None
    m4_boot = b.extra["m4_boot_address"]
    assert m4_boot == 0x0810_0000 and "stm32h7-boot-c2" in runtime_features(b)
    model = compile_model(SHARED_MODELS / "onnx" / "mnist_simplified.onnx", cores=board_cores(b, 2))
    elf_path = QemuHarness({"mnist_simplified": model}, tmp_path, b).build()
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        vectors, _ = _symbol(elf, "7VECTORS")
        reset, _ = _symbol(elf, "5reset")
        stack, stack_size = _symbol(elf, "5STACK")
        stack_top, *handlers = struct.unpack("<16I", _read(elf, m4_boot, 64))
        stack_section = _section_of(elf, stack).name
    assert vectors == m4_boot
    assert stack_size == CORE1_STACK and stack_top == stack + CORE1_STACK
    assert b.ram.origin <= stack and stack_top <= b.ram.origin + b.ram.size
    assert stack_section == ".uninit"
    assert handlers[0] == reset
    for handler in handlers:
        assert handler & 1 and b.flash.origin <= handler & ~1 < m4_boot
