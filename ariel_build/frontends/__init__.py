"""Model formats → IR. Nothing downstream knows which format a model came from."""

from __future__ import annotations

from collections import Counter
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
    if suffix == ".tflite":
        from ariel_build.frontends.tflite import load_tflite

        return load_tflite(path, input_shapes or {})
    raise _unknown_format(path)


def list_ops(path: str | Path) -> Counter[str]:
    """Op types of a model and how many nodes use each, without importing it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from ariel_build.frontends.onnx import list_ops as onnx_ops

        return onnx_ops(path)
    if suffix == ".tflite":
        from ariel_build.frontends.tflite import list_ops as tflite_ops

        return tflite_ops(path)
    raise _unknown_format(path)


def _unknown_format(path: Path) -> ModelImportError:
    return ModelImportError(
        f"unknown model format '{path.suffix}'", where=str(path), fix="use an .onnx or .tflite model"
    )
