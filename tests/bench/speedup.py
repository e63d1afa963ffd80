"""Multicore speed-up on QEMU boards, in instructions (a benchmark, not a test).

    python -m tests.bench.speedup [--boards qemu-an524:2 qemu-riscv32:2,4 qemu-an386]
                                  [--models kws resnet8 kws_int8 ...] [--write docs/speedup.md]

For each board and model: one firmware per core count, one run each with the same random input.
Speed-up = critical-path instructions on 1 core / on N cores (docs/multicore.md, "On QEMU
boards"); N-core outputs are checked bit-identical to 1 core first. A board without `:N` runs
one core only (for the fit). Also fits the cost model per board and element type
(`instructions = a x MACs + b x bytes + c` per op of the one-core runs: schedule/cost.py's
constants come from this fit).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ariel_build.boards import load_board
from ariel_build.ir import DType
from ariel_build.pipeline import CompiledModel, compile_model, emit_module
from ariel_build.runners.host import KERNELS, cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import wide_weight_budget
from ariel_build.schedule.cost import part_traffic
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.partition import runs_code
from ariel_build.schedule.split import whole
from fixtures.models.inception import inception_case
from fixtures.models.transformer import transformer_block_case

MODELS = Path("/work/shared/models")
COST_NOTES = [
    '`schedule/cost.py` takes its per-MAC constants from these fits (docs/multicore.md, "Cost',
    'model"): f32 3 with an FPU (qemu-an386) and 55 soft-float (qemu-an524, qemu-riscv32); int8 0.9',
    "on the Arm DSP path (qemu-an386) and 5.3 portably. The per-byte and per-call fits scatter with",
    "the mix of ops (soft-float softmax and pooling make few MACs cost many instructions), so the",
    "constants are rounded values in their range (byte 0.25 f32 / 1 int8 (0.55 on the DSP path), call 150 f32 / 1200 int8 (940 DSP)).",
]
# A hand-written section of the written file that a new --write keeps (before the cost fit).
NOTES_HEADING = "## What changed"

REPO = Path(__file__).resolve().parents[2]


def model_paths(work: Path) -> dict[str, Path]:
    return {
        "kws": MODELS / "mlperf_tiny/kws_ref_model_float32.tflite",
        "resnet8": MODELS / "mlperf_tiny/pretrainedResnet.tflite",
        "kws_int8": MODELS / "mlperf_tiny/kws_ref_model.tflite",
        "resnet8_int8": MODELS / "mlperf_tiny/pretrainedResnet_quant.tflite",
        "inception": inception_case().save(work),
        "transformer": transformer_block_case().save(work),
    }


@dataclass
class Measured:
    critical_path: int
    per_core: list[int]
    waits: list[int]
    estimate: float  # the scheduler's speed-up estimate
    tasks: list[tuple[int, int, int]]  # per task: MACs, bytes, measured instructions
    ops: list[tuple[str, int, int, int]]  # per op: element type, MACs, bytes, instructions (all cores)
    outputs: list[np.ndarray]


def random_inputs(model: CompiledModel) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    g = model.graph
    inputs = []
    for name in dict.fromkeys(g.inputs):
        t = g.tensor(name)
        if t.dtype is DType.I8:
            inputs.append(rng.integers(-128, 128, t.shape, dtype=np.int8))
        else:
            inputs.append(rng.uniform(-1, 1, t.shape).astype(t.dtype.numpy))
    return inputs


def element_type(dtype: DType) -> str:
    return "int8" if dtype in (DType.I8, DType.U8) else "f32"


def run(board: str, name: str, path: Path, cores: int) -> Measured:
    b = load_board(board)
    # As the build does (config/generate.py): int8 weights widened only within the board's budget.
    model: CompiledModel = compile_model(path, cores=board_cores(b, cores), flash=wide_weight_budget(b))
    harness = QemuHarness(
        {name: model}, cache_dir() / "bench-firmware" / f"speedup-{board}-{name}-{cores}", b
    )
    harness.build()
    g = model.graph
    result = harness.run(name, random_inputs(model), timeout=1200)
    report = harness.report(name, result.counts)
    tasks = []
    estimate = 1.0
    if model.multicore is not None:
        schedule = model.multicore.program.schedule
        estimate = model.multicore.summary()["speedup_estimate"]
        index = {n.name: k for k, n in enumerate(g.nodes)}
        for task, core in zip(schedule.tasks, schedule.core, strict=True):
            macs, moved = part_traffic(task.part)
            tasks.append((macs, moved, report["op_instructions_per_core"][index[task.node.name]][core]))
    ops = []
    for node, instructions in zip(g.nodes, report["op_instructions"], strict=True):
        if runs_code(node) and instructions:
            macs, moved = part_traffic(whole(node, g))
            ops.append((element_type(g.tensor(node.outputs[0]).dtype), macs, moved, instructions))
    return Measured(
        report["critical_path_instructions"],
        report["per_core_instructions"],
        report["per_core_wait_instructions"],
        estimate,
        tasks,
        ops,
        result.outputs,
    )


def fit(samples: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """Least relative squares of instructions ~ a x MACs + b x bytes + c over the samples (small
    ops weigh as much as large ones)."""
    measured = np.array([n for _, _, n in samples], dtype=float)
    rows = np.array([[m, b, 1.0] for m, b, _ in samples]) / measured[:, None]
    (a, b, c), *_ = np.linalg.lstsq(rows, np.ones(len(samples)), rcond=None)
    return float(a), float(b), float(c)


Fit = tuple[str, str, int, float, float, float]  # board, element type, ops, per MAC, per byte, per call


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--boards",
        nargs="+",
        default=["qemu-an524:2", "qemu-riscv32:2,4", "qemu-an386"],
        metavar="BOARD[:N,M]",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=["kws", "resnet8", "inception", "transformer", "kws_int8", "resnet8_int8"],
    )
    parser.add_argument("--host-runs", type=int, default=200, help="inferences per thread count on the host")
    parser.add_argument("--write", type=Path, metavar="FILE.md", help="also write the tables as Markdown")
    args = parser.parse_args()
    table = []
    fits: list[Fit] = []
    with tempfile.TemporaryDirectory() as d:
        paths = model_paths(Path(d))
        for spec in args.boards:
            board, _, counts = spec.partition(":")
            ops: list[tuple[str, int, int, int]] = []
            for name in args.models:
                one = run(board, name, paths[name], 1)
                ops += one.ops
                for n in (int(c) for c in counts.split(",") if c):
                    many = run(board, name, paths[name], n)
                    for got, ref in zip(many.outputs, one.outputs, strict=True):
                        np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {n} cores of {board}")
                    row = (board, name, n, one.critical_path, many, one.critical_path / many.critical_path)
                    table.append(row)
                    print(
                        f"{board:13} {name:12} {n} cores: 1 core {one.critical_path:>13,}  "
                        f"{n} cores {many.critical_path:>13,}  speed-up {row[5]:.3f} "
                        f"(estimate {many.estimate:.3f})  per core {many.per_core}",
                        flush=True,
                    )
            for kind in ("f32", "int8"):
                samples = [(m, b, n) for k, m, b, n in ops if k == kind]
                if len(samples) >= 3:
                    a, b, c = fit(samples)
                    fits.append((board, kind, len(samples), a, b, c))
                    print(
                        f"{board} {kind}: instructions per op ~ {a:.2f} x MACs + {b:.3f} x bytes + {c:.0f}"
                        f" ({len(samples)} ops)",
                        flush=True,
                    )
        host = host_wall_times(paths, args.models, args.host_runs, Path(d)) if args.host_runs else {}
    if args.write:
        old = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(markdown(table, fits, host, args.host_runs, kept_notes(old)))
        print(f"wrote {args.write}")


_TIMING_MAIN = """\
use std::time::Instant;

#[allow(dead_code)]
mod models {{
{includes}
}}

fn zeros<T: bytemuck::Pod, const N: usize>() -> Box<[T; N]> {{
    vec![T::zeroed(); N].into_boxed_slice().try_into().ok().unwrap()
}}

fn read<T: bytemuck::Pod, const N: usize>(path: &str) -> Box<[T; N]> {{
    let mut out = zeros::<T, N>();
    bytemuck::cast_slice_mut::<T, u8>(&mut out[..]).copy_from_slice(&std::fs::read(path).unwrap());
    out
}}

fn median(mut seconds: Vec<f64>) -> f64 {{
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}}

fn main() {{
    let runs: usize = std::env::args().nth(1).unwrap().parse().unwrap();
{bodies}
}}
"""

# One model: `runs` timed runs on one core and `runs` on all cores, in alternating blocks of
# BLOCK (so both see the same machine load), after BLOCK unmeasured runs of each; in a block of
# the multicore model the other cores are threads that stay up for the whole block, as cores
# would. Outputs must be equal bit for bit.
BLOCK = 20
_TIMING_BODY = """\
    {{
        let x = read::<{dtype}, {size}>("{input}");
        let mut one = zeros::<{odtype}, {osize}>();
        let mut many = zeros::<{odtype}, {osize}>();
        let mut arena = Box::new(models::{one}::Arena::new());
        let shared = Box::new(models::{many}::Shared::new());
        let (mut t1, mut t2) = (Vec::new(), Vec::new());
        for block in 0..=runs / {block} {{
            for _ in 0..{block} {{
                let start = Instant::now();
                models::{one}::run(&mut arena, &x, &mut one);
                if block > 0 {{ t1.push(start.elapsed().as_secs_f64()); }}
            }}
            std::thread::scope(|scope| {{
                for core in 1..models::{many}::CORES {{
                    let (shared, x) = (&*shared, &*x);
                    scope.spawn(move || for _ in 0..{block} {{ models::{many}::run_worker(core, shared, x) }});
                }}
                for _ in 0..{block} {{
                    let start = Instant::now();
                    models::{many}::run_main(&shared, &x, &mut many);
                    if block > 0 {{ t2.push(start.elapsed().as_secs_f64()); }}
                }}
            }});
        }}
        assert!(bytemuck::cast_slice::<{odtype}, u8>(&one[..]) == bytemuck::cast_slice::<{odtype}, u8>(&many[..]));
        println!("{name} {{}} {{}}", median(t1), median(t2));
    }}
"""


def host_wall_times(
    paths: dict[str, Path], models: list[str], runs: int, work: Path
) -> dict[str, tuple[float, float]]:
    """Median wall time of one inference per model on the host: 1 core, and 2 threads (one
    process, one build). Models with more than one input or output are skipped."""
    host = load_board("host")
    crate = work / "host-timing"
    src = crate / "src"
    src.mkdir(parents=True, exist_ok=True)
    includes, bodies = [], []
    for name in models:
        compiled = {n: compile_model(paths[name], cores=board_cores(host, n)) for n in (1, 2)}
        g = compiled[1].graph
        ins, outs = list(dict.fromkeys(g.inputs)), list(dict.fromkeys(g.outputs))
        if len(ins) != 1 or len(outs) != 1:
            continue
        mods = {n: f"{name}_c{n}" for n in (1, 2)}
        for n, mod in mods.items():
            gen = emit_module(compiled[n], mod, weights_include=f'"{mod}.weights.bin"')
            (src / f"{mod}.rs").write_text(gen.source)
            (src / gen.weights_file).write_bytes(gen.weights)
            includes.append(f'    include!("{mod}.rs");')
        x, y = g.tensor(ins[0]), g.tensor(outs[0])
        input_file = crate / f"{name}.input.bin"
        random_inputs(compiled[1])[0].astype(x.dtype.numpy.newbyteorder("<")).tofile(input_file)
        bodies.append(
            _TIMING_BODY.format(
                dtype=x.dtype.rust,
                size=x.size,
                input=input_file,
                odtype=y.dtype.rust,
                osize=y.size,
                one=mods[1],
                many=mods[2],
                name=name,
                block=BLOCK,
            )
        )
    (src / "main.rs").write_text(_TIMING_MAIN.format(includes="\n".join(includes), bodies="".join(bodies)))
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "ariel-host-timing"\nversion = "0.0.0"\nedition = "2021"\n\n'
        f'[dependencies]\nariel-kernels = {{ path = "{KERNELS}", features = ["std"] }}\nbytemuck = "1.16"\n\n'
        "[profile.release]\nopt-level = 3\n\n[workspace]\n"
    )
    env = {**os.environ, "CARGO_TARGET_DIR": str(cache_dir() / "host-timing-target")}
    subprocess.run(["cargo", "build", "--quiet", "--release"], cwd=crate, env=env, check=True)
    binary = cache_dir() / "host-timing-target" / "release" / "ariel-host-timing"
    out = subprocess.run([str(binary), str(runs)], capture_output=True, text=True, check=True).stdout
    times = {}
    for line in out.splitlines():
        name, one, two = line.split()
        times[name] = (float(one), float(two))
        print(
            f"host {name:12} 1 thread {float(one) * 1e3:8.3f} ms  2 threads {float(two) * 1e3:8.3f} ms  "
            f"ratio {float(one) / float(two):.2f}",
            flush=True,
        )
    return times


def kept_notes(text: str) -> list[str]:
    """The `NOTES_HEADING` section of a previously written file, up to the next heading."""
    start = text.find(f"\n{NOTES_HEADING}")
    if start < 0:
        return []
    end = text.find("\n## ", start + 1)
    return ["", *text[start + 1 : end if end >= 0 else len(text)].rstrip("\n").split("\n")]


def markdown(
    table: list[tuple[str, str, int, int, Measured, float]],
    fits: list[Fit],
    host: dict[str, tuple[float, float]],
    host_runs: int,
    notes: list[str],
) -> str:
    lines = [
        "# Multicore speed-up on emulated boards",
        "",
        "Written by `python -m tests.bench.speedup --write docs/speedup.md` (figures from QEMU 7.2",
        "instruction counts, not timings). Speed-up = critical-path instructions on 1 core ÷ on N",
        "cores: the one-core `run`'s op instructions, against the N-core run replayed from each",
        'task\'s measured instructions (docs/multicore.md, "On QEMU boards"). N-core outputs are',
        "bit-identical to one core. Both boards run soft-float f32 (an524: CPU0 has no FPU;",
        "riscv32imac has none), so an f32 MAC is tens of instructions; `_int8` rows are the",
        "int8 MLPerf Tiny models (portable int8 kernels: neither board has the Arm DSP extension).",
        "",
        "| board | model | cores | 1 core | N cores (critical path) | speed-up | scheduler estimate | per core | spin (measured) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for board, name, n, serial, m, speedup in table:
        per_core = " / ".join(f"{x:,}" for x in m.per_core)
        waits = " / ".join(f"{x:,}" for x in m.waits)
        lines.append(
            f"| {board} | {name} | {n} | {serial:,} | {m.critical_path:,} | {speedup:.3f} | {m.estimate:.3f} | {per_core} | {waits} |"
        )
    lines += [
        "",
        "\"per core\": each core's own instructions (its parts, signals, core 0's output copy);",
        '"spin": instructions spent in waits as measured, which depend on how QEMU\'s vCPU threads',
        "happened to interleave (not used for the critical path).",
    ]
    if host:
        lines += [
            "",
            "## Host wall time, 2 threads",
            "",
            f"One process: median wall time of {host_runs} inferences on one core and {host_runs} on two,",
            f"in alternating blocks of {BLOCK} (after one unmeasured block each); in a two-core block core 1",
            "is a second thread that stays up for the block. Host build machine, 2 CPUs shared with other",
            f"jobs (load average {os.getloadavg()[0]:.1f} at the end): timings, not instruction counts.",
            "Outputs equal bit for bit. A two-thread run stalls whenever the OS deschedules one of its",
            "threads, so under load the ratio drops, most for models of many small ops.",
            "",
            "| model | 1 thread (ms) | 2 threads (ms) | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {name} | {one * 1e3:.3f} | {two * 1e3:.3f} | {one / two:.2f} |"
            for name, (one, two) in host.items()
        ]
    lines += notes
    lines += [
        "",
        "## Cost model fit",
        "",
        "Least relative squares of each op's measured instructions in the one-core runs against the",
        "scheduler's features (`schedule/cost.py`: MACs, bytes read and written, one per call), per",
        "board and element type:",
        "",
        "| board | element type | ops | per MAC | per byte | per call |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {board} | {kind} | {n} | {a:.2f} | {b:.3f} | {c:,.0f} |" for board, kind, n, a, b, c in fits
    ]
    lines += ["", *COST_NOTES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
