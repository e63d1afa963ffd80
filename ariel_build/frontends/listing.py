"""Op types of a model file, without importing it (for `check`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx

from ariel_build.errors import ModelImportError


def list_ops(path: Path) -> Counter[str]:
    if not path.is_file():
        raise ModelImportError("model file not found", where=str(path), fix="check the path")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises several unrelated types for corrupt files
        raise ModelImportError(f"not a valid ONNX file ({type(e).__name__})", where=str(path), fix="re-export the model") from e
    return Counter(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}" for n in model.graph.node)
