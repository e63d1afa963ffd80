from pathlib import Path

import numpy as np
import pytest

from ariel_build.ir.graph import Activation
from ariel_build.ops.base import lookup
from ariel_build.pipeline import compile_model
from fixtures.model_case import ModelCase
from fixtures.ops.conv import cases, conv_case, fused_cases
from tests.oracle import CaseBatch, onnxruntime_outputs

# Clip is another op family's; until it is registered, the ReLU6 pairs cannot import.
CLIP_MISSING = lookup("Clip") is None
CASES = [c for c in cases() if not (CLIP_MISSING and "relu6" in c.name)]
FUSED = [
    pytest.param(
        case, act, marks=pytest.mark.skipif(CLIP_MISSING and "relu6" in case.name, reason="no Clip op yet")
    )
    for case, act in zip(
        fused_cases(),
        [Activation("relu"), Activation("clip", 0.0, 6.0), Activation("clip", 0.0, 6.0)],
        strict=True,
    )
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("conv"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


@pytest.mark.parametrize(("case", "activation"), FUSED)
def test_activation_is_fused_into_conv(batch: CaseBatch, case: ModelCase, activation: Activation) -> None:
    graph = batch.compiled[case.name].graph
    assert [(n.op, n.activation) for n in graph.nodes] == [("Conv", activation)]


def test_fused_reference_applies_the_activation(batch: CaseBatch) -> None:
    graph = batch.compiled["conv_relu"].graph
    (node,) = graph.nodes
    inputs = [batch.cases["conv_relu"].inputs[0], *(graph.const(i) for i in node.inputs[1:])]
    (got,) = lookup("Conv").reference(node, graph, inputs)
    (want,) = onnxruntime_outputs(batch.paths["conv_relu"], batch.cases["conv_relu"].inputs)
    assert got.min() == 0.0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_mobilenet_block_folds_and_fuses(batch: CaseBatch) -> None:
    graph = batch.compiled["mobilenet_block"].graph
    assert [(n.op, n.activation and n.activation.kind) for n in graph.nodes] == [
        ("Pad", None),
        ("Conv", "relu"),
        ("Conv", "relu"),
        ("Conv", "relu"),
        ("GlobalAveragePool", None),
    ]


def _macs(case: ModelCase, tmp_path: Path) -> int:
    graph = compile_model(case.save(tmp_path)).graph
    return sum(lookup(n.op).macs(n, graph) for n in graph.nodes)


@pytest.mark.parametrize(
    ("case", "macs"),
    [
        # Out 5x4 ((9+2-3)//2+1, (7+2-3)//2+1): N*C_out*H*W*C_in*kH*kW = 2*5*20*3*9.
        (conv_case("m1", (2, 3, 9, 7), (5, 3, 3, 3), strides=[2, 2], pads=[1, 0, 1, 2]), 2 * 5 * 20 * 3 * 9),
        # Depthwise, same-size output: 2*8*(10*9)*1*9.
        (conv_case("m2", (2, 8, 10, 9), (8, 1, 3, 3), group=8, pads=[1, 1, 1, 1]), 2 * 8 * 90 * 9),
        # Grouped, C_in/groups = 3, out 7x4 ((7+2-3)//1+1, (8+2-3)//2+1): 2*4*28*3*9.
        (
            conv_case("m3", (2, 6, 7, 8), (4, 3, 3, 3), group=2, strides=[1, 2], pads=[1, 1, 1, 1]),
            2 * 4 * 28 * 3 * 9,
        ),
        # ConvTranspose: every input element times its filter, N*C_in*H*W*(C_out/groups)*kH*kW.
        (conv_case("m5", (2, 4, 5, 6), (4, 3, 3, 3), op="ConvTranspose", strides=[2, 2]), 2 * 4 * 30 * 3 * 9),
        (conv_case("m6", (1, 4, 5, 6), (4, 1, 3, 3), op="ConvTranspose", group=2), 4 * 30 * 1 * 9),
        # 1-D, out (17+3-5)//2+1 = 8: 2*5*8*4*3.
        (conv_case("m4", (2, 4, 17), (5, 4, 3), strides=[2], pads=[1, 2], dilations=[2]), 2 * 5 * 8 * 4 * 3),
    ],
)
def test_macs_by_hand(case: ModelCase, macs: int, tmp_path: Path) -> None:
    assert _macs(case, tmp_path) == macs
