"""Data-movement kernels on an emulated Cortex-M4 (qemu-an386): a sample of every family's
fixtures, in one firmware, against onnxruntime."""

import shutil
from pathlib import Path

import pytest

from fixtures.model_case import ModelCase
from fixtures.ops import concat, depth_space, expand, gather, reshape, resize, split, tile, transpose
from fixtures.ops import slice as slice_ops
from tests.boards.qemu_batch import QemuBatch

SAMPLE = {
    transpose: ("nchw_to_nhwc", "rank5", "int8_matrix", "bool"),
    concat: ("channels", "constant_middle", "int64"),
    split: ("attr_opset11", "uint8_last_axis"),
    slice_ops: ("reverse_step_two_clamped", "steps_and_negative_axis", "int64"),
    gather: ("runtime_embedding", "runtime_int32_axis_neg2", "const_arbitrary_2d", "elements_runtime_axis1"),
    expand: ("int64_middle",),
    tile: ("rank4",),
    depth_space: ("d2s_crd_block3", "s2d_block2"),
    resize: (
        "ppocr_nearest_x2_opset11",
        "ppocr_bilinear_x4",
        "linear_align_corners_sizes_odd",
        "nearest_int8",
    ),
    reshape: ("dropout_mask_output",),
}


def _cases() -> list[ModelCase]:
    chosen = []
    for family, names in SAMPLE.items():
        by_name = {c.name: c for c in family.cases()}
        chosen += [by_name[n] for n in names]
    return chosen


CASES = _cases()
pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> QemuBatch:
    return QemuBatch("qemu-an386", CASES, {}, Path(tmp_path_factory.mktemp("data_movement_qemu")))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_matches_onnxruntime_on_cortex_m4(batch: QemuBatch, name: str) -> None:
    batch.check(name)
