"""Model formats → IR. Nothing downstream knows which format a model came from."""

from __future__ import annotations

from pathlib import Path

from ariel_build.errors import ModelImportError
from ariel_build.ir import Graph


def load_model(path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None) -> Graph:
    """Import a model file by its extension, with static shapes resolved and unsupported ops reported."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from ariel_build.frontends.onnx import load_onnx

        return load_onnx(path, input_shapes or {})
    raise ModelImportError(
        f"unknown model format '{suffix}'", where=str(path), fix="use an .onnx model"
    )
