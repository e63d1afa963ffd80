"""Multicore speed-up on QEMU boards, in instructions (a benchmark, not a test).

    python -m tests.bench.speedup [--boards qemu-an524:2 qemu-riscv32:2,4] [--models kws resnet8 ...]
                                  [--write docs/speedup.md]

For each board and model: one firmware per core count, one run each with the same random input.
Speed-up = critical-path instructions on 1 core / on N cores (docs/multicore.md, "On QEMU
boards"); N-core outputs are checked bit-identical to 1 core first. Also fits the scheduler's
cost model (`instructions = a x MACs + b x bytes + c` per task) to the measured tasks.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ariel_build.boards import load_board
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.schedule.cost import part_traffic
from ariel_build.schedule.multicore import board_cores
from fixtures.models.inception import inception_case
from fixtures.models.transformer import transformer_block_case

MODELS = Path("/work/shared/models")
REPO = Path(__file__).resolve().parents[2]


def model_paths(work: Path) -> dict[str, Path]:
    return {
        "kws": MODELS / "mlperf_tiny/kws_ref_model_float32.tflite",
        "resnet8": MODELS / "mlperf_tiny/pretrainedResnet.tflite",
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
    outputs: list[np.ndarray]


def run(board: str, name: str, path: Path, cores: int) -> Measured:
    b = load_board(board)
    model: CompiledModel = compile_model(path, cores=board_cores(b, cores))
    harness = QemuHarness(
        {name: model}, cache_dir() / "bench-firmware" / f"speedup-{board}-{name}-{cores}", b
    )
    harness.build()
    rng = np.random.default_rng(0)
    g = model.graph
    inputs = [
        rng.uniform(-1, 1, g.tensor(t).shape).astype(g.tensor(t).dtype.numpy) for t in dict.fromkeys(g.inputs)
    ]
    result = harness.run(name, inputs, timeout=1200)
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
    return Measured(
        report["critical_path_instructions"],
        report["per_core_instructions"],
        report["per_core_wait_instructions"],
        estimate,
        tasks,
        result.outputs,
    )


def fit(tasks: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """Least relative squares of instructions ~ a x MACs + b x bytes + c over the tasks (small
    tasks weigh as much as large ones)."""
    measured = np.array([n for _, _, n in tasks], dtype=float)
    rows = np.array([[m, b, 1.0] for m, b, _ in tasks]) / measured[:, None]
    (a, b, c), *_ = np.linalg.lstsq(rows, np.ones(len(tasks)), rcond=None)
    return float(a), float(b), float(c)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--boards", nargs="+", default=["qemu-an524:2", "qemu-riscv32:2,4"], metavar="BOARD:N,M"
    )
    parser.add_argument("--models", nargs="+", default=["kws", "resnet8", "inception", "transformer"])
    parser.add_argument("--write", type=Path, metavar="FILE.md", help="also write the table as Markdown")
    args = parser.parse_args()
    table = []
    fits = []
    with tempfile.TemporaryDirectory() as d:
        paths = model_paths(Path(d))
        for spec in args.boards:
            board, counts = spec.split(":")
            samples: list[tuple[int, int, int]] = []
            for name in args.models:
                one = run(board, name, paths[name], 1)
                for n in (int(c) for c in counts.split(",")):
                    many = run(board, name, paths[name], n)
                    for got, ref in zip(many.outputs, one.outputs, strict=True):
                        np.testing.assert_array_equal(got, ref, err_msg=f"{name} on {n} cores of {board}")
                    samples += many.tasks
                    row = (board, name, n, one.critical_path, many, one.critical_path / many.critical_path)
                    table.append(row)
                    print(
                        f"{board:13} {name:12} {n} cores: 1 core {one.critical_path:>13,}  "
                        f"{n} cores {many.critical_path:>13,}  speed-up {row[5]:.3f} "
                        f"(estimate {many.estimate:.3f})  per core {many.per_core}"
                    )
            a, b, c = fit(samples)
            fits.append((board, len(samples), a, b, c))
            print(
                f"{board}: instructions per task ~ {a:.2f} x MACs + {b:.3f} x bytes + {c:.0f} ({len(samples)} tasks)"
            )
    if args.write:
        args.write.write_text(markdown(table, fits))
        print(f"wrote {args.write}")


def markdown(
    table: list[tuple[str, str, int, int, Measured, float]], fits: list[tuple[str, int, float, float, float]]
) -> str:
    lines = [
        "# Multicore speed-up on emulated boards",
        "",
        "Written by `python -m tests.bench.speedup --write docs/speedup.md` (figures from QEMU 7.2",
        "instruction counts, not timings). Speed-up = critical-path instructions on 1 core ÷ on N",
        "cores: the one-core `run`'s op instructions, against the N-core run replayed from each",
        'task\'s measured instructions (docs/multicore.md, "On QEMU boards"). N-core outputs are',
        "bit-identical to one core. Both boards run soft-float f32 (an524: CPU0 has no FPU;",
        "riscv32imac has none), so a MAC is tens of instructions.",
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
        "",
        "## Cost model fit",
        "",
        "Least relative squares of each task's measured instructions against the scheduler's",
        "features (`schedule/cost.py`: MACs, bytes read and written, one per call), over every",
        "task above:",
        "",
        "| board | tasks | per MAC | per byte | per call |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {board} | {n} | {a:.2f} | {b:.3f} | {c:,.0f} |" for board, n, a, b, c in fits]
    lines += [
        "",
        "On these soft-float cores a MAC (a software multiply and add) dwarfs a byte moved and a",
        "kernel call is worth a few MACs. The scheduler's constants (per speed-1.0 cycle: MAC 2,",
        "byte 0.25, call 200, sync 150) describe cores with an FPU, where a call is ~100 MACs; on",
        "these boards they overrate the per-call cost, so the estimates are a little pessimistic",
        "where ops are small (the transformer block). The constants are left as they are: the",
        "model has one cost per MAC for all boards, and the f32 boards it targets have FPUs.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
