"""Operators: one module per op (or small family). Importing this package registers them all."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "onnx_reference"):
        importlib.import_module(f"{__name__}.{_module.name}")
