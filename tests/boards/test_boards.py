from pathlib import Path

import pytest

from ariel_build.boards import board_names, load_board, parse_board
from ariel_build.errors import ConfigError


def test_every_board_definition_parses() -> None:
    for name in board_names():
        board = load_board(name)
        assert board.cores, name
        assert (board.target is None) == (board.runner.kind == "host"), name


def test_unknown_board_suggests_the_closest_name() -> None:
    with pytest.raises(ConfigError) as e:
        load_board("hots")
    assert "did you mean 'host'" in e.value.render()


def test_unknown_key_and_wrong_type_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('name = "b"\n[[cores]]\narch = "x"\nmhz = 1\nf32_sped = 1.0\n[runner]\nkind = "host"\n')
    with pytest.raises(ConfigError) as e:
        parse_board(path)
    assert "cores[0].f32_sped" in e.value.message and "did you mean 'f32_speed'" in e.value.render()
    path.write_text('name = "b"\n[[cores]]\narch = "x"\nmhz = "fast"\n[runner]\nkind = "host"\n')
    with pytest.raises(ConfigError, match="cores\\[0\\].mhz"):
        parse_board(path)


def test_core_count_expands(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text(
        'name = "b"\n[[cores]]\narch = "m7"\nmhz = 480\ncount = 1\n[[cores]]\narch = "m4"\nmhz = 240\n'
        'f32_speed = 0.4\n[runner]\nkind = "host"\n'
    )
    assert [c.arch for c in parse_board(path).cores] == ["m7", "m4"]


def test_memory_x_follows_the_board_definition() -> None:
    from ariel_build.runners.qemu_firmware import STATIC_RESERVE, memory_x

    an386 = memory_x(load_board("qemu-an386"))
    assert "FLASH : ORIGIN = 0x0, LENGTH = 0x400000" in an386
    assert "RAM : ORIGIN = 0x20000000, LENGTH = 0x400000" in an386
    assert "REGION_ALIAS" not in an386  # cortex-m-rt takes FLASH and RAM as they are
    riscv = memory_x(load_board("qemu-riscv32"))
    assert 'REGION_ALIAS("REGION_TEXT", FLASH);' in riscv and 'REGION_ALIAS("REGION_STACK", RAM);' in riscv
    # Four harts share 16 MiB less the statics' reserve.
    assert (
        "_max_hart_id = 3;" in riscv
        and f"_hart_stack_size = {(0x1000000 - STATIC_RESERVE) // 4:#x};" in riscv
    )
    rp2040 = memory_x(load_board("rp2040"))
    assert "BOOT2 : ORIGIN = 0x10000000, LENGTH = 0x100" in rp2040
    assert "FLASH : ORIGIN = 0x10000100, LENGTH = 0x1fff00" in rp2040
