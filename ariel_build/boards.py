"""Board definitions: `board-support/boards/<name>.toml`, validated into `Board`.

A board says which Rust target to build for, its cores (and how fast each is relative to the
others, for the scheduler), its memory, how the other cores start, and how to run a firmware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import tomlkit

from ariel_build.config.tables import TomlTable as _Table
from ariel_build.config.tables import did_you_mean as _did_you_mean
from ariel_build.errors import ConfigError

BOARDS_DIR = Path(__file__).resolve().parent.parent / "board-support" / "boards"

RUNNER_KINDS = ("host", "qemu", "probe-rs", "espflash")


@dataclass(frozen=True)
class Core:
    arch: str  # e.g. cortex-m33, rv32imac, x86_64
    mhz: int
    f32_speed: float  # relative f32 MAC throughput (the fastest core of the board = 1.0)
    int8_speed: float
    fpu: bool = True  # f32 in hardware as built (from the target triple); False = soft-float
    dsp: bool = False  # the int8 kernels' Arm DSP path (SMLAD) is built (thumbv7em targets)


@dataclass(frozen=True)
class Region:
    origin: int
    size: int


@dataclass(frozen=True)
class Runner:
    kind: str
    command: tuple[str, ...] = ()  # QEMU: program and arguments before the firmware ELF
    chip: str | None = None  # probe-rs chip name


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    target: str | None  # Rust target triple; None = the host
    cores: tuple[Core, ...]
    flash: Region | None
    ram: Region | None
    secondary_start: str  # how cores after the first start: none | threads | <mechanism>
    runner: Runner
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)  # board-specific start-up keys

    @property
    def emulated(self) -> bool:
        return self.runner.kind == "qemu"


def target_features(target: str | None) -> tuple[bool, bool]:
    """(fpu, dsp) of code built for a Rust target triple (None = the host)."""
    if target is None:
        return True, False
    isa = target.split("-")[0]
    if isa.startswith("riscv"):
        extensions = isa.removeprefix("riscv32").removeprefix("riscv64")
        return "f" in extensions or "g" in extensions, False
    if isa.startswith("thumb"):
        return target.endswith("eabihf"), isa.startswith("thumbv7em")
    return True, False  # xtensa-esp32s3 (single-precision FPU) and others


def board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def _region(table: _Table, key: str) -> Region | None:
    raw = table.get(key, dict, None, "{ origin = 0x..., size = ... }")
    if raw is None:
        return None
    t = _Table(raw, table.where, f"memory.{key}.")
    region = Region(t.get("origin", int, what="0x20000000"), t.get("size", int, what="65536"))
    t.finish()
    return region


def parse_board(path: Path) -> Board:
    where = str(path)
    try:
        data = tomlkit.parse(path.read_text())
    except (OSError, tomlkit.exceptions.ParseError) as e:
        raise ConfigError(f"cannot read board definition: {e}", where=where) from e
    top = _Table(data, where, "")
    cores_raw = top.get(
        "cores", list, what='[{ arch = "cortex-m4", mhz = 25, f32_speed = 1.0, int8_speed = 1.0 }]'
    )
    cores: list[Core] = []
    fpu, dsp = target_features(top.get("target", str, None, '"thumbv7em-none-eabihf"'))
    for i, raw in enumerate(cores_raw):
        t = _Table(raw, where, f"cores[{i}].")
        count = t.get("count", int, 1, "2")
        core = Core(
            t.get("arch", str, what='"cortex-m33"'),
            t.get("mhz", int, what="100"),
            float(t.get("f32_speed", (int, float), 1.0, "1.0")),
            float(t.get("int8_speed", (int, float), 1.0, "1.0")),
            fpu,
            dsp,
        )
        t.finish()
        cores.extend([core] * count)
    if not cores:
        raise ConfigError("a board needs at least one core", where=where, fix="add a [[cores]] entry")
    memory = _Table(top.get("memory", dict, {}, "{ ... }"), where, "memory.")
    flash, ram = _region(memory, "flash"), _region(memory, "ram")
    memory.finish()
    runner_t = _Table(top.get("runner", dict, what='{ kind = "qemu", command = [...] }'), where, "runner.")
    kind = runner_t.get("kind", str, what='"qemu"')
    if kind not in RUNNER_KINDS:
        raise ConfigError(
            f"runner.kind '{kind}' is not one of {', '.join(RUNNER_KINDS)}",
            where=where,
            fix=f"{_did_you_mean(kind, RUNNER_KINDS)}use one of them",
        )
    runner = Runner(
        kind,
        tuple(runner_t.get("command", list, [], '["qemu-system-arm", ...]')),
        runner_t.get("chip", str, None, '"RP2040"'),
    )
    runner_t.finish()
    board = Board(
        name=top.get("name", str, what=f'"{path.stem}"'),
        description=top.get("description", str, "", '"..."'),
        target=top.get("target", str, None, '"thumbv7em-none-eabihf"'),
        cores=tuple(cores),
        flash=flash,
        ram=ram,
        secondary_start=top.get("secondary_start", str, "none", '"none"'),
        runner=runner,
        path=path,
        extra=dict(top.get("startup", dict, {}, "{ ... }")),
    )
    top.finish()
    if board.name != path.stem:
        raise ConfigError(
            f"name '{board.name}' differs from the file name", where=where, fix=f'name = "{path.stem}"'
        )
    return board


@cache
def load_board(name: str) -> Board:
    path = BOARDS_DIR / f"{name}.toml"
    if not path.exists():
        names = board_names()
        raise ConfigError(
            f"unknown board '{name}'",
            fix=f"{_did_you_mean(name, names)}boards: {', '.join(names)}",
        )
    return parse_board(path)
