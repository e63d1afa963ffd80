"""Ops that create tensors from shapes and scalars; evaluated at build time only (their inputs
must be constants, or shapes, which are)."""

from __future__ import annotations

from ariel_build.ops.base import Op, register


@register
class Range(Op):
    name = "Range"
    build_time_only = True


@register
class ConstantOfShape(Op):
    name = "ConstantOfShape"
    build_time_only = True
