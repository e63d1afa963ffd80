"""Host runner: one std harness crate holds many models; each run picks one by name."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ariel_build.errors import BuildError, RunError
from ariel_build.pipeline import CompiledModel, emit_module

REPO_ROOT = Path(__file__).resolve().parents[2]
KERNELS = REPO_ROOT / "kernels"


def cache_dir() -> Path:
    base = os.environ.get("ARIEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ariel-build"
    )
    Path(base).mkdir(parents=True, exist_ok=True)
    return Path(base)


_MAIN = """\
use std::path::Path;

#[allow(dead_code)]
mod models {{
{includes}
}}

fn read<T: bytemuck::Pod, const N: usize>(dir: &Path, k: usize, step: usize) -> Box<[T; N]> {{
    let bytes = std::fs::read(dir.join(format!("input{{k}}_{{step}}.bin"))).expect("input file");
    let mut out: Box<[T; N]> = vec![T::zeroed(); N].into_boxed_slice().try_into().ok().unwrap();
    bytemuck::cast_slice_mut::<T, u8>(&mut out[..]).copy_from_slice(&bytes);
    out
}}

fn zeros<T: bytemuck::Pod, const N: usize>() -> Box<[T; N]> {{
    vec![T::zeroed(); N].into_boxed_slice().try_into().ok().unwrap()
}}

fn write<T: bytemuck::Pod>(dir: &Path, k: usize, step: usize, data: &[T]) {{
    std::fs::write(dir.join(format!("output{{k}}_{{step}}.bin")), bytemuck::cast_slice::<T, u8>(data))
        .expect("output file");
}}

/// Runs `model` `steps` times with one arena (state kept between runs, as on a device).
fn run(model: &str, dir: &Path, steps: usize) {{
    match model {{
{arms}
        other => panic!("unknown model {{other}}"),
    }}
}}

fn main() {{
    let args: Vec<String> = std::env::args().collect();
    let (model, dir) = (args[1].clone(), std::path::PathBuf::from(&args[2]));
    let steps: usize = args[3].parse().expect("number of steps");
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || run(&model, &dir, steps))
        .unwrap()
        .join()
        .unwrap();
}}
"""


def _arm(model: CompiledModel, mod: str) -> str:
    g = model.graph
    lines = [f'        "{mod}" => {{']
    if model.multicore is None:
        lines.append(f"            let mut arena = Box::new(models::{mod}::Arena::new());")
    else:
        lines.append(f"            let shared = Box::new(models::{mod}::Shared::new());")
    lines.append("            for step in 0..steps {")
    args = ["&mut arena"]
    for k, name in enumerate(dict.fromkeys(g.inputs)):
        t = g.tensor(name)
        lines.append(f"            let i{k} = read::<{t.dtype.rust}, {t.size}>(dir, {k}, step);")
        args.append(f"&i{k}")
    outs = list(dict.fromkeys(g.outputs))
    for k, name in enumerate(outs):
        t = g.tensor(name)
        lines.append(f"            let mut o{k} = zeros::<{t.dtype.rust}, {t.size}>();")
        args.append(f"&mut o{k}")
    if model.multicore is None:
        lines.append(f"            models::{mod}::run({', '.join(args)});")
    else:
        lines += _threads(mod, args[1:], len(dict.fromkeys(g.inputs)))
    lines += [f"            write(dir, {k}, step, &o{k}[..]);" for k in range(len(outs))]
    lines.append("            }")
    lines.append("        }")
    return "\n".join(lines)


def _threads(mod: str, args: list[str], n_inputs: int) -> list[str]:
    """Cores 1.. on scoped threads (`run_worker`), core 0 (`run_main`) on this one."""
    inputs = "".join(f", i{k}" for k in range(n_inputs))
    borrows = "".join(f" let i{k} = &*i{k};" for k in range(n_inputs))
    return [
        "            std::thread::scope(|scope| {",
        f"                for core in 1..models::{mod}::CORES {{",
        f"                    let shared = &*shared;{borrows}",
        "                    std::thread::Builder::new()",
        "                        .stack_size(64 << 20)",
        f"                        .spawn_scoped(scope, move || models::{mod}::run_worker(core, shared{inputs}))",
        "                        .unwrap();",
        "                }",
        f"                models::{mod}::run_main({', '.join(['&shared', *args])});",
        "            });",
    ]


class HostHarness:
    """Builds once for a set of compiled models; `run` executes one of them."""

    def __init__(self, models: dict[str, CompiledModel], workdir: Path, release: bool = True) -> None:
        self.models = models
        self.workdir = workdir
        self.release = release
        self.binary: Path | None = None

    def build(self) -> Path:
        src = self.workdir / "src"
        src.mkdir(parents=True, exist_ok=True)
        includes, arms = [], []
        for mod, model in self.models.items():
            gen = emit_module(model, mod, weights_include=f'"{mod}.weights.bin"')
            (src / f"{mod}.rs").write_text(gen.source)
            (src / gen.weights_file).write_bytes(gen.weights)
            includes.append(f'    include!("{mod}.rs");')
            arms.append(_arm(model, gen.module_name))
        (src / "main.rs").write_text(_MAIN.format(includes="\n".join(includes), arms="\n".join(arms)))
        # A package (so binary) name per work directory: harnesses built at the same time into the
        # shared target directory must not overwrite each other's binary before it is moved out.
        package = "ariel-harness-" + hashlib.sha1(str(self.workdir.resolve()).encode()).hexdigest()[:12]
        (self.workdir / "Cargo.toml").write_text(
            f'[package]\nname = "{package}"\nversion = "0.0.0"\nedition = "2021"\n\n'
            f'[dependencies]\nariel-kernels = {{ path = "{KERNELS}", features = ["std"] }}\nbytemuck = "1.16"\n\n'
            "[profile.release]\ndebug = false\nopt-level = 3\n\n[workspace]\n"
        )
        target = cache_dir() / "host-target"
        cmd = ["cargo", "build", "--quiet"] + (["--release"] if self.release else [])
        result = subprocess.run(
            cmd,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        )
        if result.returncode != 0:
            raise BuildError(
                "the generated Rust code did not compile:\n" + result.stderr[-6000:],
                where=str(self.workdir),
                fix="this is a bug in ariel-build; please report it with the model",
            )
        own = self.workdir / "harness"
        shutil.move(target / ("release" if self.release else "debug") / package, own)
        self.binary = own
        return own

    def run(self, mod: str, inputs: list[np.ndarray], timeout: float | None = None) -> list[np.ndarray]:
        """`timeout` (seconds) bounds the inference; past it, RunError."""
        return self.run_steps(mod, [inputs], timeout)[0]

    def run_steps(
        self, mod: str, steps: list[list[np.ndarray]], timeout: float | None = None
    ) -> list[list[np.ndarray]]:
        """Consecutive inferences with one arena (models with state carry it from step to step):
        the outputs of each step."""
        if self.binary is None:
            self.build()
        assert self.binary is not None
        g = self.models[mod].graph
        with tempfile.TemporaryDirectory(dir=self.workdir) as d:
            io = Path(d)
            for step, inputs in enumerate(steps):
                for k, (name, arr) in enumerate(zip(dict.fromkeys(g.inputs), inputs, strict=True)):
                    t = g.tensor(name)
                    if tuple(arr.shape) != t.shape and arr.size != t.size:
                        raise RunError(
                            f"input {k} ('{name}') has shape {arr.shape}; the model takes {t.shape}"
                        )
                    np.ascontiguousarray(arr, dtype=t.dtype.numpy).astype(
                        t.dtype.numpy.newbyteorder("<")
                    ).tofile(io / f"input{k}_{step}.bin")
            try:
                result = subprocess.run(
                    [str(self.binary), mod, str(io), str(len(steps))],
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired as e:
                raise RunError(f"inference of '{mod}' did not finish within {timeout} s") from e
            if result.returncode != 0:
                raise RunError(f"inference of '{mod}' failed on host:\n{result.stderr[-3000:]}")
            return [
                [
                    np.fromfile(
                        io / f"output{k}_{step}.bin", dtype=g.tensor(name).dtype.numpy.newbyteorder("<")
                    ).reshape(g.tensor(name).shape)
                    for k, name in enumerate(dict.fromkeys(g.outputs))
                ]
                for step in range(len(steps))
            ]
