"""`generate_for_crate`: one module per declared model, an index, rerun directives, and the stamp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ariel_build
from ariel_build.config.generate import INDEX_FILE, STAMP_FILE, generate_for_crate
from ariel_build.errors import ModelImportError
from fixtures.ops.conv import conv_case
from tests.config.test_crate_config import make_crate

TWO_MODELS = '[[model]]\nname = "Edge Net"\npath = "a.onnx"\n[[model]]\nname = "b"\npath = "b.onnx"\nmodule = "second"\n'


def generate(root: Path, out: Path) -> tuple[bool, list[str]]:
    lines: list[str] = []
    return generate_for_crate(root, out, lines.append), lines


def test_writes_one_module_per_model_and_the_index(tmp_path: Path) -> None:
    root = make_crate(tmp_path / "crate", models=TWO_MODELS, model_files=("a.onnx", "b.onnx"))
    out = tmp_path / "out"
    ran, lines = generate(root, out)
    assert ran
    crate = root.resolve()
    tool_sources = sorted(Path(ariel_build.__file__).resolve().parent.rglob("*.py"))
    board = Path(ariel_build.__file__).resolve().parents[1] / "board-support" / "boards" / "host.toml"
    watched = [
        crate / "Cargo.toml",
        board,
        *(crate / f for f in ("ariel.toml", "a.onnx", "b.onnx")),
        *tool_sources,
    ]
    assert lines == [f"cargo:rerun-if-changed={path}" for path in watched]
    index = (out / INDEX_FILE).read_text()
    for module in ("edge_net", "second"):
        assert f'include!(concat!(env!("OUT_DIR"), "/{module}.rs"));' in index
        assert f"pub mod {module} {{" in (out / f"{module}.rs").read_text()
        assert (out / f"{module}.weights.bin").stat().st_size > 0


def test_unchanged_inputs_are_not_regenerated(tmp_path: Path) -> None:
    root = make_crate(tmp_path / "crate")
    out = tmp_path / "out"
    ran, first_lines = generate(root, out)
    assert ran
    module = out / "tiny.rs"
    before = module.stat().st_mtime_ns
    ran, lines = generate(root, out)
    assert not ran and lines == first_lines  # the rerun directives are printed either way
    (root / "tiny.onnx").touch()  # a new mtime with the same content
    assert not generate(root, out)[0]
    assert module.stat().st_mtime_ns == before


def test_a_changed_model_config_or_lost_output_regenerates(tmp_path: Path) -> None:
    root = make_crate(tmp_path / "crate")
    out = tmp_path / "out"
    generate(root, out)
    weights = (out / "tiny.weights.bin").read_bytes()
    (root / "tiny.onnx").write_bytes(
        conv_case("tiny", (1, 1, 5, 5), (2, 1, 3, 3), seed=7).model.SerializeToString()
    )
    assert generate(root, out)[0]
    assert (out / "tiny.weights.bin").read_bytes() != weights
    (root / "Cargo.toml").write_text((root / "Cargo.toml").read_text() + "cores = 1\n")
    assert generate(root, out)[0]
    (out / "tiny.rs").unlink()
    assert generate(root, out)[0] and (out / "tiny.rs").is_file()


def test_a_failed_generation_leaves_no_stamp(tmp_path: Path) -> None:
    root = make_crate(tmp_path / "crate")
    out = tmp_path / "out"
    generate(root, out)
    (root / "tiny.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelImportError):
        generate(root, out)
    assert not (out / STAMP_FILE).exists()


def test_cli_reports_a_config_error_without_traceback(tmp_path: Path) -> None:
    root = make_crate(
        tmp_path / "crate", models='[[model]]\nnmae = "a"\npath = "tiny.onnx"\n', model_files=("tiny.onnx",)
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ariel_build",
            "generate",
            "--manifest-dir",
            str(root),
            "--out-dir",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "unknown key 'model[0].nmae'" in result.stderr and "did you mean 'name'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("cores", "per_core_functions"), [("", True), ("cores = 1\n", False)])
def test_cores_reach_the_generated_module(tmp_path: Path, cores: str, per_core_functions: bool) -> None:
    root = make_crate(tmp_path / "crate", 'board = "host"\n' + cores)
    generate(root, tmp_path / "out")
    assert ("pub fn run_worker(" in (tmp_path / "out" / "tiny.rs").read_text()) == per_core_functions
