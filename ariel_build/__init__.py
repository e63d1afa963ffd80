"""ariel-build: ONNX/TFLite models → parallel, heap-free Rust inference modules."""

__version__ = "0.1.0"
