"""Reads `[package.metadata.ariel]` of a firmware crate's Cargo.toml and its model declarations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from ariel_build.boards import Board, load_board
from ariel_build.codegen.names import snake_case
from ariel_build.config.tables import TomlTable
from ariel_build.errors import ConfigError
from ariel_build.ops.quantized.packing import INT8_WEIGHTS

METADATA = "package.metadata.ariel"
DEFAULT_MODELS_FILE = "ariel.toml"


@dataclass(frozen=True)
class ModelDecl:
    name: str
    path: Path  # absolute
    module: str  # Rust module name of the generated code
    input_shapes: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class CrateConfig:
    manifest: Path  # the crate's Cargo.toml
    models_file: Path  # its ariel.toml
    board: Board
    cores: int
    models: tuple[ModelDecl, ...]
    int8_weights: str = "auto"  # int8 matrix-product weight layout (ops/quantized/packing.py)


def read_toml(path: Path, fix: str) -> Any:
    try:
        return tomlkit.parse(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError("file not found", where=str(path), fix=fix) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the file: {e}", where=str(path), fix=fix) from e
    except tomlkit.exceptions.ParseError as e:
        raise ConfigError(f"not valid TOML: {e}", where=str(path), fix="correct the TOML syntax") from e


def _metadata(manifest: Path) -> TomlTable:
    data = read_toml(manifest, fix="run the build from a crate directory with a Cargo.toml")
    table: Any = data
    for key in METADATA.split("."):
        table = table.get(key) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(
            f"no [{METADATA}] table", where=str(manifest), fix=f'add [{METADATA}] with board = "host"'
        )
    return TomlTable(table, str(manifest), f"{METADATA}.")


def _board(meta: TomlTable) -> Board:
    name = meta.get("board", str, what='"host"')
    try:
        return load_board(name)
    except ConfigError as e:
        raise ConfigError(f"key '{meta.context}board': {e.message}", where=meta.where, fix=e.fix) from e


def _input_shapes(entry: TomlTable) -> dict[str, tuple[int, ...]]:
    raw = entry.get("input_shapes", dict, {}, "{ input = [1, 3, 32, 32] }")
    shapes = {}
    for name, dims in raw.items():
        dims = dims.unwrap() if hasattr(dims, "unwrap") else dims
        if not (
            isinstance(dims, list)
            and dims
            and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims)
        ):
            raise ConfigError(
                f"key '{entry.context}input_shapes.{name}' must be a list of positive integers",
                where=entry.where,
                fix=f"write input_shapes = {{ {name} = [1, 3, 32, 32] }}",
            )
        shapes[str(name)] = tuple(dims)
    return shapes


def _model(raw: Any, index: int, crate_dir: Path, where: str) -> ModelDecl:
    context = f"model[{index}]."
    if not isinstance(raw, dict):
        raise ConfigError(
            f"'model[{index}]' is not a table",
            where=where,
            fix='declare each model as [[model]] with name = "..." and path = "..."',
        )
    entry = TomlTable(raw, where, context)
    name = entry.get("name", str, what='"mnist"')
    if not name.strip():
        raise ConfigError(f"key '{context}name' is empty", where=where, fix='write name = "mnist"')
    rel = entry.get("path", str, what='"models/mnist.onnx"')
    path = (crate_dir / rel).resolve()
    if not path.is_file():
        raise ConfigError(
            f"key '{context}path': model file not found: {path}",
            where=where,
            fix=f"correct the path; it is relative to the crate directory {crate_dir}",
        )
    shapes = _input_shapes(entry)
    module = entry.get("module", str, snake_case(name), '"mnist"')
    if snake_case(module) != module:
        raise ConfigError(
            f"key '{context}module': '{module}' is not a usable Rust module name",
            where=where,
            fix=f'write module = "{snake_case(module)}"',
        )
    entry.finish()
    return ModelDecl(name, path, module, shapes)


def _models(models_file: Path, crate_dir: Path) -> tuple[ModelDecl, ...]:
    where = str(models_file)
    data = read_toml(
        models_file,
        fix=f'create it with a [[model]] table (name = "...", path = "...") or set models = "..." in [{METADATA}]',
    )
    top = TomlTable(data, where, "")
    raw = top.get("model", list, [], '[{ name = "mnist", path = "mnist.onnx" }] or [[model]] tables')
    top.finish()
    if not raw:
        raise ConfigError(
            "declares no models", where=where, fix='add a [[model]] table with name = "..." and path = "..."'
        )
    models = [_model(r, k, crate_dir, where) for k, r in enumerate(raw)]
    for key in ("name", "module"):
        first: dict[str, int] = {}
        for k, m in enumerate(models):
            value = getattr(m, key)
            if value in first:
                raise ConfigError(
                    f"model[{first[value]}] and model[{k}] have the same {key} '{value}'",
                    where=where,
                    fix=f"give each model its own {key}",
                )
            first[value] = k
    return tuple(models)


def load_crate_config(manifest_dir: Path) -> CrateConfig:
    crate_dir = manifest_dir.resolve()
    manifest = crate_dir / "Cargo.toml"
    meta = _metadata(manifest)
    board = _board(meta)
    cores = meta.get("cores", int, len(board.cores), "1")
    if not 1 <= cores <= len(board.cores):
        raise ConfigError(
            f"key '{meta.context}cores' is {cores}; board '{board.name}' has {len(board.cores)} core(s)",
            where=meta.where,
            fix=f"write cores = 1 … {len(board.cores)}, or leave it out to use all cores",
        )
    models_file = crate_dir / meta.get("models", str, DEFAULT_MODELS_FILE, '"ariel.toml"')
    int8_weights = meta.get("int8_weights", str, "auto", '"auto"')
    if int8_weights not in INT8_WEIGHTS:
        raise ConfigError(
            f"key '{meta.context}int8_weights' is {int8_weights!r}",
            where=meta.where,
            fix=f"write one of {', '.join(repr(v) for v in INT8_WEIGHTS)} (default 'auto')",
        )
    meta.finish()
    models = _models(models_file, crate_dir)
    return CrateConfig(manifest, models_file, board, cores, models, int8_weights)
