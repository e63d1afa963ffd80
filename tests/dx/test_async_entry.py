"""The async entries (`run_async`, `run_main_async`) polled by hand on the host: they give the
executor one turn between ops (Pending once per gap, each after waking the task) and compute
what the blocking entries compute, bit for bit, which matches onnxruntime."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ariel_build.boards import load_board
from ariel_build.pipeline import compile_model, emit_module
from ariel_build.runners.host import KERNELS, cache_dir
from ariel_build.schedule.multicore import board_cores
from ariel_build.schedule.program import Run
from tests.dx.cargo_ariel import MNIST
from tests.oracle import onnxruntime_outputs

pytestmark = pytest.mark.cargo

# Polls a future to completion on this thread; prints how often it was Pending and woke itself.
MAIN = """\
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

include!("one_core.rs");
include!("two_cores.rs");

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll_to_end<F: std::future::Future<Output = ()>>(label: &str, future: F) {
    let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let mut pending = 0;
    while future.as_mut().poll(&mut cx) == Poll::Pending {
        pending += 1;
    }
    println!("{label}_yields {pending} {}", wakes.0.load(Ordering::SeqCst));
}

fn main() {
    let input = Box::new([0.5f32; one_core::INPUT3_LEN]);
    let mut blocking = [0f32; one_core::PLUS214_OUTPUT_0_LEN];
    let mut arena = Box::new(one_core::Arena::new());
    one_core::run(&mut arena, &input, &mut blocking);

    let mut one = [0f32; one_core::PLUS214_OUTPUT_0_LEN];
    poll_to_end("one", one_core::run_async(&mut arena, &input, &mut one));

    let shared = Box::new(two_cores::Shared::new());
    let mut two = [0f32; one_core::PLUS214_OUTPUT_0_LEN];
    std::thread::scope(|scope| {
        scope.spawn(|| two_cores::run_worker(1, &shared, &input));
        poll_to_end("two", two_cores::run_main_async(&shared, &input, &mut two));
    });
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    println!("one_identical {}", bits(&one) == bits(&blocking));
    println!("two_identical {}", bits(&two) == bits(&blocking));
    println!("output {:?}", blocking);
}
"""


def test_async_entries_yield_between_ops_and_match_the_blocking_ones(tmp_path: Path) -> None:
    host = load_board("host")
    models = {
        "one_core": compile_model(MNIST),
        "two_cores": compile_model(MNIST, cores=board_cores(host, 2)),
    }
    src = tmp_path / "src"
    src.mkdir()
    for name, model in models.items():
        gen = emit_module(model, name, weights_include=f'"{name}.weights.bin"')
        (src / f"{name}.rs").write_text(gen.source)
        (src / gen.weights_file).write_bytes(gen.weights)
    (src / "main.rs").write_text(MAIN)
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "ariel-async-entry"\nversion = "0.0.0"\nedition = "2021"\n\n'
        f'[dependencies]\nariel-kernels = {{ path = "{KERNELS}", features = ["std"] }}\n\n[workspace]\n'
    )
    target = cache_dir() / "host-target"
    result = subprocess.run(
        ["cargo", "run", "--quiet", "--release"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())

    ops = len(models["one_core"].graph.nodes)
    plan = models["two_cores"].multicore
    assert plan is not None
    core0_steps = sum(isinstance(step, Run) for step in plan.program.steps[0])
    assert lines["one_yields"] == f"{ops - 1} {ops - 1}"  # Pending polls, wakes
    assert lines["two_yields"] == f"{core0_steps - 1} {core0_steps - 1}"
    assert lines["one_identical"] == "true"
    assert lines["two_identical"] == "true"
    got = np.array([float(x) for x in lines["output"].strip("[]").split(",")], np.float32)
    want = onnxruntime_outputs(MNIST, [np.full((1, 1, 28, 28), 0.5, np.float32)])[0].reshape(-1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
