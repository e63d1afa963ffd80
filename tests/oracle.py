"""Compile many generated models into one host harness, run them, compare with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from ariel_build.pipeline import CompiledModel, compile_model
from ariel_build.runners.host import HostHarness
from fixtures.model_case import ModelCase


def onnxruntime_outputs(model_path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs, strict=True)))


class CaseBatch:
    """Builds one harness for a list of cases (one cargo build), then runs each on demand."""

    def __init__(self, cases: list[ModelCase], workdir: Path) -> None:
        self.cases = {c.name: c for c in cases}
        self.paths = {c.name: c.save(workdir / "models") for c in cases}
        self.compiled: dict[str, CompiledModel] = {n: compile_model(p) for n, p in self.paths.items()}
        self.harness = HostHarness(self.compiled, workdir / "harness")
        self.harness.build()

    def check(self, name: str) -> None:
        case = self.cases[name]
        got = self.harness.run(name, case.inputs)
        want = onnxruntime_outputs(self.paths[name], case.inputs)
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g.shape == w.shape, f"{name} output {k}: shape {g.shape} != onnxruntime {w.shape}"
            if np.issubdtype(w.dtype, np.floating):
                np.testing.assert_allclose(g, w, rtol=case.rtol, atol=case.atol, err_msg=f"{name} output {k}")
            else:
                np.testing.assert_array_equal(g, w, err_msg=f"{name} output {k}")


def tflite_micro_outputs(model_path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of the TFLite Micro reference interpreter (the `tflite-micro` wheel)."""
    return tflite_micro_steps(model_path, [inputs])[0]


def tflite_micro_steps(model_path: Path, steps: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Outputs of consecutive invocations of one TFLite Micro interpreter (state carries over)."""
    from tflite_micro.python.tflite_micro import runtime

    from ariel_build.frontends.tflite import read_tflite

    n_outputs = read_tflite(model_path).Subgraphs(0).OutputsLength()
    interpreter = runtime.Interpreter.from_file(str(model_path))
    outputs = []
    for inputs in steps:
        for k, x in enumerate(inputs):
            interpreter.set_input(x, k)
        interpreter.invoke()
        outputs.append([interpreter.get_output(k).copy() for k in range(n_outputs)])
    return outputs


def litert_outputs(model_path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of the TFLite (LiteRT) interpreter: the float oracle, it runs weight-only quantized
    models that TFLite Micro cannot."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_path))
    interpreter.allocate_tensors()
    for detail, x in zip(interpreter.get_input_details(), inputs, strict=True):
        interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
