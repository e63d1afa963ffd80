"""One error type per layer; the CLI renders them once, without a traceback."""

from __future__ import annotations


class ArielError(Exception):
    """A user-facing error: what went wrong, where, and how to fix it."""

    layer = "error"

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def render(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  fix: {self.fix}" if self.fix else head


class ConfigError(ArielError):
    layer = "config error"


class ModelImportError(ArielError):
    layer = "import error"


class UnsupportedOpsError(ModelImportError):
    """Raised with every unsupported op of a model at once."""

    def __init__(self, model: str, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems  # (op_type, node name, reason)
        lines = [f"  {op} (node '{name}'): {why}" for op, name, why in problems]
        super().__init__(
            f"{len(problems)} unsupported op(s):\n" + "\n".join(lines),
            where=model,
            fix="replace these ops in the exported model, or run `ariel-build check` to list support",
        )


class PlanError(ArielError):
    layer = "planning error"


class BuildError(ArielError):
    layer = "build error"


class RunError(ArielError):
    layer = "run error"
