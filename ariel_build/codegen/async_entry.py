"""Async entries: a blocking entry's body with a turn for the executor between ops."""

from __future__ import annotations

# Line the entries' bodies carry after each op; the blocking entries drop it.
YIELD = "k::yield_now().await;"


def blocking_body(body: list[str]) -> list[str]:
    return [line for line in body if line != YIELD]


def async_body(body: list[str]) -> list[str]:
    """`body` keeping the yields between ops (none after the last op)."""
    last = max((k for k, line in enumerate(body) if line == YIELD), default=-1)
    return [line for k, line in enumerate(body) if line != YIELD or k != last]


def entries(name: str, args: str, body: list[str], doc: list[str], async_doc: list[str]) -> list[str]:
    """`pub fn name(args)` and `pub async fn name_async(args)` over the same `body`."""
    return [
        *(f"/// {line}" for line in doc),
        f"pub fn {name}({args}) {{",
        *blocking_body(body),
        "}\n",
        *(f"/// {line}" for line in async_doc),
        f"pub async fn {name}_async({args}) {{",
        *async_body(body),
        "}\n",
    ]
