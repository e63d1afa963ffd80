//! Call [`generate`] from a firmware crate's `build.rs`: it runs the Python tool `ariel-build`,
//! which reads `[package.metadata.ariel]` and `ariel.toml` and writes the model modules into
//! `OUT_DIR`; the crate then does `include!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));`.
//!
//! The tool prints the `cargo:rerun-if-changed` lines for its inputs and, on failure, one message
//! naming the file, key or op and the fix; this crate passes both through unchanged.
#![forbid(unsafe_code)]

use std::env;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// File name of the tool's executable.
const TOOL_NAME: &str = "ariel-build";
/// Environment variable naming the `ariel-build` executable, or a Python that has the package.
pub const OVERRIDE_VAR: &str = "ARIEL_BUILD";

const FALLBACK: &str = "no ariel-build in ARIEL_BUILD, a virtualenv or PATH";

/// How the Python tool is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// Program to run.
    pub program: PathBuf,
    /// Whether `program` is a Python interpreter (run as `program -m ariel_build`).
    pub is_python: bool,
    /// Where it was found, for messages.
    pub found_by: &'static str,
}

impl Tool {
    /// A command that starts the tool; add its arguments.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        if self.is_python {
            command.args(["-m", "ariel_build"]);
        }
        command
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let module = if self.is_python {
            " -m ariel_build"
        } else {
            ""
        };
        write!(
            f,
            "`{}{module}` ({})",
            self.program.display(),
            self.found_by
        )
    }
}

fn tool_in(dir: &Path) -> PathBuf {
    dir.join(format!("{TOOL_NAME}{}", env::consts::EXE_SUFFIX))
}

fn executable(dir: &Path) -> Option<PathBuf> {
    let path = tool_in(dir);
    path.is_file().then_some(path)
}

fn looks_like_python(program: &Path) -> bool {
    program
        .file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|name| name.starts_with("python"))
}

/// Finds the tool: `ARIEL_BUILD`, then the active virtualenv, then `PATH`, then `python3 -m ariel_build`.
/// `var` reads an environment variable (injected for tests).
pub fn find_tool(var: impl Fn(&str) -> Option<OsString>) -> Tool {
    if let Some(program) = var(OVERRIDE_VAR).filter(|v| !v.is_empty()) {
        let program = PathBuf::from(program);
        return Tool {
            is_python: looks_like_python(&program),
            program,
            found_by: "from ARIEL_BUILD",
        };
    }
    let venv_bin = if cfg!(windows) { "Scripts" } else { "bin" };
    if let Some(program) =
        var("VIRTUAL_ENV").and_then(|v| executable(&Path::new(&v).join(venv_bin)))
    {
        return Tool {
            program,
            is_python: false,
            found_by: "from the active virtualenv",
        };
    }
    if let Some(program) =
        var("PATH").and_then(|p| env::split_paths(&p).find_map(|dir| executable(&dir)))
    {
        return Tool {
            program,
            is_python: false,
            found_by: "from PATH",
        };
    }
    Tool {
        program: PathBuf::from(if cfg!(windows) { "python" } else { "python3" }),
        is_python: true,
        found_by: FALLBACK,
    }
}

/// The interpreter named by a script's `#!` line when it is a Python (`#!/usr/bin/env python3`
/// or `#!/path/python3.11`).
fn shebang_python(script: &Path) -> Option<PathBuf> {
    let text = std::fs::read(script).ok()?;
    let line = text.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let mut program = PathBuf::from(words.next()?);
    if program.file_name() == Some(OsStr::new("env")) {
        program = PathBuf::from(words.next()?);
    }
    looks_like_python(&program).then_some(program)
}

/// A Python that has the `ariel_build` package, found like [`find_tool`]: `ARIEL_BUILD` when it
/// names a Python, the active virtualenv's `python`, the interpreter of the `ariel-build` script,
/// then `python3`.
pub fn find_python(var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let tool = find_tool(&var);
    if tool.is_python {
        return tool.program;
    }
    if tool.found_by == "from the active virtualenv" {
        if let Some(dir) = tool.program.parent() {
            let python = dir.join(format!("python{}", env::consts::EXE_SUFFIX));
            if python.is_file() {
                return python;
            }
        }
    }
    shebang_python(&tool.program)
        .unwrap_or_else(|| PathBuf::from(if cfg!(windows) { "python" } else { "python3" }))
}

/// Generates the crate's model modules into `OUT_DIR`. Call it from `build.rs`; on failure it
/// prints the tool's message and a one-line summary, and ends the build script with status 1.
pub fn generate() {
    println!("cargo:rerun-if-env-changed={OVERRIDE_VAR}");
    let (Some(manifest_dir), Some(out_dir)) =
        (env::var_os("CARGO_MANIFEST_DIR"), env::var_os("OUT_DIR"))
    else {
        fail("cargo_ariel_shim::generate() must be called from a build script (build.rs)");
    };
    let tool = find_tool(|name| env::var_os(name));
    let status = tool
        .command()
        .arg("generate")
        .arg("--manifest-dir")
        .arg(&manifest_dir)
        .arg("--out-dir")
        .arg(&out_dir)
        .stdin(Stdio::null())
        .status();
    const INSTALL: &str = "install it (`python3 -m pip install -e <ariel-build checkout>`) or set \
                           ARIEL_BUILD to the ariel-build executable or a Python that has it";
    match status {
        Ok(status) if status.success() => {}
        Ok(status) if tool.found_by == FALLBACK => fail(&format!(
            "ariel-build failed ({status}): fix what it reports above (it ran as {tool}); \
             if that is `No module named ariel_build`, {INSTALL}"
        )),
        Ok(status) => fail(&format!(
            "ariel-build failed ({status}): fix what it reports above (it ran as {tool})"
        )),
        Err(e) => fail(&format!(
            "could not start ariel-build {tool}: {e}; {INSTALL}"
        )),
    }
}

fn fail(summary: &str) -> ! {
    eprintln!("error: {summary}");
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn find(vars: &[(&str, &OsStr)]) -> Tool {
        find_tool(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_os_string())
        })
    }

    /// A fresh directory; with `tool`, it holds `bin/ariel-build`.
    fn scratch_dir(name: &str, tool: bool) -> PathBuf {
        let dir = env::temp_dir().join(format!("ariel-shim-test-{}-{name}", std::process::id()));
        fs::create_dir_all(dir.join("bin")).unwrap();
        if tool {
            fs::write(tool_in(&dir.join("bin")), "").unwrap();
        }
        dir
    }

    #[test]
    fn override_wins_and_a_python_runs_the_module() {
        let venv = scratch_dir("override", true);
        let python = Path::new("/opt/py/bin/python3.11");
        let tool = find(&[
            (OVERRIDE_VAR, python.as_os_str()),
            ("VIRTUAL_ENV", venv.as_os_str()),
        ]);
        assert_eq!((tool.program.as_path(), tool.is_python), (python, true));
        let exe = Path::new("/opt/tools/ariel-build");
        let tool = find(&[(OVERRIDE_VAR, exe.as_os_str())]);
        assert_eq!((tool.program.as_path(), tool.is_python), (exe, false));
    }

    #[test]
    fn virtualenv_before_path() {
        let venv = scratch_dir("venv", true);
        let other = scratch_dir("path", true).join("bin");
        let tool = find(&[
            ("VIRTUAL_ENV", venv.as_os_str()),
            ("PATH", other.as_os_str()),
        ]);
        assert_eq!(
            (tool.program, tool.is_python),
            (tool_in(&venv.join("bin")), false)
        );
    }

    #[test]
    fn path_is_searched_in_order_and_python_is_the_last_resort() {
        let empty = scratch_dir("empty", false);
        let second = scratch_dir("second", true).join("bin");
        let path = env::join_paths([empty.join("bin"), second.clone()]).unwrap();
        assert_eq!(find(&[("PATH", &path)]).program, tool_in(&second));
        // A virtualenv without the tool is skipped; nothing found → `python3 -m ariel_build`.
        let tool = find(&[
            ("VIRTUAL_ENV", empty.as_os_str()),
            ("PATH", empty.join("bin").as_os_str()),
        ]);
        assert!(tool.is_python && tool.program.to_str().unwrap().starts_with("python"));
    }

    #[test]
    fn python_comes_from_the_tool_scripts_shebang() {
        let dir = scratch_dir("shebang", false).join("bin");
        let python_of = |first_line: &str| {
            fs::write(tool_in(&dir), format!("{first_line}\nimport sys\n")).unwrap();
            find_python(|name| (name == "PATH").then(|| dir.clone().into_os_string()))
        };
        assert_eq!(
            python_of("#!/opt/py/bin/python3.11"),
            Path::new("/opt/py/bin/python3.11")
        );
        assert_eq!(
            python_of("#!/usr/bin/env python3.12 -s"),
            Path::new("python3.12")
        );
        // A wrapper that is no Python (a pyenv shim, say): the `python3` on PATH.
        assert_eq!(python_of("#!/usr/bin/env bash"), Path::new("python3"));
        let python = Path::new("/venv/bin/python3");
        assert_eq!(
            find_python(|name| (name == OVERRIDE_VAR).then(|| python.as_os_str().to_os_string())),
            python
        );
    }
}
