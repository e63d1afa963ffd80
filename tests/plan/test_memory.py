"""Memory planner: offsets and arena sizes derived by hand."""

import numpy as np

from ariel_build.ir import DType, Graph, Node, Tensor
from ariel_build.plan.memory import Buffer, _place, plan_memory


def test_greedy_places_largest_first_and_reuses_dead_space() -> None:
    a = Buffer("a", 100, 0, 1)
    b = Buffer("b", 200, 1, 2)
    c = Buffer("c", 100, 2, 3)
    d = Buffer("d", 50, 3, 4)
    arena = _place([a, b, c, d])
    # b (largest) at 0; a and c overlap b in time → after it at align16(200) = 208;
    # d overlaps only c (at 208) → fits at 0.
    assert (b.offset, a.offset, c.offset, d.offset) == (0, 208, 208, 0)
    assert arena == 208 + 112


def _chain(ops: list[str], n: int = 10) -> Graph:
    g = Graph("chain", "test")
    g.add_tensor(Tensor("x", (n,), DType.F32))
    g.inputs = ["x"]
    prev = "x"
    for k, op in enumerate(ops):
        out = f"t{k}"
        g.add_tensor(Tensor(out, (n,), DType.F32))
        g.nodes.append(Node(op, f"n{k}", [prev], [out]))
        prev = out
    g.outputs = [prev]
    return g


def test_elementwise_chain_runs_in_place() -> None:
    plan = plan_memory(_chain(["Relu", "Tanh", "Sigmoid", "Relu"]))
    # t0 is the only arena buffer: t1 and t2 reuse it in place; t3 is the caller's output array.
    assert plan.arena_bytes == 48  # 10 f32 = 40 B, aligned to 16
    assert plan.inplace_nodes == {"n1", "n2"}
    assert plan.locations["t3"].kind == "output"


def test_views_share_their_input_buffer_and_io_takes_no_arena() -> None:
    g = _chain(["Relu", "Identity", "Tanh"])
    plan = plan_memory(g)
    assert plan.locations["t1"] == plan.locations["t0"]
    assert plan.locations["x"].kind == "input"
    assert plan.arena_bytes == 48


def test_weights_blob_is_aligned_and_little_endian() -> None:
    g = _chain(["Relu"])
    w1 = np.arange(3, dtype=np.float32)
    w2 = np.array([7], dtype=np.int64)
    g.add_constant("w1", w1)
    g.add_constant("w2", w2)
    g.nodes.append(Node("Add", "use", ["t0", "w1", "w2"], ["t1"]))
    g.add_tensor(Tensor("t1", (10,), DType.F32))
    g.outputs = ["t1"]
    plan = plan_memory(g)
    assert plan.locations["w1"].offset == 0
    assert plan.locations["w2"].offset == 16
    assert plan.weights[:12] == w1.tobytes()
    assert plan.weights[16:24] == w2.astype("<i8").tobytes()


def test_constant_graph_output_is_read_from_weights() -> None:
    g = _chain(["Relu"])
    g.add_constant("c", np.array([1.5, -2.0], dtype=np.float32))
    g.outputs = ["t0", "c"]
    plan = plan_memory(g)
    assert plan.locations["c"].kind == "const"
    assert np.frombuffer(plan.weights, dtype="<f4").tolist() == [1.5, -2.0]
