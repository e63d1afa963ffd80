"""Tensor names never collide with the locals of the generated `run` function."""

import pytest

from ariel_build.codegen.names import NameTable, snake_case


@pytest.mark.parametrize("name", ["a", "w", "k", "arena", "scratch", "x0", "y12", "fn"])
def test_reserved_names_get_a_suffix(name: str) -> None:
    assert snake_case(name) == name + "_"


def test_similar_names_stay_as_they_are_and_unique() -> None:
    table = NameTable()
    assert [table(n) for n in ["x", "x0a", "A", "a_"]] == ["x", "x0a", "a_", "a__2"]
