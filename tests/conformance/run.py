"""ONNX backend node-test conformance: `python -m tests.conformance.run [--filter RE] [--jobs N] [--write-docs]`."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ariel_build.errors import ArielError
from tests.conformance.cases import discover
from tests.conformance.report import EXPECTED_PASS, write_docs, write_expected
from tests.conformance.runner import Progress as Hooks
from tests.conformance.runner import Result, Status, run_cases

STYLE = {
    Status.PASS: "green",
    Status.FAIL: "red",
    Status.BUILD_ERROR: "magenta",
    Status.CRASH: "bold red",
    Status.UNSUPPORTED: "yellow",
}


def _summary(results: list[Result], console: Console) -> None:
    counts = Counter(r.status for r in results)
    bugs = [r for r in results if r.status in (Status.FAIL, Status.BUILD_ERROR, Status.CRASH)]
    if bugs:
        table = Table(title="failing cases", show_lines=False)
        for col in ("test", "status", "reason"):
            table.add_column(col, overflow="fold")
        for r in bugs:
            table.add_row(r.name, f"[{STYLE[r.status]}]{r.status.value}[/]", escape(r.reason[:200]))
        console.print(table)
    parts = ", ".join(f"[{STYLE[s]}]{counts.get(s, 0)} {s.value}[/]" for s in Status)
    console.print(f"[bold]{counts.get(Status.PASS, 0)}/{len(results)} passed[/] ({parts})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.run", description=__doc__)
    parser.add_argument("--filter", help="only tests whose name matches this regular expression")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel compiles and runs")
    parser.add_argument("--batch-size", type=int, default=150, help="cases per cargo build")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"write docs/conformance.md and {EXPECTED_PASS.name}"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the generated harnesses here (default: a temporary directory)"
    )
    args = parser.parse_args(argv)
    if args.write_docs and args.filter:
        parser.error("--write-docs needs the full run (no --filter)")

    console = Console()
    cases = discover(args.filter)
    with (
        tempfile.TemporaryDirectory(prefix="ariel-conformance-") as tmp,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TimeElapsedColumn(),
            console=console,
        ) as bars,
    ):
        compiling = bars.add_task("compile", total=len(cases), tally="")
        done = bars.add_task("done", total=len(cases), tally="")
        builds = bars.add_task("cargo builds", total=None, tally="")
        tally: Counter[Status] = Counter()

        def ran(result: Result) -> None:
            tally[result.status] += 1
            text = " ".join(f"[{STYLE[s]}]{tally[s]}[/]" for s in Status if tally[s])
            bars.update(done, advance=1, tally=text)

        hooks = Hooks(
            compiled=lambda: bars.advance(compiling),
            built=lambda: bars.advance(builds),
            batch=lambda n: bars.update(builds, tally=f"batch of {n}"),
            ran=ran,
        )
        workdir = args.workdir or Path(tmp)
        try:
            results = run_cases(cases, workdir, jobs=args.jobs, batch_size=args.batch_size, progress=hooks)
        except ArielError as e:  # e.g. the kernels crate itself does not build
            console.print(f"[bold red]{e.layer}[/]: {escape(e.render())}", highlight=False)
            return 1
    _summary(results, console)
    if args.write_docs:
        write_docs(results)
        write_expected(results)
        console.print(f"wrote docs/conformance.md and {EXPECTED_PASS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
