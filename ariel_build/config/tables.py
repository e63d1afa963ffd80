"""Validated reads of TOML tables: wrong types, missing and unknown keys become one ConfigError."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ariel_build.errors import ConfigError


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class TomlTable:
    """Reads keys from one TOML table, remembering which were used to reject unknown ones."""

    def __init__(self, data: Any, where: str, context: str) -> None:
        self.data = data
        self.where = where
        self.context = context
        self.used: set[str] = set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., what: str = "") -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                typo = difflib.get_close_matches(key, [str(k) for k in self.data if k not in self.used], n=1)
                if typo:  # `nmae = ...`: the misspelt key is the better message
                    raise ConfigError(
                        f"unknown key '{self.context}{typo[0]}'",
                        where=self.where,
                        fix=f"did you mean '{key}'? rename it",
                    )
                raise ConfigError(
                    f"missing key '{self.context}{key}'", where=self.where, fix=f"add {key} = {what}"
                )
            return default
        value = self.data[key]
        value = value.unwrap() if hasattr(value, "unwrap") else value
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise ConfigError(
                f"key '{self.context}{key}' has the wrong type ({type(value).__name__})",
                where=self.where,
                fix=f"write {key} = {what}",
            )
        return value

    def finish(self, allowed_extra: tuple[str, ...] = ()) -> None:
        for key in self.data:
            if key not in self.used and key not in allowed_extra:
                hint = did_you_mean(key, sorted(self.used))
                raise ConfigError(
                    f"unknown key '{self.context}{key}'", where=self.where, fix=f"{hint}remove or rename it"
                )
