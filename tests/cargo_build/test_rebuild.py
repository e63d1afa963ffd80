"""The build script reruns when the crate's model inputs change, and only then; bad config fails the build
with the tool's one message."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from fixtures.ops.conv import conv_case
from tests.cargo_build.cargo import REPO, cargo

pytestmark = pytest.mark.cargo

TARGET = "cargo-build-tests"
LIB = """#![no_std]
include!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));

pub fn infer(arena: &mut tiny::Arena, x: &[f32; tiny::X_LEN], y: &mut [f32; tiny::Y0__LEN]) {
    tiny::run(arena, x, y)
}
"""


def write_model(path: Path, seed: int) -> None:
    path.write_bytes(conv_case("tiny", (1, 1, 5, 5), (2, 1, 3, 3), seed=seed).model.SerializeToString())


def package_name(root: Path) -> str:
    """Unique per crate directory, so crates of parallel tests never share outputs."""
    return "fw-" + hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]


def make_crate(root: Path, models_toml: str) -> Path:
    (root / "src").mkdir(parents=True)
    package = package_name(root)
    (root / "Cargo.toml").write_text(
        f'[package]\nname = "{package}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[package.metadata.ariel]\nboard = "host"\n\n'
        f'[dependencies]\nariel-kernels = {{ path = "{REPO / "kernels"}" }}\n\n'
        f'[build-dependencies]\ncargo-ariel-shim = {{ path = "{REPO / "cargo-ariel-shim"}" }}\n\n[workspace]\n'
    )
    (root / "build.rs").write_text("fn main() {\n    cargo_ariel_shim::generate();\n}\n")
    (root / "src" / "lib.rs").write_text(LIB)
    (root / "ariel.toml").write_text(models_toml)
    write_model(root / "tiny.onnx", seed=0)
    return root


def build(crate: Path) -> tuple[bool, Path]:
    """Builds; returns whether cargo ran the build script, and its OUT_DIR."""
    result = cargo(crate, "-v", "--message-format=json", target=TARGET)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    (out,) = [
        m["out_dir"]
        for m in messages
        if m["reason"] == "build-script-executed" and f"{package_name(crate)}@" in m["package_id"]
    ]
    script = rf"Running `[^`]*/build/{package_name(crate)}-[0-9a-f]+/build-script-build`"
    return re.search(script, result.stderr) is not None, Path(out)


def test_rebuilds_only_when_inputs_change(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "rebuild", '[[model]]\nname = "tiny"\npath = "tiny.onnx"\n')
    ran, out = build(crate)
    assert ran
    module, weights = out / "tiny.rs", out / "tiny.weights.bin"
    generated = (module.stat().st_mtime_ns, weights.read_bytes())

    assert not build(crate)[0], "nothing changed, yet the build script ran"

    (crate / "tiny.onnx").touch()
    assert build(crate)[0], "touching the model did not rerun the build script"
    assert (module.stat().st_mtime_ns, weights.read_bytes()) == generated, "same content, yet regenerated"

    write_model(crate / "tiny.onnx", seed=1)
    assert build(crate)[0]
    assert weights.read_bytes() != generated[1], "new weights were not generated"

    (crate / "ariel.toml").write_text('[[model]]\nname = "tiny"\npath = "tiny.onnx"\n# a comment\n')
    assert build(crate)[0], "editing ariel.toml did not rerun the build script"


def test_bad_key_fails_the_build_with_one_message(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "badkey", '[[model]]\nnmae = "tiny"\npath = "tiny.onnx"\n')
    result = cargo(crate, target=TARGET)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert f"{crate / 'ariel.toml'}: unknown key 'model[0].nmae'" in text
    assert "did you mean 'name'" in text
    assert text.count("unknown key") == 1
    assert "Traceback" not in text and "panicked" not in text
