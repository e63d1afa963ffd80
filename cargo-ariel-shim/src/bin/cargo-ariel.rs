//! `cargo ariel`: scaffold, build, run, flash, check and report firmware crates that use
//! ariel-build. Install with `cargo install --path cargo-ariel-shim`; run `cargo ariel help`.
//!
//! Board facts (target, runner, probe-rs chip, models) come from the Python tool, which reads the
//! crate's `[package.metadata.ariel]` and the board definition; this program starts cargo,
//! probe-rs and the tool.
#![forbid(unsafe_code)]

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{exit, Command, ExitStatus, Stdio};

use cargo_ariel_shim::{find_python, find_tool};

const USAGE: &str = "\
cargo ariel: firmware crates with models compiled by ariel-build

usage:
  cargo ariel new NAME --board BOARD --model MODEL [--framework bare|embassy|rtic] [--cores N] [--dir DIR]
  cargo ariel build [CARGO ARGS]    cargo build for the board (cross toolchain set up)
  cargo ariel run [CARGO ARGS]      build and run: in QEMU, or on the board through probe-rs
  cargo ariel flash [--release] [--probe-rs-arg ARG]...   build, write to the board's flash, reset
  cargo ariel check [CARGO ARGS]    check the models' ops (ariel-build check), then cargo check
  cargo ariel report [--out DIR]    an HTML report per model (ariel-build report)

Environment: ARIEL_BUILD (the tool or a Python that has it), ARIEL_CARGO / ARIEL_RUSTC (the
cross toolchain; default Debian's /usr/bin/cargo and /usr/bin/rustc when present), PROBE_RS.
";

const PROBE_RS_INSTALL: &str = "install it with `cargo install probe-rs-tools` (or see \
https://probe.rs/docs/getting-started/installation/), or set PROBE_RS to its path";

fn main() {
    let mut args: Vec<OsString> = env::args_os().skip(1).collect();
    // Started by cargo as `cargo-ariel ariel ARGS`; by hand, `cargo-ariel ARGS`.
    if args.first().is_some_and(|a| a == "ariel") {
        args.remove(0);
    }
    let Some(command) = args.first().and_then(|a| a.to_str()).map(str::to_owned) else {
        eprint!("{USAGE}");
        exit(2)
    };
    let rest = args.split_off(1);
    let code = match command.as_str() {
        "new" => new(&rest),
        "build" => cargo_command("build", &rest),
        "run" => run(&rest),
        "flash" => flash(&rest),
        "check" => check(&rest),
        "report" => report(&rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            0
        }
        other => fail(&format!(
            "unknown command `{other}`; see `cargo ariel help`"
        )),
    };
    exit(code)
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(2)
}

fn var(name: &str) -> Option<OsString> {
    env::var_os(name).filter(|v| !v.is_empty())
}

fn status_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

fn spawn(command: &mut Command, what: &str) -> ExitStatus {
    command
        .status()
        .unwrap_or_else(|e| fail(&format!("could not start {what}: {e}")))
}

/// `python -m ariel_build.scaffold ARGS`.
fn scaffold(args: &[OsString]) -> Command {
    let mut command = Command::new(find_python(var));
    command.args(["-m", "ariel_build.scaffold"]).args(args);
    command
}

fn new(args: &[OsString]) -> i32 {
    let mut command = scaffold(&[OsString::from("new")]);
    command.args(args);
    status_code(spawn(
        &mut command,
        "ariel-build's Python (set ARIEL_BUILD)",
    ))
}

/// What the tool says about the crate in the current directory.
struct CrateInfo {
    board: String,
    runner: String,
    chip: String,
    models: Vec<PathBuf>,
}

fn crate_info() -> CrateInfo {
    let output = scaffold(&[OsString::from("info")])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&format!("could not start ariel-build's Python: {e}")));
    if !output.status.success() {
        exit(status_code(output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut info = CrateInfo {
        board: String::new(),
        runner: String::new(),
        chip: String::new(),
        models: Vec::new(),
    };
    for line in text.lines() {
        match line.split_once('=') {
            Some(("board", v)) => info.board = v.to_owned(),
            Some(("runner", v)) => info.runner = v.to_owned(),
            Some(("chip", v)) => info.chip = v.to_owned(),
            Some(("model", v)) => info.models.push(PathBuf::from(v)),
            _ => {}
        }
    }
    info
}

/// Cargo for cross builds: `ARIEL_CARGO`, else Debian's cargo with its rustc and `core` sources
/// (`-Zbuild-std` needs RUSTC_BOOTSTRAP), else the cargo that started us.
fn cargo() -> Command {
    let debian = (Path::new("/usr/bin/cargo"), Path::new("/usr/bin/rustc"));
    let program = var("ARIEL_CARGO")
        .map(PathBuf::from)
        .or_else(|| (debian.0.is_file() && debian.1.is_file()).then(|| debian.0.to_path_buf()))
        .or_else(|| var("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"));
    let mut command = Command::new(&program);
    if let Some(rustc) = var("ARIEL_RUSTC") {
        command.env("RUSTC", rustc);
    } else if program == debian.0 {
        command.env("RUSTC", debian.1);
    }
    command.env("RUSTC_BOOTSTRAP", "1");
    command
}

fn cargo_command(subcommand: &str, args: &[OsString]) -> i32 {
    let mut command = cargo();
    command.arg(subcommand).args(args);
    status_code(spawn(&mut command, "cargo"))
}

/// The path of the binary from `cargo build --message-format=json` output.
fn executable_of(json_lines: &str) -> Option<PathBuf> {
    let key = "\"executable\":\"";
    json_lines
        .lines()
        .rev()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .find_map(|line| {
            let start = line.find(key)? + key.len();
            let rest = &line[start..];
            let mut path = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Some(PathBuf::from(path)),
                    '\\' => path.push(chars.next()?),
                    c => path.push(c),
                }
            }
            None
        })
}

/// `PROBE_RS`, else probe-rs on `PATH`.
fn probe_rs() -> Option<PathBuf> {
    var("PROBE_RS").map(PathBuf::from).or_else(path_probe_rs)
}

fn path_probe_rs() -> Option<PathBuf> {
    let name = format!("probe-rs{}", env::consts::EXE_SUFFIX);
    env::split_paths(&var("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|p| p.is_file())
}

/// `cargo run`; for a probe-rs board, first makes sure probe-rs is on `PATH` (the runner of
/// `.cargo/config.toml` starts it from there).
fn run(args: &[OsString]) -> i32 {
    let info = crate_info();
    if info.runner == "probe-rs" && path_probe_rs().is_none() {
        fail(&format!(
            "board '{}' runs through probe-rs, which is not on PATH: {PROBE_RS_INSTALL}",
            info.board
        ));
    }
    cargo_command("run", args)
}

fn flash(args: &[OsString]) -> i32 {
    let mut cargo_args = Vec::new();
    let mut probe_args = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--probe-rs-arg" {
            match it.next() {
                Some(value) => probe_args.push(value.clone()),
                None => fail("--probe-rs-arg needs a value, e.g. --probe-rs-arg=--probe=VID:PID"),
            }
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--probe-rs-arg=")) {
            probe_args.push(OsString::from(value));
        } else {
            cargo_args.push(arg.clone());
        }
    }
    let Some(probe_rs) = probe_rs() else {
        fail(&format!(
            "`cargo ariel flash` needs probe-rs, which is not on PATH: {PROBE_RS_INSTALL}"
        ))
    };
    let info = crate_info();
    if info.runner != "probe-rs" || info.chip.is_empty() {
        fail(&format!(
            "board '{}' is not flashed with probe-rs (its runner is '{}'): use `cargo ariel run`",
            info.board, info.runner
        ));
    }
    let output = cargo()
        .args(["build", "--message-format=json-render-diagnostics"])
        .args(&cargo_args)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&format!("could not start cargo: {e}")));
    if !output.status.success() {
        return status_code(output.status);
    }
    let Some(elf) = executable_of(&String::from_utf8_lossy(&output.stdout)) else {
        fail("cargo built no binary to flash (is src/main.rs there?)")
    };
    for step in ["download", "reset"] {
        let mut command = Command::new(&probe_rs);
        command.args([step, "--chip", &info.chip]).args(&probe_args);
        if step == "download" {
            command.arg(&elf);
        }
        eprintln!(
            "     Running probe-rs {step} --chip {} ({})",
            info.chip,
            elf.display()
        );
        let status = spawn(&mut command, &format!("probe-rs ({})", probe_rs.display()));
        if !status.success() {
            return status_code(status);
        }
    }
    0
}

fn check(args: &[OsString]) -> i32 {
    let info = crate_info();
    let tool = find_tool(var);
    let mut failed = false;
    for model in &info.models {
        let mut command = tool.command();
        command.arg("check").arg(model);
        failed |= !spawn(&mut command, &format!("ariel-build {tool}")).success();
    }
    if failed {
        return 1;
    }
    cargo_command("check", args)
}

fn report(args: &[OsString]) -> i32 {
    let out = match args {
        [] => PathBuf::from("target/ariel-report"),
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => fail("usage: cargo ariel report [--out DIR]"),
    };
    let info = crate_info();
    let tool = find_tool(var);
    for model in &info.models {
        let stem = model
            .file_stem()
            .map(|s| s.to_os_string())
            .unwrap_or_default();
        let mut page = out.join(stem);
        page.set_extension("html");
        let mut command = tool.command();
        command
            .arg("report")
            .arg(model)
            .args(["--board", &info.board, "--out"])
            .arg(&page);
        let status = spawn(&mut command, &format!("ariel-build {tool}"));
        if !status.success() {
            return status_code(status);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_artifact_with_an_executable_is_the_binary() {
        let lines = concat!(
            r#"{"reason":"compiler-artifact","executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","executable":"/t/debug/fw \"a\""}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_of(lines),
            Some(PathBuf::from("/t/debug/fw \"a\""))
        );
        assert_eq!(executable_of(r#"{"reason":"build-finished"}"#), None);
    }
}
