"""A transformer encoder block end to end: GELU fused, attention and MLP vs onnxruntime."""

from __future__ import annotations

import pytest

from fixtures.models.transformer import cases
from tests.oracle import CaseBatch

CASES = cases()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> CaseBatch:
    return CaseBatch(CASES, tmp_path_factory.mktemp("transformer"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime(batch: CaseBatch, name: str) -> None:
    batch.check(name)


def test_gelu_is_fused_and_softmax_and_gelu_run_in_place(batch: CaseBatch) -> None:
    compiled = batch.compiled["transformer_block"]
    ops = [n.op for n in compiled.graph.nodes]
    assert ops.count("Gelu") == 1 and "Erf" not in ops
    assert ops.count("LayerNormalization") == 2 and ops.count("Softmax") == 1 and ops.count("MatMul") == 8
    assert {"probs", "gelu"} <= compiled.plan.inplace_nodes
