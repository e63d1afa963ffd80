"""The multicore build step: parts, schedule, programs and the arena plan for N cores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ariel_build.boards import Board, Core
from ariel_build.errors import ConfigError
from ariel_build.ir import Graph
from ariel_build.plan.memory import MemoryPlan
from ariel_build.schedule.cost import part_cost
from ariel_build.schedule.list_scheduler import schedule
from ariel_build.schedule.memory import plan_scheduled_memory
from ariel_build.schedule.partition import runs_code
from ariel_build.schedule.program import Program, build_program
from ariel_build.schedule.split import whole


@dataclass
class MulticorePlan:
    cores: tuple[Core, ...]
    program: Program
    plan: MemoryPlan
    accesses: dict[str, set[int]]  # per arena buffer: the tasks touching it
    one_core_estimate: float  # every node whole on core 0, in cost units

    def summary(self) -> dict[str, Any]:
        """Estimates in the scheduler's cost units (docs/multicore.md), for report.json."""
        s = self.program.schedule
        serial = self.one_core_estimate
        return {
            "cores": len(self.cores),
            "shared_arena_bytes": self.plan.arena_bytes,
            "tasks": len(s.tasks),
            "split_nodes": len({t.node.name for t in s.tasks if t.index > 0}),
            "flags": self.program.flags,
            "waits": self.program.waits,
            "critical_path_estimate": round(s.makespan, 1),
            "one_core_estimate": round(serial, 1),
            "speedup_estimate": round(serial / s.makespan, 3) if s.makespan else 1.0,
            "per_core_busy_estimate": [round(s.busy(c), 1) for c in range(len(self.cores))],
        }


def plan_multicore(graph: Graph, base: MemoryPlan, cores: tuple[Core, ...]) -> MulticorePlan:
    program = build_program(schedule(graph, cores))
    plan, accesses = plan_scheduled_memory(graph, base, program)
    serial = sum(part_cost(whole(n, graph), cores[0]) for n in graph.nodes if runs_code(n))
    return MulticorePlan(cores, program, plan, accesses, serial)


def board_cores(board: Board, count: int) -> tuple[Core, ...]:
    """The first `count` cores of `board`; on the host, threads stand in for any number."""
    if count < 1:
        raise ConfigError(f"--cores {count}: at least one core is needed", fix="use --cores 1 or more")
    if board.runner.kind == "host":
        return (board.cores[0],) * count
    if count > len(board.cores):
        raise ConfigError(
            f"board '{board.name}' has {len(board.cores)} core(s); --cores {count} asked for more",
            where=str(board.path),
            fix=f"use --cores {len(board.cores)} or fewer",
        )
    return board.cores[:count]
