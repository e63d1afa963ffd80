"""Instructions per MAC of the f32 conv / Gemm / MatMul kernels on QEMU boards (a benchmark, not a test).

    python -m tests.bench.kernels [--boards qemu-an386 qemu-riscv32] [--baseline GIT_REV]

Builds one firmware per board holding typical layers (the shapes of MNIST, ResNet-8 and the DS-CNN
keyword spotter) and the real float models, runs each once and prints, per layer, the instructions
its op took divided by its MACs, and per model the instructions inside all ops divided by all MACs.
`--baseline REV` also builds the same firmware against the kernels crate of git revision REV and
prints both columns. Outputs are checked against onnxruntime (TFLite: LiteRT) first (rtol 1e-4, atol 1e-5 for the
layers; atol 5e-3 for the models: LiteRT runs the hybrid KWS model's int8 weights).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ariel_build.boards import load_board
from ariel_build.ops.base import lookup
from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners import qemu_firmware
from ariel_build.runners.host import cache_dir
from ariel_build.runners.qemu import QemuHarness
from fixtures.model_case import ModelCase
from fixtures.ops.conv import conv_case
from fixtures.ops.gemm import gemm_case
from fixtures.ops.matmul import matmul_case
from tests.oracle import litert_outputs, onnxruntime_outputs

REPO = Path(__file__).resolve().parents[2]
MODELS = Path("/work/shared/models")
HEAVY_OPS = ("Conv", "Gemm", "MatMul")


def layer_cases() -> list[ModelCase]:
    """Single ops shaped like the layers of the real models."""
    return [
        conv_case("mnist_conv5x5_c1", (1, 1, 28, 28), (8, 1, 5, 5), pads=[2, 2, 2, 2]),
        conv_case("mnist_conv5x5_c8", (1, 8, 14, 14), (16, 8, 5, 5), pads=[2, 2, 2, 2]),
        conv_case("resnet_conv3x3_c16", (1, 16, 32, 32), (16, 16, 3, 3), pads=[1, 1, 1, 1]),
        conv_case("resnet_conv3x3_s2", (1, 16, 32, 32), (32, 16, 3, 3), strides=[2, 2], pads=[0, 0, 1, 1]),
        conv_case("resnet_conv1x1_s2", (1, 16, 32, 32), (32, 16, 1, 1), strides=[2, 2]),
        conv_case("kws_conv10x4_s2", (1, 1, 49, 10), (64, 1, 10, 4), strides=[2, 2], pads=[4, 1, 5, 1]),
        conv_case("kws_depthwise3x3", (1, 64, 25, 5), (64, 1, 3, 3), group=64, pads=[1, 1, 1, 1]),
        conv_case("kws_pointwise_c64", (1, 64, 25, 5), (64, 64, 1, 1)),
        conv_case("conv3x3_odd", (1, 5, 11, 13), (7, 5, 3, 3), pads=[1, 1, 1, 1]),
        gemm_case("fc_256x10", (1, 256), (10, 256), (10,), transB=1),
        gemm_case("fc_64x12", (1, 64), (12, 64), (12,), transB=1),
        gemm_case("gemm_rows_16x64x64", (16, 64), (64, 64), (64,), transB=1),
        matmul_case("matmul_16x64x48", (16, 64), (64, 48), b_const=True),
    ]


def real_models() -> dict[str, Path]:
    return {
        "mnist": MODELS / "onnx/mnist.onnx",
        "kws_dscnn_f32": MODELS / "mlperf_tiny/kws_ref_model_float32.tflite",
        "resnet8_f32": MODELS / "mlperf_tiny/pretrainedResnet.tflite",
    }


@dataclass
class Row:
    name: str
    macs: int
    instructions: int

    @property
    def per_mac(self) -> float:
        return self.instructions / self.macs


def heavy_steps(model: CompiledModel) -> list[tuple[int, int]]:
    """(step, MACs) of the model's conv / Gemm / MatMul ops."""
    g = model.graph
    return [(k, lookup(n.op).macs(n, g)) for k, n in enumerate(g.nodes) if n.op in HEAVY_OPS]


def random_inputs(model: CompiledModel, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    g = model.graph
    return [
        rng.uniform(-1, 1, g.tensor(t).shape).astype(g.tensor(t).dtype.numpy) for t in dict.fromkeys(g.inputs)
    ]


def measure(board: str, work: Path) -> dict[str, Row]:
    """Builds the firmware for `board` with the kernels `qemu_firmware.KERNELS` points at."""
    cases = {c.name: c for c in layer_cases()}
    paths = {n: c.save(work / "models") for n, c in cases.items()} | real_models()
    compiled = {n: compile_model(p) for n, p in paths.items()}
    tag = qemu_firmware.KERNELS.parent.name
    harness = QemuHarness(compiled, cache_dir() / "bench-firmware" / f"{board}-{tag}", load_board(board))
    harness.build()
    rows: dict[str, Row] = {}
    for name, model in compiled.items():
        case = cases.get(name)
        inputs = case.inputs if case else random_inputs(model, 0)
        result = harness.run(name, inputs, timeout=600)
        tol = (case.rtol, case.atol) if case else (1e-3, 5e-3)  # kws: int8 weights in LiteRT
        oracle = litert_outputs if paths[name].suffix == ".tflite" else onnxruntime_outputs
        for got, want in zip(result.outputs, oracle(paths[name], inputs), strict=True):
            np.testing.assert_allclose(got, want, rtol=tol[0], atol=tol[1], err_msg=f"{name} on {board}")
        steps = heavy_steps(model)
        if case:
            (step, macs), *_ = steps
            rows[name] = Row(name, macs, result.counts.op_instructions(step))
            continue
        for step, macs in steps:
            node = model.graph.nodes[step]
            rows[f"{name}/{node.name}"] = Row(f"{name}/{node.op}", macs, result.counts.op_instructions(step))
        total_macs = sum(lookup(n.op).macs(n, model.graph) for n in model.graph.nodes)
        rows[name] = Row(f"{name} (whole model)", total_macs, result.counts.critical_path)
    return rows


@contextmanager
def kernels_of(rev: str | None) -> Iterator[None]:
    """Points the firmware at the kernels crate of git revision `rev` (None: the working tree)."""
    if rev is None:
        yield
        return
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / f"baseline-{rev.replace('/', '_')}"
        root.mkdir()
        archive = subprocess.run(
            ["git", "archive", rev, "kernels"], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
        saved = qemu_firmware.KERNELS
        qemu_firmware.KERNELS = root / "kernels"
        try:
            yield
        finally:
            qemu_firmware.KERNELS = saved


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--boards", nargs="+", default=["qemu-an386", "qemu-riscv32"])
    parser.add_argument("--baseline", help="git revision whose kernels to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for board in args.boards:
            with kernels_of(args.baseline):
                before = measure(board, Path(d)) if args.baseline else None
            after = measure(board, Path(d))
            print(f"\n{board}: instructions per MAC")
            head = f"{'layer / model':44} {'MACs':>10} "
            print(head + (f"{args.baseline:>10} " if before else "") + f"{'now':>8}")
            for key, row in after.items():
                old = f"{before[key].per_mac:10.2f} " if before and key in before else ""
                print(f"{row.name[:44]:44} {row.macs:10,} {old}{row.per_mac:8.2f}")


if __name__ == "__main__":
    main()
