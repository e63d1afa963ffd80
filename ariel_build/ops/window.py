"""Sliding-window geometry of Conv and the pools from ONNX's attributes (1-D and 2-D windows).

Mirrors `kernels/src/ops/window.rs`: tap k of output o reads input o*stride + k*dilation - pad_begin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ariel_build.ir import Node
from ariel_build.ops.base import OpUnsupported, Shape

AUTO_PADS = ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER")


@dataclass(frozen=True)
class Axis:
    size: int
    kernel: int
    stride: int = 1
    dilation: int = 1
    pad_begin: int = 0
    pad_end: int = 0
    out: int = 1

    @property
    def span(self) -> int:
        """Input positions one window covers, gaps included."""
        return (self.kernel - 1) * self.dilation + 1

    def has_empty_window(self) -> bool:
        """Some output position has no tap inside the input (it would read only padding)."""
        return any(
            not any(
                0 <= o * self.stride - self.pad_begin + k * self.dilation < self.size
                for k in range(self.kernel)
            )
            for o in range(self.out)
        )


@dataclass(frozen=True)
class Window:
    axes: tuple[Axis, ...]  # one per spatial axis (1 or 2)

    @property
    def out_spatial(self) -> Shape:
        return tuple(a.out for a in self.axes)

    @property
    def taps(self) -> int:
        return math.prod(a.kernel for a in self.axes)

    def rust(self) -> str:
        """A `k::ops::window::Window` literal; a 1-D window is a 2-D one with H = 1."""
        rows, cols = self.axes if len(self.axes) == 2 else (Axis(1, 1), self.axes[0])
        fields = {
            "in_h": rows.size,
            "in_w": cols.size,
            "out_h": rows.out,
            "out_w": cols.out,
            "k_h": rows.kernel,
            "k_w": cols.kernel,
            "stride_h": rows.stride,
            "stride_w": cols.stride,
            "dil_h": rows.dilation,
            "dil_w": cols.dilation,
            "pad_top": rows.pad_begin,
            "pad_left": cols.pad_begin,
            "pad_bottom": rows.pad_end,
            "pad_right": cols.pad_end,
        }
        return "k::ops::window::Window { " + ", ".join(f"{k}: {v}" for k, v in fields.items()) + " }"


def ints_attr(node: Node, name: str, count: int, default: int) -> list[int]:
    """A per-axis int list attribute, `count` long."""
    values = [int(v) for v in node.attrs.get(name, [default] * count)]
    if len(values) != count:
        raise OpUnsupported(f"attribute '{name}' has {len(values)} values; expected {count}")
    return values


def _axis(
    size: int, kernel: int, stride: int, dilation: int, pads: tuple[int, int], auto_pad: str, ceil: bool
) -> Axis:
    span = (kernel - 1) * dilation + 1
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out = -(-size // stride)
        total = max(0, (out - 1) * stride + span - size)
        begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        pads = (begin, total - begin)
    elif auto_pad == "VALID":
        pads = (0, 0)
    extent = size + pads[0] + pads[1] - span
    if extent < 0:
        raise OpUnsupported(f"window of {span} is larger than the padded input ({size + pads[0] + pads[1]})")
    out = (-(-extent // stride) if ceil else extent // stride) + 1
    if ceil and (out - 1) * stride >= size + pads[0]:
        out -= 1  # onnxruntime drops a last window that would start in the end padding
    return Axis(size, kernel, stride, dilation, pads[0], pads[1], out)


def window(node: Node, spatial: Shape, kernel: Shape, *, ceil_mode: bool = False) -> Window:
    """Geometry from the node's strides, dilations, pads and auto_pad over `spatial` input dims."""
    rank = len(spatial)
    if rank not in (1, 2):
        raise OpUnsupported(f"{rank}-D windows are not supported (1-D and 2-D are)")
    if len(kernel) != rank:
        raise OpUnsupported(f"kernel shape {list(kernel)} does not match {rank} spatial dimensions")
    if min(spatial) < 1:
        raise OpUnsupported(f"empty input (spatial shape {list(spatial)})")
    strides = ints_attr(node, "strides", rank, 1)
    dilations = ints_attr(node, "dilations", rank, 1)
    pads = ints_attr(node, "pads", 2 * rank, 0)
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if auto_pad not in AUTO_PADS:
        raise OpUnsupported(f"auto_pad '{auto_pad}' is not one of {', '.join(AUTO_PADS)}")
    if min(kernel) < 1 or min(strides) < 1 or min(dilations) < 1 or min(pads) < 0:
        raise OpUnsupported(
            f"kernel {list(kernel)}, strides {strides}, dilations {dilations} must be positive, pads {pads} >= 0"
        )
    return Window(
        tuple(
            _axis(
                spatial[i],
                kernel[i],
                strides[i],
                dilations[i],
                (pads[i], pads[i + rank]),
                auto_pad,
                ceil_mode,
            )
            for i in range(rank)
        )
    )
