"""Generated models on emulated boards (QEMU) vs onnxruntime; instruction counts; report.json."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import board_names, load_board
from ariel_build.cli import main as cli_main
from fixtures.model_case import ModelCase, single_node_case
from fixtures.ops import conv, pad, pool, unary
from tests.boards.qemu_batch import QemuBatch
from tests.conftest import SHARED_MODELS

pytestmark = pytest.mark.cargo

BOARDS = ["qemu-an386", "qemu-riscv32"]
SAMPLE = {
    "conv": [
        "conv2d_pad1",
        "depthwise_s2_tf_pads",
        "pointwise",
        "grouped2_stride",
        "conv_relu",
        "mobilenet_block",
    ],
    "pool": ["max_k3_s2_pad1", "avg_k3_s2_pad_excl", "global_avg"],
    "pad": ["constant_spatial_value", "reflect_spatial", "edge_3d"],
    "unary": ["unary_relu", "unary_sigmoid", "unary_tanh", "unary_exp", "unary_erf", "unary_gelu"],
}
FAMILIES = {"conv": conv, "pool": pool, "pad": pad, "unary": unary}


def scaling_cases() -> list[ModelCase]:
    rng = np.random.default_rng(5)
    return [
        single_node_case(f"relu_{k}k", "Relu", {"x": rng.uniform(-1, 1, (k, 1024)).astype(np.float32)})
        for k in (1, 4)
    ]


def sample_cases() -> list[ModelCase]:
    cases = scaling_cases()
    for family, names in SAMPLE.items():
        by_name = {c.name: c for c in FAMILIES[family].cases()}
        cases += [by_name[n] for n in names]
    return cases


def real_models() -> dict[str, Path]:
    """Every f32 ONNX model in shared/models (the MNIST family)."""
    return {path.stem: path for path in sorted((SHARED_MODELS / "onnx").glob("*.onnx"))}


def model_inputs(batch: QemuBatch, name: str) -> list[np.ndarray]:
    g = batch.compiled[name].graph
    rng = np.random.default_rng(7)
    return [rng.random(g.tensor(i).shape, dtype=np.float32) for i in dict.fromkeys(g.inputs)]


SAMPLE_NAMES = [n for names in SAMPLE.values() for n in names]
REAL_NAMES = sorted(real_models())


@pytest.fixture(scope="module", params=BOARDS)
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> QemuBatch:
    tmp = tmp_path_factory.mktemp("qemu")
    return QemuBatch(request.param, sample_cases(), real_models(), tmp)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_op_sample_matches_onnxruntime(batch: QemuBatch, name: str) -> None:
    batch.check(name)


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_model_matches_onnxruntime(batch: QemuBatch, name: str) -> None:
    batch.check(name, model_inputs(batch, name))


def test_instruction_counts_cover_the_ops(batch: QemuBatch) -> None:
    name = "mnist" if "mnist" in batch.compiled else next(iter(batch.cases))
    result = batch.run(
        name, model_inputs(batch, name) if name not in batch.cases else batch.cases[name].inputs
    )
    counts = result.counts
    graph = batch.compiled[name].graph
    per_op = [counts.op_instructions(k) for k in range(len(graph.nodes))]
    assert counts.totals[0] > 0
    # Every op that computes runs instructions; a view (a block of its own) only the marker call.
    for node, n in zip(graph.nodes, per_op, strict=True):
        assert n > 0, node.name
    assert sum(per_op) <= counts.totals[0]
    assert counts.critical_path == sum(per_op)  # one core does all the work
    # The other harts/cores idle: a few dozen start-up instructions, then sleep.
    assert all(total < 1000 for total in counts.totals[1:])


def test_op_counts_follow_the_work(batch: QemuBatch) -> None:
    """Relu over 4x the elements costs 4x the instructions (+-15 %), run after run the same."""
    small = batch.run("relu_1k", batch.cases["relu_1k"].inputs).counts.op_instructions(0)
    big = batch.run("relu_4k", batch.cases["relu_4k"].inputs).counts.op_instructions(0)
    assert batch.run("relu_1k", batch.cases["relu_1k"].inputs).counts.op_instructions(0) == small
    assert 3.4 < big / small < 4.6, (small, big)


def test_firmware_reports_a_bad_request_and_exits_nonzero(batch: QemuBatch, tmp_path: Path) -> None:
    def run_firmware() -> subprocess.CompletedProcess[str]:
        command = batch.harness.qemu_command(tmp_path / "counts.txt")
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    (tmp_path / "model").write_bytes(b"no_such_model")
    r = run_firmware()
    assert r.returncode == 2 and "unknown model" in r.stderr
    (tmp_path / "model").write_bytes(batch.harness.names["relu_1k"].encode())  # but no input file
    r = run_firmware()
    assert r.returncode == 3 and "host I/O failed" in r.stderr


def test_cli_run_on_qemu_writes_outputs_and_report(tmp_path: Path) -> None:
    model = SHARED_MODELS / "onnx" / "mnist_simplified.onnx"
    x = np.random.default_rng(3).random((1, 1, 14, 14), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    assert (
        cli_main(
            [
                "run",
                str(model),
                "--board",
                "qemu-an386",
                "--input",
                str(tmp_path / "x.npy"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    from tests.oracle import onnxruntime_outputs

    want = onnxruntime_outputs(model, [x])[0]
    got = np.load(next(p for p in out.glob("*.npy")))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert report["board"] == "qemu-an386"
    assert report["per_core_instructions"][0] >= report["critical_path_instructions"] > 0
    assert sum(row["instructions"] for row in report["ops"]) == report["critical_path_instructions"]
    memory = report["memory"]
    assert report["weight_bytes"] <= memory["weights_bytes"] < report["weight_bytes"] + 16  # 16-byte aligned
    assert (
        memory["code_bytes"] > 0 and report["flash_bytes"] >= memory["code_bytes"] + memory["weights_bytes"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
def test_every_case_of_the_sampled_families(board: str, tmp_path: Path) -> None:
    """All cases of the conv, pool, pad and unary fixtures in one firmware per board."""
    cases = [c for module in FAMILIES.values() for c in module.cases()]
    sweep = QemuBatch(board, cases, {}, tmp_path)
    failures = []
    for case in cases:
        try:
            sweep.check(case.name)
        except AssertionError as e:
            failures.append(f"{case.name}: {str(e).splitlines()[0]}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("board", [n for n in board_names() if load_board(n).emulated and n not in BOARDS])
def test_other_emulated_boards_run_mnist(board: str, tmp_path: Path) -> None:
    """Each remaining QEMU board definition boots, runs a real model right and counts it."""
    models = real_models()
    one = QemuBatch(board, [], {"mnist": models["mnist"]}, tmp_path)
    result = one.check("mnist", model_inputs(one, "mnist"))
    assert result.counts.critical_path > 0
