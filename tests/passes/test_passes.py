"""Each pass on a tiny graph: the resulting node list, and numerics against onnxruntime."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ariel_build.frontends import load_model
from ariel_build.passes import eliminate_dead, eliminate_identity, fuse_activation
from ariel_build.passes.fold_batchnorm import fold_batchnorm
from tests.ir_onnx import to_onnx
from tests.oracle import onnxruntime_outputs


def _save(
    tmp: Path,
    nodes: list[onnx.NodeProto],
    inits: list[np.ndarray | tuple[str, np.ndarray]],
    x_shape: list[int],
    opset: int = 13,
) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    initializers = [numpy_helper.from_array(a, n) for n, a in inits]  # type: ignore[misc]
    model = helper.make_model(
        helper.make_graph(nodes, "t", [x], [y], initializers), opset_imports=[helper.make_opsetid("", opset)]
    )
    path = tmp / "m.onnx"
    onnx.save(model, str(path))
    return path


def test_shape_arithmetic_folds_at_import(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["b1"]),
        helper.make_node("Concat", ["b1", "minus_one"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    inits = [
        ("zero", np.array(0, np.int64)),
        ("axes", np.array([0], np.int64)),
        ("minus_one", np.array([-1], np.int64)),
    ]
    g = load_model(_save(tmp_path, nodes, inits, [2, 3, 4]))
    assert [n.op for n in g.nodes] == ["Reshape"]
    assert g.tensor("y").shape == (2, 12)
    assert list(g.const("shape")) == [2, -1]


def test_identity_and_dropout_are_removed_keeping_output_names(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Identity", ["a"], ["b"]),
        helper.make_node("Dropout", ["b"], ["c"]),
        helper.make_node("Tanh", ["c"], ["d"]),
        helper.make_node("Identity", ["d"], ["y"]),
    ]
    g = eliminate_identity(load_model(_save(tmp_path, nodes, [], [4])))
    assert [(n.op, n.inputs, n.outputs) for n in g.nodes] == [("Relu", ["x"], ["a"]), ("Tanh", ["a"], ["y"])]
    assert g.outputs == ["y"]


def test_dead_nodes_are_dropped(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["unused"]), helper.make_node("Tanh", ["x"], ["y"])]
    g = eliminate_dead(load_model(_save(tmp_path, nodes, [], [4])))
    assert [n.op for n in g.nodes] == ["Tanh"]
    assert "unused" not in g.tensors


def test_activation_fuses_only_into_a_single_consumer_producer(tmp_path: Path) -> None:
    w = np.ones((3, 4), np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Clip", ["h", "lo", "hi"], ["r"]),
        helper.make_node("Gemm", ["r", "w2"], ["h2"], transB=1),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Add", ["h2", "r2"], ["y"]),  # h2 has two readers: Relu must stay
    ]
    inits = [
        ("w", w),
        ("lo", np.array(0, np.float32)),
        ("hi", np.array(6, np.float32)),
        ("w2", np.ones((3, 3), np.float32)),
    ]
    g = fuse_activation(load_model(_save(tmp_path, nodes, inits, [2, 4])))
    assert [n.op for n in g.nodes] == ["Gemm", "Gemm", "Relu", "Add"]
    act = g.nodes[0].activation
    assert act is not None and (act.kind, act.low, act.high) == ("clip", 0.0, 6.0)
    assert g.nodes[1].activation is None


def test_batchnorm_after_conv_folds_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    c = 3
    w = rng.normal(size=(c, 2, 3, 3)).astype(np.float32)
    b = rng.normal(size=c).astype(np.float32)
    scale, bias, mean = (rng.normal(size=c).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2, c).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["h"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["h", "scale", "bias", "mean", "var"], ["y"], epsilon=1e-3),
    ]
    inits = [("w", w), ("b", b), ("scale", scale), ("bias", bias), ("mean", mean), ("var", var)]
    g = fold_batchnorm(load_model(_save(tmp_path, nodes, inits, [1, 2, 5, 5])))
    assert [n.op for n in g.nodes] == ["Conv"]
    s = scale / np.sqrt(var + 1e-3)
    np.testing.assert_allclose(g.const(g.nodes[0].inputs[1]), w * s[:, None, None, None], rtol=1e-6)
    np.testing.assert_allclose(g.const(g.nodes[0].inputs[2]), (b - mean) * s + bias, rtol=1e-5, atol=1e-6)


def test_standalone_batchnorm_becomes_mul_add(tmp_path: Path) -> None:
    c = 4
    params = [
        ("scale", np.full(c, 2, np.float32)),
        ("bias", np.full(c, 1, np.float32)),
        ("mean", np.zeros(c, np.float32)),
        ("var", np.full(c, 1, np.float32)),
    ]
    nodes = [
        helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"], epsilon=0.0)
    ]
    g = fold_batchnorm(load_model(_save(tmp_path, nodes, params, [1, c, 3, 3])))
    assert [n.op for n in g.nodes] == ["Mul", "Add"]
    assert g.const(g.nodes[0].inputs[1]).shape == (c, 1, 1)


@pytest.mark.parametrize("c_shape", [(3,), (2, 3)])
def test_batchnorm_after_gemm_with_alpha_beta_matches_onnxruntime(tmp_path: Path, c_shape: tuple) -> None:
    """A 1-D C folds into the Gemm; a 2-D C cannot, and the Gemm must keep its alpha and beta."""
    rng = np.random.default_rng(1)
    inits = [
        ("w", rng.normal(size=(4, 3)).astype(np.float32)),
        ("c", rng.normal(size=c_shape).astype(np.float32)),
        ("scale", rng.uniform(0.5, 2, 3).astype(np.float32)),
        ("bias", rng.normal(size=3).astype(np.float32)),
        ("mean", rng.normal(size=3).astype(np.float32)),
        ("var", rng.uniform(0.5, 2, 3).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w", "c"], ["h"], alpha=2.0, beta=3.0),
        helper.make_node("BatchNormalization", ["h", "scale", "bias", "mean", "var"], ["y"]),
    ]
    path = _save(tmp_path, nodes, inits, [2, 4])
    g = fold_batchnorm(load_model(path))
    assert [n.op for n in g.nodes] == (["Gemm"] if len(c_shape) == 1 else ["Gemm", "Mul", "Add"])
    x = rng.normal(size=(2, 4)).astype(np.float32)
    (got,) = onnxruntime_outputs(to_onnx(g, tmp_path / "folded.onnx"), [x])
    (want,) = onnxruntime_outputs(path, [x])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
