"""Firmware crates for microcontroller boards: `memory.x`, the budget check, the crate, ELF sizes.

One firmware holds many generated models. At start it paints core 0's unused stack, reads the
host file `model` (the module name to run), reads `input<k>.bin`, runs, writes `output<k>.bin`
and `stack.bin` (the stack bytes each core the model ran on used, u32 each), all through
semihosting, and exits 0. A model compiled for several cores runs `run_main` on core 0 and `run_worker` on the
others (`ariel_board::cores::run_on_cores`), in a shared arena that is a static.

Before each op (task, on several cores) the model calls `ariel_op_mark(core, mark)`, which stores
to one byte of the core's row of `ARIEL_OP_MARKS` (`usize::MAX`, waiting, is the row's last
byte); the QEMU counting plugin watches those stores (docs/boards.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ariel_build.boards import Board
from ariel_build.errors import PlanError
from ariel_build.ops.quantized.packing import int8_table_bytes
from ariel_build.pipeline import CompiledModel, emit_module

REPO_ROOT = Path(__file__).resolve().parents[2]
KERNELS = REPO_ROOT / "kernels"
BOARD_RUNTIME = REPO_ROOT / "board-support" / "runtime"

MARK_FN = "ariel_op_mark"
MARKS = "ARIEL_OP_MARKS"
# Stack left for kernels, start-up and semihosting on top of each model's arena and I/O arrays.
STACK_MARGIN = 8 * 1024
# RAM kept for .data/.bss below the stack(s) (the firmware's own statics are a few bytes).
STATIC_RESERVE = 4 * 1024
# Core 1's stack where the runtime starts it (SSE-200, RP2040/RP2350, STM32H747), a static of
# board-support/runtime/src/cores.rs; per `secondary_start`, the runtime feature that starts it.
CORE1_STACK = 32 * 1024
CORE1_STARTS = {
    "sse200-cpuwait": "sse200-cpuwait",
    "rp2040-sio-fifo": "rp-sio-fifo",
    "rp2350-sio-fifo": "rp-sio-fifo",
    "stm32h7-boot-c2": "stm32h7-boot-c2",
}
# Code of the runtime, kernels and harness (measured: 10-40 KiB at opt-level 3); checked before
# building so a model that cannot fit fails in seconds, not after a cargo build.
CODE_ALLOWANCE = 32 * 1024


def memory_x(board: Board, statics: int = 0) -> str:
    """Linker memory map for cortex-m-rt or riscv-rt from the board definition; `statics` = bytes
    of the models' static data (shared arenas)."""
    if board.flash is None or board.ram is None:
        raise PlanError(f"board '{board.name}' has no [memory] flash and ram", where=str(board.path))
    flash, ram = board.flash, board.ram
    boot = board.extra.get("boot_block")
    core1_boot = board.extra.get("m4_boot_address")
    lines = ["MEMORY", "{"]
    if isinstance(core1_boot, int):
        # STM32H747: code and data end where the M4 boots; there only its vector table.
        lines.append(f"  FLASH : ORIGIN = {flash.origin:#x}, LENGTH = {code_flash(board):#x}")
        lines.append(f"  CORE1_BOOT : ORIGIN = {core1_boot:#x}, LENGTH = 0x400")
    elif boot == "rp2040-boot2":
        lines.append(f"  BOOT2 : ORIGIN = {flash.origin:#x}, LENGTH = 0x100")
        lines.append(f"  FLASH : ORIGIN = {flash.origin + 0x100:#x}, LENGTH = {flash.size - 0x100:#x}")
    else:
        lines.append(f"  FLASH : ORIGIN = {flash.origin:#x}, LENGTH = {flash.size:#x}")
    lines += [f"  RAM : ORIGIN = {ram.origin:#x}, LENGTH = {ram.size:#x}", "}", ""]
    if isinstance(core1_boot, int):
        lines += [
            "SECTIONS {",
            "  .core1_vectors ORIGIN(CORE1_BOOT) : { KEEP(*(.core1_vectors)); } > CORE1_BOOT",
            "} INSERT AFTER .rodata;",
        ]
    if boot == "rp2040-boot2":
        lines += [
            "SECTIONS {",
            "  .boot2 ORIGIN(BOOT2) : { KEEP(*(.boot2)); } > BOOT2",
            "} INSERT BEFORE .text;",
        ]
    elif boot == "rp2350-image-def":
        lines += [
            "SECTIONS {",
            "  .start_block : ALIGN(4) { KEEP(*(.start_block)); } > FLASH",
            "} INSERT AFTER .vector_table;",
            "_stext = ADDR(.start_block) + SIZEOF(.start_block);  /* .text follows the block */",
        ]
    if _is_riscv(board):
        # riscv-rt gives every hart a stack of _hart_stack_size below the top of RAM (hart 0
        # highest); harts above _max_hart_id would spin, so all harts get one and sleep (wfi).
        lines.append(f"_max_hart_id = {len(board.cores) - 1};")
        lines.append(f"_hart_stack_size = {model_ram(board, statics):#x};")
        for region, memory in (
            ("TEXT", "FLASH"),
            ("RODATA", "FLASH"),
            ("DATA", "RAM"),
            ("BSS", "RAM"),
            ("HEAP", "RAM"),
            ("STACK", "RAM"),
        ):
            lines.append(f'REGION_ALIAS("REGION_{region}", {memory});')
    return "\n".join(lines) + "\n"


def code_flash(board: Board) -> int:
    """Flash bytes for code, weights and .data's initial values: up to the M4's boot address on
    the STM32H747, else all of it."""
    assert board.flash is not None
    core1_boot = board.extra.get("m4_boot_address")
    return core1_boot - board.flash.origin if isinstance(core1_boot, int) else board.flash.size


def wide_weight_budget(board: Board, models: int = 1) -> int | None:
    """Flash bytes for the weights and tables of one of `models` models (an equal share) within
    which `int8_weights = "auto"` widens int8 weights (ops/quantized/packing.py); None: no limit
    (the host). 0 where the kernels have no SMLAD: their portable loop is no faster on wide
    weights. Code gets twice CODE_ALLOWANCE here (VWW's int8 firmware: 44 KB of code)."""
    dsp = all(core.dsp for core in board.cores)
    if board.target is None or (dsp and board.flash is None):
        return None
    if not dsp:
        return 0
    return (code_flash(board) - 2 * CODE_ALLOWANCE) // models


def _is_riscv(board: Board) -> bool:
    return bool(board.target and board.target.startswith("riscv"))


def model_ram(board: Board, statics: int = 0) -> int:
    """RAM one model can use for its one-core arena, I/O and stack: RAM less the statics (on
    RISC-V, one hart's share of it)."""
    assert board.ram is not None
    harts = len(board.cores) if _is_riscv(board) else 1
    return max(0, board.ram.size - STATIC_RESERVE - statics) // harts // 16 * 16


def static_bytes(models: dict[str, CompiledModel], board: Board) -> int:
    """RAM of the firmware's large statics: the multicore models' shared arenas (with their
    flags) and the SSE-200's stack for CPU1."""
    shared = sum(
        m.multicore.plan.arena_bytes + 4 * (len(m.multicore.cores) + 1 + m.multicore.program.flags) + 16
        for m in models.values()
        if m.multicore is not None
    )
    return shared + (CORE1_STACK if board.secondary_start in CORE1_STARTS else 0)


def runtime_features(board: Board) -> list[str]:
    boot = board.extra.get("boot_block")
    features = [boot] if isinstance(boot, str) else []
    start = CORE1_STARTS.get(board.secondary_start)
    return features + ([start] if start else [])


def io_bytes(model: CompiledModel) -> int:
    g = model.graph
    names = list(dict.fromkeys(g.inputs)) + list(dict.fromkeys(g.outputs))
    return sum(g.tensor(n).nbytes for n in names)


def _write_if_changed(path: Path, data: bytes) -> None:
    """Leaves an unchanged file alone, so cargo sees the crate fresh and skips the rebuild."""
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def _biggest(items: list[tuple[str, int]], count: int = 3) -> str:
    top = sorted(items, key=lambda item: -item[1])[:count]
    return ", ".join(f"'{name}' {size:,} B" for name, size in top)


def check_budget(models: dict[str, CompiledModel], board: Board) -> None:
    """Raises PlanError when a model's RAM (arena + I/O + stack) or all weights exceed the board."""
    if board.flash is None or board.ram is None:
        return
    weights = sum(m.plan.weight_bytes + int8_table_bytes(m.graph) for m in models.values())
    if weights + CODE_ALLOWANCE > code_flash(board):
        consts = [
            (f"{name}:{t}", loc.nbytes)
            for name, m in models.items()
            for t, loc in m.plan.locations.items()
            if loc.kind == "const"
        ]
        raise PlanError(
            f"weights and tables {weights:,} B + code ~{CODE_ALLOWANCE:,} B do not fit the {code_flash(board):,} B of "
            f"flash of board '{board.name}' for them; biggest weights: {_biggest(consts)}",
            fix="choose a board with more flash or a smaller (e.g. quantized) model",
        )
    statics = static_bytes(models, board)
    room = model_ram(board, statics)
    for name, m in models.items():
        arena = m.plan.arena_bytes if m.multicore is None else 0  # a shared arena is a static
        need = arena + io_bytes(m) + STACK_MARGIN
        if need > room:
            g = m.graph
            tensors = [(b.tensor, b.nbytes) for b in m.plan.buffers] + [
                (n, g.tensor(n).nbytes) for n in dict.fromkeys(g.inputs + g.outputs)
            ]
            raise PlanError(
                f"model '{name}' needs {need:,} B of RAM (arena {arena:,} + inputs/outputs "
                f"{io_bytes(m):,} + stack {STACK_MARGIN:,}) but board '{board.name}' has {room:,} B for it "
                f"(RAM {board.ram.size:,} B less {STATIC_RESERVE + statics:,} B for statics, per core on RISC-V); "
                f"biggest tensors: {_biggest(tensors)}",
                where=g.source,
                fix="choose a board with more RAM or a smaller model (smaller input, fewer channels)",
            )


_BUILD_RS = """\
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={dir}");
    println!("cargo:rerun-if-changed=memory.x");
    if std::env::var("CARGO_CFG_TARGET_ARCH").unwrap() == "riscv32" {
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
}
"""

_MAIN = """\
#![no_std]
#![no_main]

use ariel_board::{{cores, entry, eprintln, exit, host}};
use core::sync::atomic::{{AtomicU8, Ordering}};

#[allow(dead_code)]
mod models {{
{includes}
}}

/// One row per core, one byte per mark; the counting plugin watches stores to them
/// (docs/boards.md). The last byte of a row stands for `usize::MAX` (waiting).
#[no_mangle]
static ARIEL_OP_MARKS: [[AtomicU8; {marks}]; {mark_cores}] = [const {{ [const {{ AtomicU8::new(0) }}; {marks}] }}; {mark_cores}];

#[no_mangle]
#[inline(never)]
pub fn ariel_op_mark(core: usize, mark: usize) {{
    let mark = mark.min({marks} - 1);
    if let Some(byte) = ARIEL_OP_MARKS.get(core).and_then(|row| row.get(mark)) {{
        byte.store(1, Ordering::Relaxed);
    }}
}}

{runners}

/// Writes the bytes of stack each of the model's `cores` used (since `main` painted them).
fn write_stack_used(cores: usize) -> Result<(), host::Error> {{
    let mut used = [0u32; cores::MAX_CORES];
    for (core, bytes) in used.iter_mut().enumerate().take(cores) {{
        *bytes = cores::stack_used(core) as u32;
    }}
    host::write(c"stack.bin", &used[..cores])
}}

#[entry]
fn main() -> ! {{
    cores::boot();
    cores::paint_stack();
    let mut name = [0u8; 64];
    let result = match host::read_bytes(c"model", &mut name) {{
{arms}
        Ok(other) => {{
            eprintln!("unknown model {{:?}}", other);
            exit(2)
        }}
        Err(e) => Err(e),
    }};
    match result.and_then(write_stack_used) {{
        Ok(()) => exit(0),
        Err(e) => {{
            eprintln!("host I/O failed: {{:?}}", e);
            exit(3)
        }}
    }}
}}
"""


def _runner_fn(model: CompiledModel, mod: str) -> str:
    """`run_<mod>`: reads the inputs, runs the model (on its cores), writes the outputs; returns
    the number of cores it ran on."""
    g = model.graph
    lines = ["#[inline(never)]", f"fn run_{mod}() -> Result<usize, host::Error> {{"]
    if model.multicore is None:
        lines.append(f"    let mut arena = models::{mod}::Arena::new();")
    inputs = []
    for k, name in enumerate(dict.fromkeys(g.inputs)):
        t = g.tensor(name)
        lines.append(f"    let mut i{k} = [{t.dtype.rust}::default(); {t.size}];")
        lines.append(f'    host::read(c"input{k}.bin", &mut i{k})?;')
        inputs.append(f"i{k}")
    outs = list(dict.fromkeys(g.outputs))
    for k, name in enumerate(outs):
        t = g.tensor(name)
        lines.append(f"    let mut o{k} = [{t.dtype.rust}::default(); {t.size}];")
    out_args = [f"&mut o{k}" for k in range(len(outs))]
    if model.multicore is None:
        args = ["&mut arena", *(f"&{i}" for i in inputs), *out_args]
        lines.append(f"    models::{mod}::run({', '.join(args)});")
    else:
        shared = f"SHARED_{mod.upper()}"
        lines.insert(0, f"static {shared}: models::{mod}::Shared = models::{mod}::Shared::new();\n")
        lines += [f"    let {i} = &{i};" for i in inputs]
        main_args = ", ".join([f"&{shared}", *inputs, *out_args])
        worker_args = ", ".join(["core", f"&{shared}", *inputs])
        lines += [
            "    cores::run_on_cores(",
            f"        models::{mod}::CORES,",
            f"        || models::{mod}::run_main({main_args}),",
            f"        &|core| models::{mod}::run_worker({worker_args}),",
            "    );",
        ]
    lines += [f'    host::write(c"output{k}.bin", &o{k})?;' for k in range(len(outs))]
    lines += [f"    Ok({1 if model.multicore is None else f'models::{mod}::CORES'})", "}"]
    return "\n".join(lines)


def mark_layout(models: dict[str, CompiledModel]) -> tuple[int, int]:
    """(marks per core, cores) of `ARIEL_OP_MARKS`: 0, one per op (one-core) or task and the
    outputs copy (multicore), and waiting last."""
    marks = 1
    cores = 1
    for m in models.values():
        if m.multicore is None:
            marks = max(marks, len(m.graph.nodes) + 1)
        else:
            marks = max(marks, len(m.multicore.program.schedule.tasks) + 2)
            cores = max(cores, len(m.multicore.cores))
    return marks + 1, cores


@dataclass
class FirmwareCrate:
    """A firmware crate for `board` holding `models` (key = module name, a Rust identifier)."""

    models: dict[str, CompiledModel]
    board: Board
    workdir: Path

    @property
    def package(self) -> str:
        # One package (so binary) name per work directory: builds sharing a target dir stay apart.
        return "ariel-fw-" + hashlib.sha1(str(self.workdir.resolve()).encode()).hexdigest()[:12]

    def write(self) -> None:
        src = self.workdir / "src"
        src.mkdir(parents=True, exist_ok=True)
        includes, runners, arms = [], [], []
        for mod, model in self.models.items():
            gen = emit_module(
                model, mod, weights_include=f'"{mod}.weights.bin"', op_marker=f"crate::{MARK_FN}"
            )
            _write_if_changed(src / f"{mod}.rs", gen.source.encode())
            _write_if_changed(src / gen.weights_file, gen.weights)
            includes.append(f'    include!("{mod}.rs");')
            runners.append(_runner_fn(model, gen.module_name))
            arms.append(f'        Ok(b"{mod}") => run_{gen.module_name}(),')
        marks, mark_cores = mark_layout(self.models)
        (src / "main.rs").write_text(
            _MAIN.format(
                includes="\n".join(includes),
                marks=marks,
                mark_cores=mark_cores,
                runners="\n\n".join(runners),
                arms="\n".join(arms),
            )
        )
        (self.workdir / "build.rs").write_text(_BUILD_RS)
        (self.workdir / "memory.x").write_text(memory_x(self.board, static_bytes(self.models, self.board)))
        features = ", ".join(f'"{f}"' for f in runtime_features(self.board))
        _write_if_changed(
            self.workdir / "Cargo.toml",
            f'[package]\nname = "{self.package}"\nversion = "0.0.0"\nedition = "2021"\n\n'
            f'[dependencies]\nariel-kernels = {{ path = "{KERNELS}" }}\n'
            f'ariel-board = {{ path = "{BOARD_RUNTIME}", features = [{features}] }}\n\n'
            '[profile.release]\nopt-level = 3\ndebug = false\ncodegen-units = 1\npanic = "abort"\n\n'
            '[profile.dev]\npanic = "abort"\n\n[workspace]\n'.encode(),
        )


def _symbols(elf: ELFFile) -> dict[str, tuple[int, int]]:
    table = elf.get_section_by_name(".symtab")
    if not isinstance(table, SymbolTableSection):
        return {}
    return {s.name: (s["st_value"], s["st_size"]) for s in table.iter_symbols() if s.name}


@dataclass
class ElfInfo:
    marks: tuple[int, int]  # (address, length) of ARIEL_OP_MARKS
    mark_fn: tuple[int, int]  # [start, end) of ariel_op_mark
    memory: dict[str, Any]


def read_elf(path: Path) -> ElfInfo:
    """Marker addresses and flash/RAM use of a firmware ELF (section and symbol sizes)."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        sizes: dict[str, int] = {}
        for section in elf.iter_sections():
            if section["sh_flags"] & 0x2:  # SHF_ALLOC
                sizes[section.name] = section["sh_size"]
        symbols = _symbols(elf)
    code = sum(
        v
        for k, v in sizes.items()
        if k.startswith((".text", ".vector_table", ".init", ".trap", ".boot2", ".start_block"))
    )
    rodata = sum(v for k, v in sizes.items() if k.startswith((".rodata", ".srodata")))
    data = sum(v for k, v in sizes.items() if k.startswith((".data", ".sdata")))
    bss = sum(v for k, v in sizes.items() if k.startswith((".bss", ".sbss", ".uninit")))
    weights = {name: size for name, (_, size) in symbols.items() if "7WEIGHTS" in name or name == "WEIGHTS"}
    marks = symbols.get(MARKS, (0, 0))
    fn_addr, fn_size = symbols.get(MARK_FN, (0, 0))
    fn_addr &= ~1  # Thumb bit
    memory = {
        "code_bytes": code,
        "rodata_bytes": rodata,
        "weights_bytes": sum(weights.values()),
        "data_bytes": data,
        "bss_bytes": bss,
        "flash_bytes": code + rodata + data,
        "ram_static_bytes": data + bss,
    }
    return ElfInfo(marks=marks, mark_fn=(fn_addr, fn_addr + fn_size), memory=memory)
