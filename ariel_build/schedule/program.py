"""Per-core programs from a schedule: each core runs its tasks in order, waiting only where it
reads what another core wrote and it does not already know that core got that far.

Knowledge is tracked with vector clocks: `known[t][c]` is the last position on core c that has
finished before task t starts (program order on t's own core, plus every flag t's core waited
for, transitively). A wait on the latest producer on a core covers its earlier tasks there.
The same clocks give the happens-before relation the memory planner uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ariel_build.schedule.list_scheduler import Schedule

END = -1  # pseudo-task after every task: core 0 copying the outputs after joining the others


@dataclass(frozen=True)
class Wait:
    flag: int


@dataclass(frozen=True)
class Run:
    task: int


@dataclass(frozen=True)
class Signal:
    flag: int


Step = Wait | Run | Signal


@dataclass
class Program:
    schedule: Schedule
    steps: list[list[Step]]  # per core
    flags: int
    position: list[int]  # per task: its index in its core's order
    known: list[list[int]]  # per task: per core, the last position finished before it starts

    @property
    def cores(self) -> int:
        return len(self.steps)

    def happens_before(self, a: int, b: int) -> bool:
        """Task `a` finishes before task `b` starts, on every run (END: after all tasks)."""
        if a == END or a == b:
            return False
        if b == END:
            return True
        return self.known[b][self.schedule.core[a]] >= self.position[a]

    @property
    def waits(self) -> int:
        return sum(isinstance(s, Wait) for steps in self.steps for s in steps)


def build_program(s: Schedule) -> Program:
    n_cores = len(s.order)
    position = [0] * len(s.tasks)
    for order in s.order:
        for i, t in enumerate(order):
            position[t] = i
    clock = [[-1] * n_cores for _ in range(n_cores)]  # per core: what it knows so far
    known: list[list[int]] = [[] for _ in s.tasks]
    waits_before: dict[int, list[int]] = {}  # task -> producer tasks it waits for
    flag_of: dict[int, int] = {}
    for t in sorted(range(len(s.tasks)), key=lambda t: (s.start[t], s.core[t], position[t])):
        c = s.core[t]
        vc = clock[c]
        # Latest first: its clock is the likeliest to cover the others.
        remote = sorted((p for p in s.tasks[t].preds if s.core[p] != c), key=lambda p: (-s.finish[p], p))
        for p in remote:
            if vc[s.core[p]] >= position[p]:
                continue
            flag_of.setdefault(p, len(flag_of))
            waits_before.setdefault(t, []).append(p)
            seen = known[p][:]
            seen[s.core[p]] = position[p]
            vc = [max(a, b) for a, b in zip(vc, seen, strict=True)]
        known[t] = vc
        clock[c] = vc[:]
        clock[c][c] = position[t]
    steps: list[list[Step]] = []
    for order in s.order:
        core_steps: list[Step] = []
        for t in order:
            core_steps.extend(Wait(flag_of[p]) for p in waits_before.get(t, []))
            core_steps.append(Run(t))
            if t in flag_of:
                core_steps.append(Signal(flag_of[t]))
        steps.append(core_steps)
    return Program(s, steps, len(flag_of), position, known)
