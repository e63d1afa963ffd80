import subprocess
import sys

import pytest

from ariel_build.demo import digit_image
from tests.conftest import ROOT


def test_drawn_digit_is_a_28x28_image_in_0_to_1() -> None:
    image = digit_image(7)
    assert image.shape == (1, 1, 28, 28)
    assert image.min() == 0.0 and image.max() == 1.0
    assert 30 < int((image > 0.5).sum()) < 300  # strokes, not a blank or filled square


@pytest.mark.cargo
def test_demo_on_the_host_predicts_the_drawn_seven_on_one_and_two_cores() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ariel_build", "demo", "--board", "host", "--cores", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "prediction: 7" in r.stdout  # the example crate, built by cargo
    rows = [line for line in r.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1:3] for row in rows] == [
        [" " * 5 + "1 ", " " * 10 + "7 "],
        [" " * 5 + "2 ", " " * 10 + "7 "],
    ]
    assert "×" in rows[1]


@pytest.mark.cargo
def test_default_demo_runs_the_embassy_example_and_mnist_on_both_cores_of_qemu_an524() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ariel_build", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert r.returncode == 0, r.stderr
    assert "embassy-qemu-an524" in r.stdout and "prediction:" in r.stdout  # printed by the firmware in QEMU
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in r.stdout.splitlines()
        if line.startswith("│")
    ]
    assert [row[:2] for row in rows] == [["1", "7"], ["2", "7"]]
    one, two = (int(row[3].replace(",", "")) for row in rows)  # critical-path instructions
    assert 1.8 < one / two <= 2.0
