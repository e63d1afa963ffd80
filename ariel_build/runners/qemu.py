"""QEMU runner: one firmware build holds many models; each run picks one and counts instructions.

Inputs and outputs travel as raw little-endian files through semihosting (QEMU runs in a
temporary directory holding `model`, `input<k>.bin`, `output<k>.bin`), so one build serves any
number of runs. The counting plugin (board-support/qemu-plugin) writes per-vCPU totals and
counts per (vCPU, mark); see docs/boards.md. A multicore run's critical path is replayed from
the measured instructions of each task (docs/multicore.md, "On QEMU boards").
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ariel_build.boards import Board
from ariel_build.errors import BuildError, PlanError, RunError
from ariel_build.pipeline import CompiledModel
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu_firmware import ElfInfo, FirmwareCrate, check_budget, mark_layout, read_elf
from ariel_build.schedule.program import Run, Signal, Step, Wait
from ariel_build.toolchain import DEBIAN_CARGO, DEBIAN_LLD, DEBIAN_RUSTC, build_plugin, require_target

DEFAULT_TIMEOUT = 600.0


def cross_env(target: str) -> dict[str, str]:
    """Environment for `cargo build -Zbuild-std` with Debian's Rust, linking with LLVM's lld."""
    linker_var = "CARGO_TARGET_" + target.upper().replace("-", "_").replace(".", "_") + "_LINKER"
    return {
        **os.environ,
        "RUSTC": os.environ.get("ARIEL_RUSTC", str(DEBIAN_RUSTC)),
        "RUSTC_BOOTSTRAP": "1",
        "CARGO_TARGET_DIR": str(cache_dir() / "firmware-target"),
        linker_var: os.environ.get(linker_var, str(DEBIAN_LLD)),
    }


def cargo() -> str:
    return os.environ.get("ARIEL_CARGO", str(DEBIAN_CARGO))


@dataclass
class Counts:
    """Instructions per vCPU (`totals`) and per (vCPU, op step) (`per_op`, steps from 0)."""

    totals: list[int]
    per_op: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Counts:
        totals: dict[int, int] = {}
        per_op: dict[tuple[int, int], int] = {}
        for line in text.splitlines():
            kind, *values = line.split()
            if kind == "total":
                totals[int(values[0])] = int(values[1])
            elif kind == "mark" and int(values[1]) > 0:  # mark 0 = outside the model's ops
                per_op[(int(values[0]), int(values[1]) - 1)] = int(values[2])
        return cls([totals[v] for v in sorted(totals)], per_op)

    def op_instructions(self, step: int) -> int:
        return sum(n for (_, s), n in self.per_op.items() if s == step)

    def at(self, core: int, mark: int) -> int:
        """Instructions `core` executed while its last mark was `mark` (> 0)."""
        return self.per_op.get((core, mark - 1), 0)

    @property
    def critical_path(self) -> int:
        """Instructions inside the model's ops on the busiest core."""
        per_core: dict[int, int] = {}
        for (vcpu, _), n in self.per_op.items():
            per_core[vcpu] = per_core.get(vcpu, 0) + n
        return max(per_core.values(), default=0)


def replay(steps: list[list[Step]], busy: list[int]) -> list[int]:
    """Per core (its `steps`), when it finishes if every core executes one instruction per tick:
    task `t` takes `busy[t]` ticks, a wait lasts until its flag's signal (all start at 0)."""
    time = [0] * len(steps)
    pos = [0] * len(steps)
    signalled: dict[int, int] = {}
    progress = True
    while progress:
        progress = False
        for c, core_steps in enumerate(steps):
            while pos[c] < len(core_steps):
                step = core_steps[pos[c]]
                if isinstance(step, Wait):
                    if step.flag not in signalled:
                        break
                    time[c] = max(time[c], signalled[step.flag])
                elif isinstance(step, Run):
                    time[c] += busy[step.task]
                elif isinstance(step, Signal):
                    signalled[step.flag] = time[c]
                pos[c] += 1
                progress = True
    assert all(p == len(s) for p, s in zip(pos, steps, strict=True)), "the program deadlocks"
    return time


def stack_fields(stack_bytes: list[int] | None) -> dict[str, Any]:
    """`stack_bytes` (core 0) and, for a model run on several cores, `stack_bytes_per_core`."""
    if not stack_bytes:
        return {}
    fields: dict[str, Any] = {"stack_bytes": stack_bytes[0]}
    if len(stack_bytes) > 1:
        fields["stack_bytes_per_core"] = stack_bytes
    return fields


@dataclass
class RunResult:
    outputs: list[np.ndarray]
    counts: Counts
    stdout: str
    stack_bytes: list[int] = field(default_factory=list)  # per core the model ran on


class QemuHarness:
    """Builds one firmware for a set of compiled models; `run` executes one of them in QEMU."""

    def __init__(self, models: dict[str, CompiledModel], workdir: Path, board: Board) -> None:
        if not board.emulated and board.target is None:
            raise RunError(f"board '{board.name}' has no Rust target", fix="pick a microcontroller board")
        self.board = board
        self.workdir = workdir
        # Module names are generated (m0, m1, ...): model names need not be Rust identifiers.
        self.names = {name: f"m{k}" for k, name in enumerate(models)}
        self.models = models
        self.crate = FirmwareCrate({self.names[n]: m for n, m in models.items()}, board, workdir)
        self.elf: Path | None = None
        self.info: ElfInfo | None = None

    def build(self) -> Path:
        """Checks the budget, writes the crate and builds it; processes sharing the work directory
        take turns (a file lock), and an unchanged crate is fresh for cargo."""
        check_budget(self.models, self.board)
        require_target(str(self.board.target), cross_env(str(self.board.target))["RUSTC"])
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._build()

    def _build(self) -> Path:
        self.crate.write()
        cmd = [
            cargo(),
            "build",
            "--quiet",
            "--release",
            "-Zbuild-std=core",
            "--target",
            str(self.board.target),
        ]
        result = subprocess.run(
            cmd, cwd=self.workdir, capture_output=True, text=True, env=cross_env(str(self.board.target))
        )
        if result.returncode != 0:
            overflow = re.search(r"will not fit in region '(\w+)': overflowed by (\d+) bytes", result.stderr)
            if overflow:
                region, extra = overflow[1], int(overflow[2])
                raise PlanError(
                    f"the firmware for board '{self.board.name}' is {extra:,} B larger than its {region}",
                    where=str(self.workdir),
                    fix='set `int8_weights = "compact"` (8-bit weights take half the flash of "wide"), '
                    "or choose a board with more memory or a smaller model",
                )
            raise BuildError(
                f"the firmware for board '{self.board.name}' did not build:\n" + result.stderr[-6000:],
                where=str(self.workdir),
                fix="run `ariel-build setup`; if it persists this is a bug in ariel-build, please report it",
            )
        built = cache_dir() / "firmware-target" / str(self.board.target) / "release" / self.crate.package
        own = self.workdir / "firmware.elf"
        partial = own.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(built, partial)
        partial.replace(own)  # atomic: a QEMU started from another process reads a whole file
        self.elf = own
        self.info = read_elf(own)
        return own

    def qemu_command(self, counts_file: Path) -> list[str]:
        assert self.elf is not None and self.info is not None
        program, *args = self.board.runner.command
        if shutil.which(program) is None:
            raise RunError(f"{program} is not installed", fix="run `ariel-build setup`")
        marks, _ = self.info.marks
        n_marks, n_cores = mark_layout(self.crate.models)
        lo, hi = self.info.mark_fn
        plugin = (
            f"{build_plugin()},out={counts_file},marks={marks:#x},nmarks={n_marks},ncores={n_cores},"
            f"mark_fn={lo:#x},mark_fn_end={hi:#x}"
        )
        return [program, "-plugin", plugin, *args, str(self.elf)]

    def run(self, name: str, inputs: list[np.ndarray], timeout: float = DEFAULT_TIMEOUT) -> RunResult:
        if self.elf is None:
            self.build()
        g = self.models[name].graph
        with tempfile.TemporaryDirectory(dir=self.workdir) as d:
            io = Path(d)
            (io / "model").write_bytes(self.names[name].encode())
            for k, (tname, arr) in enumerate(zip(dict.fromkeys(g.inputs), inputs, strict=True)):
                t = g.tensor(tname)
                if arr.size != t.size:
                    raise RunError(f"input {k} ('{tname}') has shape {arr.shape}; the model takes {t.shape}")
                np.ascontiguousarray(arr).astype(t.dtype.numpy.newbyteorder("<")).tofile(io / f"input{k}.bin")
            counts_file = io / "counts.txt"
            try:
                result = subprocess.run(
                    self.qemu_command(counts_file), cwd=io, capture_output=True, text=True, timeout=timeout
                )
            except subprocess.TimeoutExpired as e:
                raise RunError(
                    f"'{name}' did not finish within {timeout:.0f} s on {self.board.name}",
                    fix="raise the timeout or use a smaller model",
                ) from e
            if result.returncode != 0:
                raise RunError(
                    f"'{name}' failed on {self.board.name} (exit {result.returncode}):\n"
                    + (result.stderr + result.stdout)[-3000:]
                )
            outputs = []
            for k, tname in enumerate(dict.fromkeys(g.outputs)):
                t = g.tensor(tname)
                raw = np.fromfile(io / f"output{k}.bin", dtype=t.dtype.numpy.newbyteorder("<"))
                outputs.append(raw.astype(t.dtype.numpy).reshape(t.shape))
            counts = Counts.parse(counts_file.read_text()) if counts_file.exists() else Counts([])
            stack = np.fromfile(io / "stack.bin", dtype="<u4").tolist()
            return RunResult(outputs, counts, result.stdout, stack)

    def report(self, name: str, counts: Counts, stack_bytes: list[int] | None = None) -> dict[str, Any]:
        """report.json fields measured on the board: instructions, flash/RAM use of the ELF and the
        stack high-water mark per core (`stack_bytes`, from `RunResult`).

        `per_core_instructions`: what each core executed in its steps (ops or parts, signals,
        the outputs copy), waits excluded. `per_core_wait_instructions`: instructions spent
        spinning in waits (they depend on how QEMU's threads interleave). The critical path:
        one core's op instructions, or the replay of a multicore run (`replay`).
        """
        assert self.info is not None
        model = self.models[name]
        nodes = model.graph.nodes
        waiting = mark_layout(self.crate.models)[0] - 1
        mc = model.multicore
        if mc is None:
            busy_per_core = [sum(counts.at(0, k + 1) for k in range(len(nodes)))]
            per_op = [[counts.at(0, k + 1)] for k in range(len(nodes))]
            critical = busy_per_core[0]
        else:
            tasks = mc.program.schedule.tasks
            core_of = mc.program.schedule.core
            busy = [counts.at(core_of[t], t + 1) for t in range(len(tasks))]
            end = counts.at(0, len(tasks) + 1)
            finish = replay(mc.program.steps, busy)
            critical = max(finish) + end
            busy_per_core = [
                sum(b for t, b in enumerate(busy) if core_of[t] == c) for c in range(mc.program.cores)
            ]
            busy_per_core[0] += end
            index = {n.name: k for k, n in enumerate(nodes)}
            per_op = [[0] * mc.program.cores for _ in nodes]
            for t, task in enumerate(tasks):
                per_op[index[task.node.name]][core_of[t]] += busy[t]
        cores = len(busy_per_core)
        return {
            "per_core_instructions": busy_per_core,
            "per_core_wait_instructions": [counts.at(c, waiting) for c in range(cores)],
            "per_vcpu_total_instructions": counts.totals,
            "critical_path_instructions": critical,
            "op_instructions": [sum(row) for row in per_op],
            "op_instructions_per_core": per_op,
            "memory": {
                **self.info.memory,
                "arena_bytes": model.plan.arena_bytes,
                **stack_fields(stack_bytes),
            },
        }
