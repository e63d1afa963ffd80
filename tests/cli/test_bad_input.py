"""Bad input gets one clear error naming the file or op and the fix — never a traceback."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.conftest import SHARED_MODELS


def ariel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ariel_build", *args], capture_output=True, text=True)


def _model_with_unsupported_ops(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("StringNormalizer", ["a"], ["b"], name="strings"),
        helper.make_node("Relu", ["b"], ["c"]),
        helper.make_node("MyCustomOp", ["c"], ["d"], domain="com.example", name="custom"),
        helper.make_node("Det", ["d"], ["y"], name="det"),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "bad", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    onnx.save(model, str(path))
    return path


def test_corrupt_model_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff")
    for cmd in ("check", "inspect"):
        r = ariel(cmd, str(bad))
        assert r.returncode == 2, r.stderr
        assert "broken.onnx" in r.stderr and "not a valid ONNX file" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout


def test_missing_model_file(tmp_path: Path) -> None:
    r = ariel("inspect", str(tmp_path / "nope.onnx"))
    assert r.returncode == 2
    assert "nope.onnx" in r.stderr and "not found" in r.stderr


def test_check_names_all_unsupported_ops_at_once(tmp_path: Path) -> None:
    model = _model_with_unsupported_ops(tmp_path / "bad.onnx")
    r = ariel("check", str(model))
    assert r.returncode == 1
    for op in ("StringNormalizer", "com.example.MyCustomOp", "Det"):
        assert op in r.stdout, r.stdout
    assert "3 unsupported op type(s)" in r.stdout
    assert "Traceback" not in r.stderr + r.stdout


def test_compile_reports_every_unsupported_op(tmp_path: Path) -> None:
    model = _model_with_unsupported_ops(tmp_path / "bad.onnx")
    r = ariel("inspect", str(model))
    assert r.returncode == 2
    assert "3 unsupported op(s)" in r.stderr
    for name in ("strings", "custom", "det"):
        assert f"'{name}'" in r.stderr


def test_check_passes_for_a_supported_model(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "ok", [x], [y]),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    onnx.save(model, str(tmp_path / "ok.onnx"))
    r = ariel("check", str(tmp_path / "ok.onnx"))
    assert r.returncode == 0, r.stdout
    assert "Relu" in r.stdout and "all ops supported" in r.stdout


def test_run_rejects_wrong_number_of_inputs(tmp_path: Path) -> None:
    model = SHARED_MODELS / "onnx" / "mnist_simplified.onnx"
    r = ariel("run", str(model), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "1 input(s)" in r.stderr and "--input" in r.stderr


def test_run_rejects_input_of_wrong_size(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "ok", [x], [y]),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    onnx.save(model, str(tmp_path / "ok.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((5,), np.float32))
    r = ariel(
        "run", str(tmp_path / "ok.onnx"), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o")
    )
    assert r.returncode == 2
    assert "x.npy" in r.stderr and "(2, 3)" in r.stderr
