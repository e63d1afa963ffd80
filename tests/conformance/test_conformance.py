"""ONNX node-test conformance: no case in expected_pass.txt may regress.

By default a deterministic sample of the passing cases runs (one cargo build); set
ARIEL_CONFORMANCE=full to run every listed case. `python -m tests.conformance.run --write-docs`
refreshes the list.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest

from ariel_build.errors import RunError
from ariel_build.pipeline import compile_model
from ariel_build.runners import host
from tests.conformance import runner
from tests.conformance.cases import NODE_TESTS, Case, compare, discover
from tests.conformance.report import read_expected
from tests.conformance.runner import Status, build_harnesses, run_cases

EXPECTED = read_expected()
FULL = os.environ.get("ARIEL_CONFORMANCE") == "full"
SAMPLE_SIZE = 120


def sample(names: list[str], size: int = SAMPLE_SIZE) -> list[str]:
    """The `size` names with the smallest CRC32: stable as the list grows, spread over all ops."""
    return sorted(sorted(names, key=lambda n: zlib.crc32(n.encode()))[:size])


def _regressions(names: list[str], workdir: Path) -> list[str]:
    results = run_cases([Case(n, NODE_TESTS / n) for n in names], workdir, jobs=os.cpu_count() or 2)
    return [f"{r.name}: {r.status.value}: {r.reason}" for r in results if r.status is not Status.PASS]


def test_expected_pass_lists_existing_tests_once_in_order() -> None:
    assert EXPECTED == sorted(set(EXPECTED))
    assert not [n for n in EXPECTED if not (NODE_TESTS / n / "model.onnx").exists()]


@pytest.mark.cargo
@pytest.mark.skipif(FULL, reason="the full run covers the sample")
def test_sample_of_passing_cases_still_passes(tmp_path: Path) -> None:
    regressions = _regressions(sample(EXPECTED), tmp_path)
    assert not regressions, "\n".join(regressions)


@pytest.mark.slow
@pytest.mark.cargo
@pytest.mark.skipif(not FULL, reason="set ARIEL_CONFORMANCE=full to run every passing case")
def test_every_passing_case_still_passes(tmp_path: Path) -> None:
    regressions = _regressions(EXPECTED, tmp_path)
    assert not regressions, "\n".join(regressions)


@pytest.mark.cargo
@pytest.mark.parametrize("named_by_rustc", [True, False], ids=["rustc-names-module", "bisection"])
def test_a_case_that_does_not_compile_does_not_sink_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_by_rustc: bool
) -> None:
    cases = discover("^test_(relu|sigmoid|identity|globalmaxpool)$")
    models = {c.module: compile_model(c.model_path) for c in cases}
    broken = cases[1].module
    emit = host.emit_module

    def emit_with_a_type_error(model: object, mod: str, **kw: object) -> object:
        gen = emit(model, mod, **kw)  # type: ignore[arg-type]
        if mod == broken:
            gen.source += "\nconst BROKEN: u8 = 1.5;\n"
        return gen

    monkeypatch.setattr(host, "emit_module", emit_with_a_type_error)
    if not named_by_rustc:
        monkeypatch.setattr(runner, "_culprits", lambda stderr, modules: {})
    harnesses, failed = build_harnesses(models, tmp_path, lambda: None)
    assert list(failed) == [broken]
    assert failed[broken].startswith("rustc: ") and "mismatched types" in failed[broken]
    assert sorted(m for h in harnesses for m in h.models) == sorted(set(models) - {broken})


def test_comparison_follows_onnx_backend_rules() -> None:
    f = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    assert compare([f.copy()], [f], 1e-3, 1e-7).ok  # NaN matches NaN, infinities match themselves
    near = f + np.array([1e-4, 0, 0, 0], np.float32)
    assert compare([near], [f], 1e-3, 1e-7).ok
    off = compare([f + np.array([2e-3, 0, 0, 0], np.float32)], [f], 1e-3, 1e-7)
    assert not off.ok and off.max_abs_error == pytest.approx(2e-3, rel=1e-3)
    finite_for_inf = f.copy()
    finite_for_inf[2] = 3e38
    assert not compare([finite_for_inf], [f], 1e-3, 1e-7).ok
    assert not compare(
        [np.array([0.0, 1.0], np.float32)], [np.array([np.nan, 1.0], np.float32)], 1e-3, 1e-7
    ).ok
    ints = np.array([5, -3], np.int64)
    assert not compare([ints + np.array([0, 1])], [ints], 1e-3, 1e-7).ok  # integers exactly
    assert not compare([ints.astype(np.int32)], [ints], 1e-3, 1e-7).ok  # dtype must match
    assert not compare([ints.reshape(2, 1)], [ints], 1e-3, 1e-7).ok  # shape must match


def test_cases_outside_the_product_are_unsupported_with_a_reason() -> None:
    reasons = {
        c.name: runner.prepare(c) for c in discover("^test_(identity_sequence|cast_FLOAT16_to_FLOAT)$")
    }
    assert {n: (r.status, r.reason) for n, r in reasons.items()} == {  # type: ignore[union-attr]
        "test_identity_sequence": (Status.UNSUPPORTED, "input of sequence type"),
        "test_cast_FLOAT16_to_FLOAT": (
            Status.UNSUPPORTED,
            "element type FLOAT16 of 'input' is not supported",
        ),
    }


class _PanickingHarness:
    def run(self, mod: str, inputs: list[np.ndarray], timeout: float | None = None) -> list[np.ndarray]:
        raise RunError(
            f"inference of '{mod}' failed on host:\nthread '<unnamed>' panicked at src/{mod}.rs:9:5:\n"
            "index out of bounds: the len is 3 but the index is 3\nnote: run with `RUST_BACKTRACE=1`\n"
        )


def test_a_panicking_inference_is_a_crash_with_the_panic_message() -> None:
    (case,) = discover("^test_relu$")
    prepared = runner.prepare(case)
    assert isinstance(prepared, runner.Prepared)
    result = runner.run_case(_PanickingHarness(), prepared)  # type: ignore[arg-type]
    assert result.status is Status.CRASH
    assert result.reason == (
        "thread '<unnamed>' panicked at src/test_relu.rs:9:5: index out of bounds: the len is 3 but the index is 3"
    )
