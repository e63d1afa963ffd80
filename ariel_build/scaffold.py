"""`cargo ariel new`: scaffolds a firmware crate for a board (run as `python -m ariel_build.scaffold`).

The crate runs one model declared in `ariel.toml` on a bare `#[entry]`, in an Embassy task fed by
another task, or in an RTIC software task fed by another task, and prints the output through
semihosting. `.cargo/config.toml` holds the board's target, linker and runner (QEMU's command for
emulated boards, `probe-rs run --chip <chip>` for real ones); `memory.x` comes from the board.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ariel_build.boards import Board, load_board
from ariel_build.codegen.names import snake_case
from ariel_build.config.crate import load_crate_config
from ariel_build.errors import ArielError, ConfigError
from ariel_build.runners.qemu_firmware import (
    CORE1_STARTS,
    memory_x,
    runtime_features,
    static_bytes,
    wide_weight_budget,
)
from ariel_build.toolchain import DEBIAN_LLD

REPO_ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("bare", "embassy", "rtic")
# `secondary_start` mechanisms ariel-board's `cores` module implements: the Cortex-M start-ups
# (SSE-200, RP2040/RP2350 SIO FIFO, STM32H747's M4) and RISC-V harts entering `main` together.
MULTICORE_STARTS = (*CORE1_STARTS, "hart-id")
# RTIC's dispatchers need interrupt lines nothing else uses; the crate declares them itself.
RTIC_DISPATCHER_IRQ = 30


@dataclass(frozen=True)
class Argument:
    name: str  # parameter of the generated `run`
    rust_type: str  # element type
    length: int
    output: bool


def run_signature(source: str) -> list[Argument]:
    """The inputs and outputs of the generated module's `run`, from its source."""
    match = re.search(r"pub fn run\(arena: &mut Arena, (.*?)\)", source, re.S)
    if match is None:
        raise ArielError("the generated module has no one-core `run`", fix="report this as a bug")
    args = []
    for name, mut, ty, n in re.findall(r"(\w+): &(mut )?\[(\w+); (\d+)\]", match.group(1)):
        args.append(Argument(name, ty, int(n), bool(mut)))
    return args


def _path_for(crate_dir: Path, target: Path) -> str:
    """`target` relative to the crate when both are inside one checkout, else absolute."""
    try:
        crate_dir.resolve().relative_to(REPO_ROOT)
    except ValueError:
        return target.as_posix()
    return Path(os.path.relpath(target, crate_dir.resolve())).as_posix()


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{s}"' for s in items) + "]"


def _dependencies(board: Board, framework: str, crate_dir: Path) -> str:
    features = _toml_list(runtime_features(board))
    lines = [
        f'ariel-kernels = {{ path = "{_path_for(crate_dir, REPO_ROOT / "kernels")}" }}',
        f'ariel-board = {{ path = "{_path_for(crate_dir, REPO_ROOT / "board-support" / "runtime")}", '
        f"features = {features} }}",
    ]
    if framework in ("embassy", "rtic"):
        lines.append('cortex-m = { version = "0.7", features = ["critical-section-single-core"] }')
    if framework == "embassy":
        lines += [
            'cortex-m-rt = "0.7"',
            'embassy-executor = { version = "0.9", features = ["arch-cortex-m", "executor-thread"] }',
            'embassy-sync = "0.7"',
        ]
    if framework == "rtic":
        backend = "thumbv6-backend" if board.target and board.target.startswith("thumbv6") else None
        if backend is None:
            backend = "thumbv8main-backend" if "v8m.main" in str(board.target) else "thumbv7-backend"
        lines += [
            'cortex-m-rt = { version = "0.7", features = ["device"] }',
            f'rtic = {{ version = "2", features = ["{backend}"] }}',
            'rtic-sync = "1"',
        ]
    return "\n".join(lines)


def cargo_toml(name: str, board: Board, framework: str, crate_dir: Path, cores: int) -> str:
    shim = _path_for(crate_dir, REPO_ROOT / "cargo-ariel-shim")
    return f"""\
[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[package.metadata.ariel]
board = "{board.name}"
# The cores the model runs on (the calling core and cores-1 others; docs/multicore.md).
cores = {cores}

[dependencies]
{_dependencies(board, framework, crate_dir)}

[build-dependencies]
cargo-ariel-shim = {{ path = "{shim}" }}

[profile.dev]
opt-level = 2
panic = "abort"

[profile.release]
opt-level = 3
codegen-units = 1
panic = "abort"

# A crate of its own, not a member of any workspace above it.
[workspace]
"""


def build_rs(board: Board) -> str:
    riscv = bool(board.target and board.target.startswith("riscv"))
    memory = '    println!("cargo:rustc-link-arg=-Tmemory.x");\n' if riscv else ""
    return f"""\
fn main() {{
    // The models of ariel.toml → modules in OUT_DIR (regenerated only when an input changed).
    cargo_ariel_shim::generate();
    // memory.x (from the board definition) for the start-up crate's link.x.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-search={{dir}}");
    println!("cargo:rerun-if-changed=memory.x");
{memory}    println!("cargo:rustc-link-arg=-Tlink.x");
}}
"""


def runner(board: Board) -> str:
    if board.runner.kind == "qemu":
        return " ".join(board.runner.command)
    if board.runner.kind == "probe-rs":
        if not board.runner.chip:
            raise ConfigError(
                f"board '{board.name}' has no runner.chip", where=str(board.path), fix='add chip = "..."'
            )
        return f"probe-rs run --chip {board.runner.chip}"
    if board.runner.kind == "espflash":
        return "espflash flash --monitor"
    raise ConfigError(
        f"board '{board.name}' runs on the host: `cargo ariel new` scaffolds firmware crates",
        fix="choose a microcontroller board (qemu-an386, rp2350, ...); see examples/mnist-bare for a host crate",
    )


def cargo_config(board: Board) -> str:
    target = str(board.target)
    linker = f'linker = "{DEBIAN_LLD}"\n' if DEBIAN_LLD.exists() else ""
    return f"""\
[build]
target = "{target}"

[target.{target}]
runner = "{runner(board)}"
{linker}
# `core` built from source: Debian's Rust (RUSTC_BOOTSTRAP=1, `cargo ariel build` sets it) or a
# nightly with rust-src. With a rustup target installed (`rustup target add {target}`), drop this.
[unstable]
build-std = ["core"]
"""


def _argmax_fn() -> str:
    return """\
/// Index of the largest value (the first one on ties).
fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (k, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = k;
        }
    }
    best
}
"""


def _length(module: str, a: Argument, consts: set[str]) -> str:
    const = f"{a.name.upper()}_LEN"
    return f"{module}::{const}" if const in consts else str(a.length)


@dataclass(frozen=True)
class Inference:
    """How the template runs the model: on the calling core (`run` with an arena) or on all
    cores of the crate (`run_main` here, `run_worker` on the others, a shared static arena)."""

    module: str
    args: list[Argument]
    consts: set[str]
    multicore: bool

    def call(self, arena: str, is_async: bool = False) -> str:
        """The statement running one inference (`is_async`: in an async task, awaiting)."""
        refs = ", ".join(f"&mut {a.name}" if a.output else f"&{a.name}" for a in self.args)
        await_ = ".await" if is_async else ""
        if self.multicore:
            return f"infer({refs}){await_};"
        entry = "run_async" if is_async else "run"
        return f"{self.module}::{entry}({arena}, {refs}){await_};"

    def items(self, is_async: bool = False) -> str:
        """The multicore `infer` function and its shared state (nothing for one core)."""
        if not self.multicore:
            return ""
        m = self.module
        params = ", ".join(
            f"{a.name}: &{'mut ' if a.output else ''}[{a.rust_type}; {_length(m, a, self.consts)}]"
            for a in self.args
        )
        names = ", ".join(a.name for a in self.args)
        inputs = [a.name for a in self.args if not a.output]
        doc = f"/// Runs the model on {m}::CORES cores; the calling core takes part"
        if is_async:
            doc += ",\n/// yielding to the executor between its ops."
            fork, main = "run_on_cores_async", f"{m}::run_main_async(&SHARED, {names})"
        else:
            doc += "."
            fork, main = "run_on_cores", f"|| {m}::run_main(&SHARED, {names})"
        return f"""
/// The arena and flags the cores share ({m}::SHARED_ARENA_BYTES of RAM).
static SHARED: {m}::Shared = {m}::Shared::new();

{doc}
{"async " if is_async else ""}fn infer({params}) {{
{_fork_call(fork, m, main, inputs, is_async)}
}}
"""

    @property
    def boot(self) -> str:
        """First statement of `main`: cores other than the first (RISC-V harts all start there)
        go to serve `run_on_cores` jobs."""
        return "ariel_board::cores::boot();\n    "

    @property
    def arena(self) -> str:
        return "" if self.multicore else f"let mut arena = {self.module}::Arena::new();\n    "


def _fork_call(fork: str, m: str, main: str, inputs: list[str], is_async: bool) -> str:
    call = f"""ariel_board::cores::{fork}(
        {m}::CORES,
        {main},
        &|core| {m}::run_worker(core, &SHARED, {", ".join(inputs)}),
    )"""
    if not is_async:
        return f"    {call};"
    return (
        "    // SAFETY: awaited here, and `infer` is only awaited (never leaked) by the inference\n"
        "    // task, so the other cores' borrow of the worker ends before `infer` returns.\n"
        f"    unsafe {{ {call} }}\n    .await;"
    )


def main_rs(framework: str, inference: Inference) -> str:
    module, consts = inference.module, inference.consts
    inputs = [a for a in inference.args if not a.output]
    outputs = [a for a in inference.args if a.output]
    header = '#![no_std]\n#![no_main]\n\ninclude!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));\n\n'
    input_note = "// Replace these zeros with your sensor data."
    if framework == "bare":
        lets = [
            f"let {'mut ' if a.output else ''}{a.name} = [{a.rust_type}::default(); {_length(module, a, consts)}];"
            for a in inference.args
        ]
        body = "\n    ".join(lets)
        y = outputs[0].name
        return (
            header
            + "use ariel_board::{entry, exit, println};\n\n"
            + _argmax_fn()
            + inference.items()
            + f"""
#[entry]
fn main() -> ! {{
    {inference.boot}{inference.arena}{input_note}
    {body}
    {inference.call("&mut arena")}
    println!("prediction: {{}} {{:?}}", argmax(&{y}), {y});
    exit(0)
}}
"""
        )
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError(
            f"the {framework} template feeds one input and prints one output; the model has "
            f"{len(inputs)} input(s) and {len(outputs)} output(s)",
            fix="use --framework bare, or edit the generated src/main.rs",
        )
    x, y = inputs[0], outputs[0]
    x_len, y_len = _length(module, x, consts), _length(module, y, consts)
    x_type = f"[{x.rust_type}; {x_len}]"
    if framework == "embassy":
        return (
            header
            + """\
use ariel_board::{exit, println};
use embassy_executor::Spawner;
use embassy_sync::blocking_mutex::raw::ThreadModeRawMutex;
use embassy_sync::channel::Channel;

"""
            + _argmax_fn()
            + inference.items(is_async=True)
            + f"""
/// Inputs from the sensor task to the inference task.
static INPUTS: Channel<ThreadModeRawMutex, {x_type}, 1> = Channel::new();

/// Stands for a sensor: sends one input.
#[embassy_executor::task]
async fn sensor() {{
    {input_note}
    INPUTS.send([{x.rust_type}::default(); {x_len}]).await;
}}

/// Runs the model on each input it receives (other tasks run between its ops); prints the
/// result and ends the program.
#[embassy_executor::task]
async fn inference() {{
    {inference.arena}let {x.name} = INPUTS.receive().await;
    let mut {y.name} = [{y.rust_type}::default(); {y_len}];
    {inference.call("&mut arena", is_async=True)}
    println!("prediction: {{}} {{:?}}", argmax(&{y.name}), {y.name});
    exit(0)
}}

#[embassy_executor::main]
async fn main(spawner: Spawner) {{
    {inference.boot}spawner.spawn(inference()).unwrap();
    spawner.spawn(sensor()).unwrap();
}}
"""
        )
    local_field = "" if inference.multicore else f"\n        arena: {module}::Arena,\n    "
    local_value = "" if inference.multicore else f" arena: {module}::Arena::new() "
    task_local = "" if inference.multicore else ", local = [arena]"
    uses = f"argmax, infer, {module}" if inference.multicore else f"argmax, {module}"
    return (
        header
        + f"""\
/// The board's interrupts as RTIC sees them: one line, which no peripheral raises, runs the
/// software tasks. (A crate for a chip with a PAC can use the PAC instead.)
mod irq {{
    #[derive(Clone, Copy)]
    #[allow(non_camel_case_types)]
    pub enum Interrupt {{
        SOFTWARE_TASKS = {RTIC_DISPATCHER_IRQ},
    }}

    // SAFETY: the number is an interrupt line of the NVIC.
    unsafe impl cortex_m::interrupt::InterruptNumber for Interrupt {{
        fn number(self) -> u16 {{
            self as u16
        }}
    }}

    pub use Interrupt as interrupt;
    pub const NVIC_PRIO_BITS: u8 = 3;

    extern "C" {{
        fn DefaultHandler();
        fn SOFTWARE_TASKS();
    }}

    /// The interrupt vectors after the exceptions (cortex-m-rt's `device` feature): every line
    /// goes to `DefaultHandler` but the software tasks' one.
    #[link_section = ".vector_table.interrupts"]
    #[no_mangle]
    static __INTERRUPTS: [unsafe extern "C" fn(); {RTIC_DISPATCHER_IRQ} + 1] = {{
        let mut vectors = [DefaultHandler as unsafe extern "C" fn(); {RTIC_DISPATCHER_IRQ} + 1];
        vectors[Interrupt::SOFTWARE_TASKS as usize] = SOFTWARE_TASKS;
        vectors
    }};
}}

"""
        + _argmax_fn()
        + inference.items()
        + f"""
#[rtic::app(device = crate::irq, peripherals = false, dispatchers = [SOFTWARE_TASKS])]
mod app {{
    use super::{{{uses}}};
    use ariel_board::{{exit, println}};
    use rtic_sync::channel::{{Receiver, Sender}};
    use rtic_sync::make_channel;

    #[shared]
    struct Shared {{}}

    #[local]
    struct Local {{{local_field}}}

    #[init]
    fn init(_: init::Context) -> (Shared, Local) {{
        {inference.boot.replace("    ", "        ")}let (send, receive) = make_channel!({x_type}, 1);
        sensor::spawn(send).ok();
        inference::spawn(receive).ok();
        (Shared {{}}, Local {{{local_value}}})
    }}

    /// Stands for a sensor: sends one input.
    #[task(priority = 1)]
    async fn sensor(_: sensor::Context, mut inputs: Sender<'static, {x_type}, 1>) {{
        {input_note}
        inputs.send([{x.rust_type}::default(); {x_len}]).await.ok();
    }}

    /// Runs the model on each input it receives; prints the result and ends the program.
    #[task(priority = 1{task_local})]
    async fn inference({"_" if inference.multicore else "cx"}: inference::Context, mut inputs: Receiver<'static, {x_type}, 1>) {{
        if let Ok({x.name}) = inputs.recv().await {{
            let mut {y.name} = [{y.rust_type}::default(); {y_len}];
            {inference.call("cx.local.arena")}
            println!("prediction: {{}} {{:?}}", argmax(&{y.name}), {y.name});
        }}
        exit(0)
    }}
}}
"""
    )


def ariel_toml(model_name: str, model_path: str) -> str:
    return f"""\
# Models compiled into this crate by `cargo build` (paths are relative to the crate).
[[model]]
name = "{model_name}"
path = "{model_path}"
"""


def _check_cores(board: Board, framework: str, cores: int) -> None:
    if not 1 <= cores <= len(board.cores):
        raise ConfigError(
            f"--cores {cores}: board '{board.name}' has {len(board.cores)} core(s)",
            fix=f"use --cores 1 … {len(board.cores)}",
        )
    if cores > 1 and board.secondary_start not in MULTICORE_STARTS:
        raise ConfigError(
            f"ariel-board cannot start the other cores of board '{board.name}' yet "
            f"(secondary_start '{board.secondary_start}')",
            fix="use --cores 1",
        )
    if framework != "bare" and not str(board.target).startswith("thumb"):
        raise ConfigError(
            f"the {framework} template is for Cortex-M boards; '{board.name}' is {board.target}",
            fix="use --framework bare",
        )


def scaffold(name: str, board_name: str, framework: str, model: Path, parent: Path, cores: int = 1) -> Path:
    """Writes the crate `parent/name` (the model runs on `cores` cores); returns its directory."""
    from ariel_build.pipeline import compile_model, emit_module
    from ariel_build.schedule.multicore import board_cores

    if framework not in FRAMEWORKS:
        raise ConfigError(f"unknown framework '{framework}'", fix=f"use one of {', '.join(FRAMEWORKS)}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise ConfigError(f"'{name}' is not a crate name", fix="use letters, digits, - and _")
    board = load_board(board_name)
    runner(board)  # a board firmware can run on
    _check_cores(board, framework, cores)
    crate = parent / name
    if crate.exists() and any(crate.iterdir()):
        raise ConfigError(f"{crate} exists and is not empty", fix="choose another name or directory")
    if not model.is_file():
        raise ConfigError(f"model file not found: {model}", fix="give --model the path of an .onnx file")
    module = snake_case(model.stem)
    compiled = compile_model(model, {}, board_cores(board, cores), wide_weight_budget(board))
    source = emit_module(compiled, module).source
    consts = set(re.findall(r"pub const (\w+): usize", source))
    inference = Inference(module, run_signature(source), consts, compiled.multicore is not None)
    files = {
        "Cargo.toml": cargo_toml(name, board, framework, crate, cores),
        "build.rs": build_rs(board),
        "ariel.toml": ariel_toml(model.stem, _path_for(crate, model.resolve())),
        "memory.x": memory_x(board, static_bytes({module: compiled}, board)),
        ".cargo/config.toml": cargo_config(board),
        "src/main.rs": main_rs(framework, inference),
        ".gitignore": "/target\n",
    }
    if framework == "rtic":
        files["device.x"] = "/* The interrupt vectors are in src/main.rs (mod irq). */\n"
    for rel, text in files.items():
        path = crate / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _rustfmt(crate / "src" / "main.rs")
    return crate


def _rustfmt(path: Path) -> None:
    """Formats the template like `cargo fmt` would, when rustfmt is installed."""
    try:
        subprocess.run(["rustfmt", "--edition", "2021", str(path)], capture_output=True, check=False)
    except OSError:
        pass


def crate_info(manifest_dir: Path) -> str:
    """`key=value` lines `cargo ariel` reads: the crate's board, target, runner, chip and models."""
    config = load_crate_config(manifest_dir)
    board = config.board
    lines = [
        f"board={board.name}",
        f"target={board.target or ''}",
        f"runner={board.runner.kind}",
        f"chip={board.runner.chip or ''}",
    ]
    lines += [f"model={m.path}" for m in config.models]
    return "\n".join(lines) + "\n"


def _new(args: argparse.Namespace) -> None:
    crate = scaffold(args.name, args.board, args.framework, args.model, args.dir, args.cores)
    print(f"created {crate} ({args.framework}, board {args.board}); next: cd {crate} && cargo ariel run")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="cargo ariel", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="scaffold a firmware crate")
    new.add_argument("name")
    new.add_argument("--board", required=True)
    new.add_argument("--framework", default="bare", choices=FRAMEWORKS)
    new.add_argument("--model", required=True, type=Path, help="an .onnx model file")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to create the crate")
    new.add_argument("--cores", type=int, default=1, help="cores the model runs on (default 1)")
    new.set_defaults(func=_new)
    info = sub.add_parser("info", help="(for cargo ariel) board facts of a crate as key=value lines")
    info.add_argument("--manifest-dir", type=Path, default=Path("."))
    info.set_defaults(func=lambda a: print(crate_info(a.manifest_dir), end=""))
    args = p.parse_args(argv)
    try:
        args.func(args)
    except ArielError as e:
        print(f"error: {e.layer}: {e.render()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
