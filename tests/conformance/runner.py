"""Compile ONNX node tests with the pipeline, build them in batched harnesses, run and classify them."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ariel_build.errors import ArielError, BuildError, RunError, UnsupportedOpsError
from ariel_build.pipeline import CompiledModel, compile_model, emit_module
from ariel_build.runners.host import HostHarness
from tests.conformance.cases import Case, CaseUnsupported, TestData, compare, load_data

RUN_TIMEOUT_S = 60.0


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    BUILD_ERROR = "build error"
    CRASH = "crash"


@dataclass
class Result:
    name: str
    status: Status
    reason: str = ""
    max_abs_error: float | None = None
    # (op type, why) for each rejected node: what the docs group unsupported cases by.
    unsupported_ops: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Prepared:
    case: Case
    model: CompiledModel
    data: TestData


def _one_line(text: str) -> str:
    return " ".join(text.split())


def prepare(case: Case) -> Prepared | Result:
    """Load data, compile and generate Rust for one case; a Result when it stops before the build."""
    try:
        data = load_data(case)
    except CaseUnsupported as e:
        return Result(case.name, Status.UNSUPPORTED, str(e), unsupported_ops=[("(test data)", str(e))])
    try:
        model = compile_model(case.model_path)
    except UnsupportedOpsError as e:
        problems = [(op, _one_line(why)) for op, _, why in e.problems]
        reason = "; ".join(dict.fromkeys(f"{op}: {why}" for op, why in problems))
        return Result(case.name, Status.UNSUPPORTED, reason, unsupported_ops=problems)
    except ArielError as e:
        msg = _one_line(e.message)
        return Result(case.name, Status.UNSUPPORTED, msg, unsupported_ops=[("(import)", msg)])
    except Exception as e:  # noqa: BLE001 - an internal error in the pipeline is a finding, not a stop
        where = traceback.extract_tb(e.__traceback__)[-1]
        loc = f"{Path(where.filename).name}:{where.lineno}"
        return Result(case.name, Status.CRASH, f"compile: {type(e).__name__}: {_one_line(str(e))} ({loc})")
    try:
        emit_module(model, case.module)
    except Exception as e:  # noqa: BLE001
        return Result(case.name, Status.BUILD_ERROR, f"codegen: {type(e).__name__}: {_one_line(str(e))}")
    return Prepared(case, model, data)


def prepare_all(cases: list[Case], jobs: int, progress: Callable[[], None]) -> Iterator[Prepared | Result]:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for item in pool.map(prepare, cases, chunksize=4):
            progress()
            yield item


# `--> src/<module>.rs:line:col` in rustc's diagnostics names the generated module at fault.
_ERROR_AT = re.compile(r"^error(?:\[\w+\])?: (.*)$\n\s*--> src/(\w+)\.rs:(\d+)", re.MULTILINE)


def _culprits(stderr: str, modules: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for message, module, line in _ERROR_AT.findall(stderr):
        if module in modules and module not in found:
            found[module] = f"rustc: {message} ({module}.rs:{line})"
    return found


def build_harnesses(
    models: dict[str, CompiledModel], workdir: Path, on_build: Callable[[], None]
) -> tuple[list[HostHarness], dict[str, str]]:
    """Build the models in as few harnesses as possible; cases whose Rust does not compile are set
    aside (named by rustc, else found by bisection) so one bad case does not sink the batch."""
    harnesses: list[HostHarness] = []
    failed: dict[str, str] = {}
    counter = iter(range(1 << 30))

    def attempt(group: dict[str, CompiledModel]) -> None:
        while group:
            harness = HostHarness(group, workdir / f"h{next(counter)}")
            try:
                harness.build()
            except BuildError as e:
                on_build()
                if "could not compile `ariel-kernels`" in e.message:
                    raise  # no case is at fault; bisecting would only repeat it
                named = _culprits(e.message, set(group))
                if named:
                    failed.update(named)
                    group = {m: g for m, g in group.items() if m not in named}
                    continue
                if len(group) == 1:
                    (module,) = group
                    errors = [ln for ln in e.message.splitlines() if ln.startswith("error")]
                    failed[module] = "rustc: " + _one_line(errors[0] if errors else e.message[-200:])
                    return
                names = list(group)
                half = len(names) // 2
                attempt({m: group[m] for m in names[:half]})
                attempt({m: group[m] for m in names[half:]})
                return
            on_build()
            harnesses.append(harness)
            return

    attempt(dict(models))
    return harnesses, failed


def run_case(harness: HostHarness, prepared: Prepared) -> Result:
    case, graph, data = prepared.case, prepared.model.graph, prepared.data
    try:
        inputs = [data.inputs[name] for name in dict.fromkeys(graph.inputs)]
        produced = harness.run(case.module, inputs, timeout=RUN_TIMEOUT_S)
    except RunError as e:
        lines = [ln for ln in e.message.splitlines() if ln.strip()]
        panic = next((ln for ln in lines if "panicked at" in ln), lines[-1] if lines else "")
        detail = lines[lines.index(panic) + 1] if panic in lines[:-1] else ""
        return Result(case.name, Status.CRASH, _one_line(f"{panic} {detail}"))
    by_name = dict(zip(dict.fromkeys(graph.outputs), produced, strict=True))
    got = [by_name[name] for name in graph.outputs]
    rtol, atol = case.tolerances()
    verdict = compare(got, data.outputs, rtol, atol)
    if verdict.ok:
        return Result(case.name, Status.PASS, max_abs_error=verdict.max_abs_error)
    return Result(case.name, Status.FAIL, verdict.reason, max_abs_error=verdict.max_abs_error)


@dataclass
class Progress:
    """Callbacks the CLI hooks its progress bars to (all optional)."""

    compiled: Callable[[], None] = lambda: None
    built: Callable[[], None] = lambda: None
    batch: Callable[[int], None] = lambda n: None  # a batch of n cases is being built
    ran: Callable[[Result], None] = lambda r: None


def run_cases(
    cases: list[Case], workdir: Path, jobs: int = 2, batch_size: int = 150, progress: Progress | None = None
) -> list[Result]:
    """Every case classified; results in the order of `cases`."""
    progress = progress or Progress()
    results: dict[str, Result] = {}
    prepared: list[Prepared] = []
    for item in prepare_all(cases, jobs, progress.compiled):
        if isinstance(item, Result):
            results[item.name] = item
            progress.ran(item)
        else:
            prepared.append(item)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for start in range(0, len(prepared), batch_size):
            batch = {p.case.module: p for p in prepared[start : start + batch_size]}
            progress.batch(len(batch))
            harnesses, failed = build_harnesses(
                {m: p.model for m, p in batch.items()},
                workdir / f"batch{start // batch_size}",
                progress.built,
            )
            for module, why in failed.items():
                result = Result(batch[module].case.name, Status.BUILD_ERROR, why)
                results[result.name] = result
                progress.ran(result)
            jobs_list = [(h, batch[m]) for h in harnesses for m in h.models]
            for result in pool.map(lambda hp: run_case(*hp), jobs_list):
                results[result.name] = result
                progress.ran(result)
    return [results[c.name] for c in cases]
