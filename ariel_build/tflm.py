"""TFLite Micro's arena for the same model, for report.json: the bytes the `tflite-micro`
interpreter (an optional package, installed with the dev extras) allocates for a .tflite model,
from its own allocation printout. Cached by the model's bytes: one interpreter start per model."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

_SCRIPT = (
    "import sys; from tflite_micro.python.tflite_micro import runtime; "
    "runtime.Interpreter.from_file(sys.argv[1]).print_allocations()"
)


def tflm_arena(model: Path) -> dict[str, int] | None:
    """`{"total_bytes", "head_bytes"}` (head: the non-persistent part, the activations) of the
    interpreter's arena, or None for a model that is not .tflite, without the package, or that
    the interpreter does not load."""
    from ariel_build.runners.host import cache_dir

    if model.suffix.lower() != ".tflite" or not model.is_file():
        return None
    cached = cache_dir() / "tflm-arena" / f"{hashlib.sha256(model.read_bytes()).hexdigest()[:20]}.json"
    if cached.is_file():
        return json.loads(cached.read_text()) or None
    try:
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(model)], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = out.stdout + out.stderr
    total = re.search(r"Arena allocation total (\d+) bytes", text)
    head = re.search(r"Arena allocation head (\d+) bytes", text)
    found = {"total_bytes": int(total.group(1)), "head_bytes": int(head.group(1))} if total and head else {}
    if found or "No module named" not in text:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(found))
    return found or None
