"""Rust identifiers from model names."""

from __future__ import annotations

import re

# fmt: off
RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
    "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield", "try", "gen",
    # locals of the generated `run` (arena, weights, kernels crate, scratch)
    "arena", "a", "w", "k", "scratch",
    # locals of the multicore functions (shared state, this core's handle)
    "shared", "cx", "core",
}
# fmt: on
# per-op operand locals of the generated code (`x0`, `y1`, ...)
_OPERAND_LOCAL = re.compile(r"[xy][0-9]+")


def snake_case(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    if not s:
        s = "t"
    if s[0].isdigit():
        s = "t_" + s
    return s + "_" if s in RUST_KEYWORDS or _OPERAND_LOCAL.fullmatch(s) else s


class NameTable:
    """Unique, stable snake_case identifiers for a set of names."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, name: str) -> str:
        if name not in self._by_name:
            base = snake_case(name)
            ident, k = base, 1
            while ident in self._used:
                k += 1
                ident = f"{base}_{k}"
            self._used.add(ident)
            self._by_name[name] = ident
        return self._by_name[name]
