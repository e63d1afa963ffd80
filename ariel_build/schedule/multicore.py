"""The multicore build step: parts, schedule, programs and the arena plan for N cores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ariel_build.boards import Core
from ariel_build.ir import Graph
from ariel_build.plan.memory import MemoryPlan
from ariel_build.schedule.list_scheduler import build_tasks, schedule
from ariel_build.schedule.memory import plan_scheduled_memory
from ariel_build.schedule.partition import partition
from ariel_build.schedule.program import Program, build_program


@dataclass
class MulticorePlan:
    cores: tuple[Core, ...]
    program: Program
    plan: MemoryPlan
    accesses: dict[str, set[int]]  # per arena buffer: the tasks touching it

    def summary(self) -> dict[str, Any]:
        """Estimates in the scheduler's cost units (docs/multicore.md), for report.json."""
        s = self.program.schedule
        serial = sum(t.costs[0] for t in s.tasks)
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
    tasks = build_tasks(graph, partition(graph, cores), cores)
    program = build_program(schedule(tasks, len(cores)))
    plan, accesses = plan_scheduled_memory(graph, base, program)
    return MulticorePlan(cores, program, plan, accesses)
