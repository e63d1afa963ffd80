"""`ariel-build` command line: check, inspect, run, plan, report, setup, demo, generate."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ariel_build import __version__
from ariel_build.errors import ArielError, RunError, UnsupportedOpsError
from ariel_build.ops.quantized.packing import INT8_WEIGHTS

console = Console(stderr=True, soft_wrap=True)
out = Console()


def _parse_shapes(items: list[str] | None) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for item in items or []:
        name, _, dims = item.partition("=")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError as e:
            raise ArielError(f"bad --input-shape '{item}'", fix="write NAME=1,3,32,32") from e
    return shapes


def cmd_check(args: argparse.Namespace) -> int:
    from ariel_build.frontends import list_ops, load_model

    ops = list_ops(Path(args.model))
    try:
        load_model(args.model, _parse_shapes(args.input_shape))
        problems: list[tuple[str, str, str]] = []
    except UnsupportedOpsError as e:
        problems = e.problems
    bad = Counter(p[0] for p in problems)
    table = Table(title=f"{args.model}: {len(ops)} op type(s)")
    table.add_column("op")
    table.add_column("nodes", justify="right")
    table.add_column("status")
    for op, count in sorted(ops.items()):
        status = "[red]unsupported[/]" if op in bad else "[green]supported[/]"
        table.add_row(op, str(count), status)
    out.print(table)
    for op, name, why in problems:
        out.print(f"  [red]✗[/] {op} '{name}': {why}")
    if problems:
        out.print(f"[red]{len(bad)} unsupported op type(s): {', '.join(sorted(bad))}[/]")
        return 1
    out.print("[green]all ops supported[/]")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from ariel_build.pipeline import compile_model
    from ariel_build.report import summary

    model = compile_model(args.model, _parse_shapes(args.input_shape))
    s = summary(model)
    table = Table(title=f"{args.model}")
    for col in ("#", "node", "op", "inputs", "output", "MACs", "params", "arena offset"):
        table.add_column(col, justify="right" if col in ("#", "MACs", "params") else "left")
    for k, r in enumerate(s["ops"]):
        locs = ", ".join(
            f"{loc['offset']}+{loc['bytes']}" if loc["kind"] == "arena" else loc["kind"]
            for loc in r["output_locations"]
        )
        table.add_row(
            str(k),
            r["name"],
            r["op"],
            " ".join(str(tuple(x)) for x in r["inputs"][:1]),
            " ".join(str(tuple(x)) for x in r["outputs"]),
            f"{r['macs']:,}",
            f"{r['params']:,}",
            locs,
        )
    out.print(table)
    out.print(
        f"MACs {s['macs']:,} · weights {s['weight_bytes']:,} B (flash) · arena {s['arena_bytes']:,} B (RAM)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ariel_build.codegen.names import snake_case
    from ariel_build.run import run_model

    inputs = []
    for path in args.input:
        try:
            inputs.append(np.load(path))
        except (OSError, ValueError) as e:
            raise RunError(f"cannot read {path}: {e}", fix="give a .npy file (numpy.save)") from e
    result = run_model(
        args.model,
        args.board,
        args.cores,
        inputs,
        _parse_shapes(args.input_shape),
        console,
        args.input,
        args.int8_weights,
    )
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, arr in result.outputs.items():
        np.save(outdir / f"{snake_case(name) if '/' in name else name}.npy", arr)
    report = result.report
    (outdir / "report.json").write_text(json.dumps(report, indent=2))
    for name, arr in result.outputs.items():
        flat = arr.reshape(-1)
        shown = np.array2string(flat[:10], precision=4)
        out.print(f"{name} {tuple(arr.shape)}: {shown}{' …' if flat.size > 10 else ''}")
    if report["per_core_instructions"]:
        out.print(
            f"instructions per core: {report['per_core_instructions']} (critical path "
            f"{report['critical_path_instructions']:,})"
        )
    ram = f"RAM: arena {report['arena_bytes']:,} B + inputs/outputs {report['io_bytes']:,} B"
    if report["tflm_arena"]:
        ram += f"; TFLite Micro's arena for this model: {report['tflm_arena']['total_bytes']:,} B"
    out.print(ram)
    out.print(f"wrote {outdir}/report.json")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from ariel_build.plan_view import build_plan_view, render_terminal, write_png

    view = build_plan_view(args.model, args.board, args.cores, _parse_shapes(args.input_shape))
    render_terminal(view, out)
    if args.png:
        out.print(f"wrote {write_png(view, Path(args.png))}", highlight=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ariel_build.html_report import write_report

    out = Path(args.out or Path(args.model).with_suffix(".html").name)
    write_report(args.model, args.board, args.cores, out, _parse_shapes(args.input_shape), args.measure)
    console.print(f"wrote {out}", highlight=False)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from ariel_build.config.generate import generate_for_crate

    generate_for_crate(Path(args.manifest_dir), Path(args.out_dir))
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from ariel_build.toolchain import setup

    setup(lambda line: console.print(line, highlight=False, markup=False))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ariel_build.demo import demo

    demo(args.board, args.cores, out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ariel-build", description=__doc__)
    p.add_argument("--version", action="version", version=f"ariel-build {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def model_cmd(name: str, help_text: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_text)
        c.add_argument("model", help="an .onnx model file")
        c.add_argument(
            "--input-shape", action="append", metavar="NAME=D0,D1,…", help="static shape for an input"
        )
        return c

    model_cmd("check", "list every op of a model as supported or unsupported").set_defaults(func=cmd_check)
    model_cmd("inspect", "ops, shapes, MACs, params and the arena plan").set_defaults(func=cmd_inspect)
    run = model_cmd("run", "compile, build and run a model; write outputs and report.json")
    run.add_argument("--board", default="host")
    run.add_argument("--cores", type=int, default=1)
    run.add_argument(
        "--input", action="append", default=[], metavar="FILE.npy", help="one per graph input, in order"
    )
    run.add_argument("--out", required=True, metavar="DIR")
    run.add_argument(
        "--int8-weights",
        choices=INT8_WEIGHTS,
        default="auto",
        help="int8 conv/FC weight layout: wide (16-bit, faster SMLAD loop, twice the flash), compact, "
        "or auto (wide where SMLAD runs and the flash allows)",
    )
    run.set_defaults(func=cmd_run)
    plan = model_cmd("plan", "the static multicore schedule as a Gantt chart (terminal, optional PNG)")
    plan.add_argument("--board", default="host")
    plan.add_argument("--cores", type=int, default=None, help="default: all cores of the board (host: 2)")
    plan.add_argument("--png", metavar="FILE.png", help="also draw the chart into a PNG file")
    plan.set_defaults(func=cmd_plan)
    rep = model_cmd("report", "a self-contained HTML page: ops, arena over time, schedule, flash/RAM budget")
    rep.add_argument("--board", default="host")
    rep.add_argument("--cores", type=int, default=1)
    rep.add_argument("--out", metavar="FILE.html", help="default: MODEL.html in the current directory")
    rep.add_argument(
        "--measure", action="store_true", help="run once on the emulated board for instruction counts"
    )
    rep.set_defaults(func=cmd_report)
    sub.add_parser(
        "setup", help="install the cross toolchain and QEMU (Debian apt; idempotent)"
    ).set_defaults(func=cmd_setup)
    dem = sub.add_parser(
        "demo", help="build the example crate, run a real model on 1 and on all cores of a board"
    )
    dem.add_argument("--board", default="qemu-an524")
    dem.add_argument("--cores", type=int, default=None, help="default: all cores of the board")
    dem.set_defaults(func=cmd_demo)
    gen = sub.add_parser("generate", help="(used by build.rs) generate the modules of a firmware crate")
    gen.add_argument("--manifest-dir", required=True)
    gen.add_argument("--out-dir", required=True)
    gen.set_defaults(func=cmd_generate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ArielError as e:
        console.print(f"[bold red]{e.layer}:[/] {e.render()}", highlight=False)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
