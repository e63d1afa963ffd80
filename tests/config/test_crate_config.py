"""`[package.metadata.ariel]` and ariel.toml: defaults, and one clear ConfigError per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from ariel_build.config.crate import load_crate_config
from ariel_build.errors import ConfigError
from fixtures.ops.conv import conv_case

PACKAGE = '[package]\nname = "fw"\nversion = "0.1.0"\nedition = "2021"\n'


def make_crate(
    root: Path,
    metadata: str = 'board = "host"\n',
    models: str | None = None,
    model_files: tuple[str, ...] = (),
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text(PACKAGE + "\n[package.metadata.ariel]\n" + metadata)
    if models is None:
        models = '[[model]]\nname = "tiny"\npath = "tiny.onnx"\n'
        model_files = model_files or ("tiny.onnx",)
    (root / "ariel.toml").write_text(models)
    for rel in model_files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(conv_case("tiny", (1, 1, 5, 5), (2, 1, 3, 3)).model.SerializeToString())
    return root


def config_error(root: Path) -> ConfigError:
    with pytest.raises(ConfigError) as e:
        load_crate_config(root)
    return e.value


def test_defaults(tmp_path: Path) -> None:
    config = load_crate_config(
        make_crate(
            tmp_path, models='[[model]]\nname = "Tiny Net"\npath = "m/t.onnx"\n', model_files=("m/t.onnx",)
        )
    )
    assert config.board.name == "host"
    assert config.cores == len(config.board.cores) == 2
    assert config.models_file == tmp_path.resolve() / "ariel.toml"
    (model,) = config.models
    assert (model.name, model.module, model.path, model.input_shapes) == (
        "Tiny Net",
        "tiny_net",
        tmp_path.resolve() / "m" / "t.onnx",
        {},
    )


def test_explicit_keys(tmp_path: Path) -> None:
    root = make_crate(tmp_path, 'board = "host"\ncores = 1\nmodels = "nets.toml"\n')
    (root / "nets.toml").write_text(
        'model = [{ name = "a", path = "tiny.onnx", module = "first", input_shapes = { x = [1, 1, 5, 5] } },\n'
        '         { name = "b", path = "tiny.onnx" }]\n'
    )
    config = load_crate_config(root)
    assert config.cores == 1
    assert config.models_file == root.resolve() / "nets.toml"
    assert [(m.name, m.module, m.input_shapes) for m in config.models] == [
        ("a", "first", {"x": (1, 1, 5, 5)}),
        ("b", "b", {}),
    ]


def assert_names(error: ConfigError, *parts: str) -> None:
    text = error.render()
    for part in parts:
        assert part in text, (part, text)
    assert error.where and error.fix


def test_no_metadata_table(tmp_path: Path) -> None:
    make_crate(tmp_path)
    (tmp_path / "Cargo.toml").write_text(PACKAGE)
    assert_names(config_error(tmp_path), "Cargo.toml", "no [package.metadata.ariel]", 'board = "host"')


def test_unknown_metadata_key_suggests_the_closest(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, 'board = "host"\ncore = 1\n'))
    assert_names(e, "Cargo.toml", "unknown key 'package.metadata.ariel.core'", "did you mean 'cores'")


def test_missing_board(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, "cores = 1\n"))
    assert_names(e, "Cargo.toml", "missing key 'package.metadata.ariel.board'", 'board = "host"')


def test_unknown_board(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, 'board = "hots"\n'))
    assert_names(
        e, "Cargo.toml", "package.metadata.ariel.board", "unknown board 'hots'", "did you mean 'host'"
    )


@pytest.mark.parametrize("value", ['"2"', "true", "1.0"])
def test_cores_of_the_wrong_type(tmp_path: Path, value: str) -> None:
    e = config_error(make_crate(tmp_path, f'board = "host"\ncores = {value}\n'))
    assert_names(e, "Cargo.toml", "'package.metadata.ariel.cores' has the wrong type")


@pytest.mark.parametrize("cores", [0, 3])
def test_more_cores_than_the_board_has(tmp_path: Path, cores: int) -> None:
    e = config_error(make_crate(tmp_path, f'board = "host"\ncores = {cores}\n'))
    assert_names(e, "Cargo.toml", f"cores' is {cores}", "board 'host' has 2 core(s)", "cores = 1 … 2")


def test_models_file_missing(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, 'board = "host"\nmodels = "nets.toml"\n'))
    assert_names(e, "nets.toml", "file not found", "[[model]]")


def test_models_file_not_toml(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, models="[[model]\nname = 1\n"))
    assert_names(e, "ariel.toml", "not valid TOML", "line 1")


def test_no_models_declared(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, models="# nothing yet\n"))
    assert_names(e, "ariel.toml", "declares no models", "[[model]]")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, models='[[models]]\nname = "a"\npath = "a.onnx"\n'))
    assert_names(e, "ariel.toml", "unknown key 'models'", "did you mean 'model'")


def test_unknown_model_key(tmp_path: Path) -> None:
    e = config_error(
        make_crate(
            tmp_path,
            models='[[model]]\nname = "a"\npath = "tiny.onnx"\ninput_shape = {}\n',
            model_files=("tiny.onnx",),
        )
    )
    assert_names(e, "ariel.toml", "unknown key 'model[0].input_shape'", "did you mean 'input_shapes'")


@pytest.mark.parametrize("key", ["name", "path"])
def test_missing_model_key(tmp_path: Path, key: str) -> None:
    entry = {"name": 'name = "a"\n', "path": 'path = "tiny.onnx"\n'}
    del entry[key]
    e = config_error(
        make_crate(tmp_path, models="[[model]]\n" + "".join(entry.values()), model_files=("tiny.onnx",))
    )
    assert_names(e, "ariel.toml", f"missing key 'model[0].{key}'", f"add {key} = ")


def test_model_key_of_the_wrong_type(tmp_path: Path) -> None:
    e = config_error(
        make_crate(tmp_path, models='[[model]]\nname = 7\npath = "tiny.onnx"\n', model_files=("tiny.onnx",))
    )
    assert_names(e, "ariel.toml", "'model[0].name' has the wrong type (int)", 'name = "mnist"')


def test_model_entry_that_is_not_a_table(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, models='model = ["tiny.onnx"]\n'))
    assert_names(e, "ariel.toml", "'model[0]' is not a table", "[[model]]")


def test_model_file_missing(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, models='[[model]]\nname = "a"\npath = "models/absent.onnx"\n'))
    assert_names(e, "ariel.toml", "model[0].path", "absent.onnx", "relative to the crate directory")


@pytest.mark.parametrize("shape", ['["1", 3]', "[1, 0]", "[]", "4"])
def test_bad_input_shape(tmp_path: Path, shape: str) -> None:
    models = f'[[model]]\nname = "a"\npath = "tiny.onnx"\ninput_shapes = {{ x = {shape} }}\n'
    e = config_error(make_crate(tmp_path, models=models, model_files=("tiny.onnx",)))
    assert_names(e, "ariel.toml", "'model[0].input_shapes.x' must be a list of positive integers")


def test_module_that_is_no_rust_identifier(tmp_path: Path) -> None:
    models = '[[model]]\nname = "a"\npath = "tiny.onnx"\nmodule = "My-Net"\n'
    e = config_error(make_crate(tmp_path, models=models, model_files=("tiny.onnx",)))
    assert_names(e, "ariel.toml", "model[0].module", 'module = "my_net"')


@pytest.mark.parametrize(("second", "key"), [('name = "net"', "name"), ('name = "Net"', "module")])
def test_duplicate_names(tmp_path: Path, second: str, key: str) -> None:
    models = f'[[model]]\nname = "net"\npath = "tiny.onnx"\n[[model]]\n{second}\npath = "tiny.onnx"\n'
    e = config_error(make_crate(tmp_path, models=models, model_files=("tiny.onnx",)))
    assert_names(e, "ariel.toml", f"model[0] and model[1] have the same {key} 'net'", f"its own {key}")


@pytest.mark.parametrize("layout", ["auto", "wide", "compact"])
def test_int8_weight_layout(tmp_path: Path, layout: str) -> None:
    config = load_crate_config(make_crate(tmp_path, f'board = "host"\nint8_weights = "{layout}"\n'))
    assert config.int8_weights == layout
    assert load_crate_config(make_crate(tmp_path / "default")).int8_weights == "auto"


def test_unknown_int8_weight_layout(tmp_path: Path) -> None:
    e = config_error(make_crate(tmp_path, 'board = "host"\nint8_weights = "16bit"\n'))
    assert_names(e, "Cargo.toml", "int8_weights' is '16bit'", "'auto', 'wide', 'compact'")
