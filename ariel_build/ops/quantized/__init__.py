"""int8 operators with TensorFlow Lite Micro's semantics (bit-exact with its reference kernels).

Each module holds one op (or a small family); kernels in `kernels/src/ops/int8/`. Quantization
parameters are the tensors' `Tensor.quant`; the ops turn them into TFLM's fixed-point
multipliers at build time (`fixed_point.py`). See docs/int8.md.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "fixed_point":
        importlib.import_module(f"{__name__}.{_module.name}")
