"""MACs per instruction of the int8 models on QEMU boards, and RAM against TFLite Micro (a
benchmark printing figures, not a test).

    python -m tests.bench.int8 [--boards qemu-an386 qemu-an524] [--models kws resnet8 vww ad01]

Builds one firmware per board and model (MLPerf Tiny KWS, ResNet-8, VWW, anomaly detection),
runs it once on random int8 inputs, checks the outputs equal TFLite Micro's bit for bit, and
prints per conv / fully connected layer its MACs, the instructions its op took and MACs per
instruction, then per model all MACs over the instructions of all ops. Memory: the plan's arena
plus the input/output buffers (which ariel keeps outside the arena) against the arena bytes the
`tflite-micro` interpreter allocates for the same model (`print_allocations`: total, and its
non-persistent "head" that holds the activations).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ariel_build.boards import load_board
from ariel_build.errors import ArielError
from ariel_build.ops.base import lookup
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness
from ariel_build.runners.qemu_firmware import wide_weight_budget
from ariel_build.schedule.multicore import board_cores
from ariel_build.tflm import tflm_arena as ariel_tflm_arena
from tests.oracle import tflite_micro_outputs

SHARED = Path("/work/shared/models/mlperf_tiny")
MODELS = {
    "kws": SHARED / "kws_ref_model.tflite",
    "resnet8": SHARED / "pretrainedResnet_quant.tflite",
    "vww": SHARED / "vww_96_int8.tflite",
    "ad01": SHARED / "ad01_int8.tflite",
}
LAYER_OPS = ("QConv", "QFullyConnected")


@dataclass
class Layer:
    name: str
    kind: str
    macs: int
    instructions: int


@dataclass
class ModelFigures:
    layers: list[Layer]
    macs: int
    instructions: int
    arena_bytes: int
    io_bytes: int
    weight_bytes: int


def tflm_arena(path: Path) -> tuple[int, int]:
    """(total, head) arena bytes of the `tflite-micro` interpreter (report.json's `tflm_arena`)."""
    found = ariel_tflm_arena(path)
    assert found, f"tflite-micro gave no arena for {path}"
    return found["total_bytes"], found["head_bytes"]


def layer_kind(model: CompiledModel, step: int) -> str:
    node = model.graph.nodes[step]
    if node.op == "QFullyConnected":
        return "fully connected"
    w = model.graph.tensor(node.inputs[1]).shape
    groups = int(node.attrs.get("group", 1))
    if groups > 1:
        return (
            f"depthwise {w[2]}x{w[3]}" if groups == model.graph.tensor(node.inputs[0]).shape[1] else "grouped"
        )
    return "pointwise" if w[2:] == (1, 1) else f"conv {w[2]}x{w[3]}"


def measure(board: str, name: str, path: Path) -> ModelFigures:
    b = load_board(board)
    model = compile_model(path, cores=board_cores(b, 1), flash=wide_weight_budget(b))
    harness = QemuHarness(
        {name: model}, cache_dir() / "bench-firmware" / f"int8-{board}-{name}", load_board(board)
    )
    harness.build()
    g = model.graph
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-128, 128, g.tensor(t).shape, dtype=np.int8) for t in g.inputs]
    result = harness.run(name, inputs, timeout=600)
    for got, want in zip(result.outputs, tflite_micro_outputs(path, inputs), strict=True):
        np.testing.assert_array_equal(got, want, err_msg=f"{name} on {board} differs from TFLite Micro")
    layers = [
        Layer(n.name, layer_kind(model, k), lookup(n.op).macs(n, g), result.counts.op_instructions(k))
        for k, n in enumerate(g.nodes)
        if n.op in LAYER_OPS
    ]
    io = sum(g.tensor(t).nbytes for t in dict.fromkeys(g.inputs + g.outputs))
    macs = sum(lookup(n.op).macs(n, g) for n in g.nodes if n.op in LAYER_OPS)
    return ModelFigures(
        layers, macs, result.counts.critical_path, model.plan.arena_bytes, io, model.plan.weight_bytes
    )


def print_board(board: str, figures: dict[str, ModelFigures | str]) -> None:
    print(f"\n{board}: MACs per instruction")
    print(f"{'model / layer':48} {'kind':16} {'MACs':>10} {'instructions':>13} {'MAC/instr':>9}")
    for name, f in figures.items():
        if isinstance(f, str):
            print(f"{name:48} {f}")
            continue
        for layer in f.layers:
            rate = layer.macs / max(layer.instructions, 1)
            print(
                f"  {layer.name[-46:]:46} {layer.kind:16} {layer.macs:10,} {layer.instructions:13,} {rate:9.2f}"
            )
        print(
            f"{name + ' (whole model)':48} {'':16} {f.macs:10,} {f.instructions:13,} {f.macs / f.instructions:9.3f}"
        )


def print_memory(figures: dict[str, ModelFigures | str]) -> None:
    print("\nRAM (bytes): ariel arena + inputs/outputs vs TFLite Micro arena (total / head)")
    print(
        f"{'model':10} {'ariel arena':>12} {'+ I/O':>10} {'TFLM total':>11} {'TFLM head':>10} {'weights':>10}"
    )
    for name, f in figures.items():
        if isinstance(f, str):
            continue
        total, head = tflm_arena(MODELS[name])
        print(
            f"{name:10} {f.arena_bytes:12,} {f.arena_bytes + f.io_bytes:10,} {total:11,} {head:10,} "
            f"{f.weight_bytes:10,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--boards", nargs="+", default=["qemu-an386", "qemu-an524"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    memory: dict[str, ModelFigures | str] = {}  # the plan is the same on every board
    for board in args.boards:
        figures: dict[str, ModelFigures | str] = {}
        for name in args.models:
            try:
                figures[name] = measure(board, name, MODELS[name])
            except ArielError as e:  # e.g. does not fit the board
                figures[name] = f"not run: {' '.join(str(e).split())[:160]}"
            if not isinstance(memory.get(name), ModelFigures):
                memory[name] = figures[name]
        print_board(board, figures)
    print_memory(memory)


if __name__ == "__main__":
    main()
