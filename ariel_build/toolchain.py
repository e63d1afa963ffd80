"""`ariel-build setup`: installs the cross toolchain and emulators (Debian/Ubuntu, apt).

Idempotent: when every package is present it only checks versions and returns within a second.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ariel_build.errors import ArielError

# Debian's Rust builds `core`/`alloc` for any target (-Zbuild-std); rustup here has no targets.
# Debian's rustc has no rust-lld: LLVM's linker links the microcontroller firmware.
RUST_PACKAGES = ("rustc-web", "cargo-web", "rust-web-src", "lld-19")
QEMU_PACKAGES = ("qemu-system-arm", "qemu-system-misc")
BUILD_PACKAGES = ("gcc", "libglib2.0-dev", "dpkg-dev")  # the QEMU counting plugin
PACKAGES = RUST_PACKAGES + QEMU_PACKAGES + BUILD_PACKAGES

DEBIAN_CARGO = Path("/usr/bin/cargo")
DEBIAN_RUSTC = Path("/usr/bin/rustc")
DEBIAN_LLD = Path("/usr/lib/llvm-19/bin/ld.lld")

PLUGIN_SOURCE = Path(__file__).resolve().parent.parent / "board-support" / "qemu-plugin"


class SetupError(ArielError):
    layer = "setup"


def missing_packages(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    missing = []
    for pkg in packages:
        r = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg], capture_output=True, text=True, check=False
        )
        if not r.stdout.startswith("ii"):
            missing.append(pkg)
    return missing


def _apt(args: list[str], log: Callable[[str], None]) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    cmd = [*prefix, "apt-get", *args]
    log("$ " + " ".join(cmd))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def _candidate(pkg: str) -> str | None:
    r = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True, check=False)
    m = re.search(r"Candidate:\s*(\S+)", r.stdout)
    return m.group(1) if m and m.group(1) != "(none)" else None


def _install(packages: list[str], log: Callable[[str], None]) -> None:
    update = _apt(["update", "-qq"], log)
    if update.returncode != 0:
        raise SetupError(
            "apt-get update failed:\n" + update.stderr.strip()[-2000:], fix="check the apt sources"
        )
    args = ["install", "-y", "-q", "--no-install-recommends", *packages]
    r = _apt(args, log)
    if r.returncode != 0 and any(p.startswith("qemu") for p in packages):
        # A newer qemu-utils (e.g. from backports) blocks bookworm's qemu-system 7.2: align it.
        version = _candidate("qemu-system-arm")
        if version:
            log(f"aligning qemu-utils with qemu-system-arm {version}")
            r = _apt([*args, f"qemu-utils={version}", "--allow-downgrades"], log)
    if r.returncode != 0:
        raise SetupError(
            f"apt-get could not install {' '.join(packages)}:\n" + (r.stderr or r.stdout).strip()[-3000:],
            fix="install these packages by hand, then run `ariel-build setup` again",
        )


def check_platform() -> None:
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise SetupError(
            "automatic set-up needs a Debian-like system with apt-get",
            fix=(
                "install by hand: a Rust toolchain with std sources for -Zbuild-std (rustup component "
                "rust-src on nightly, or Debian's rustc-web/cargo-web/rust-web-src), qemu-system-arm, "
                "qemu-system-misc, gcc and glib headers; then point ARIEL_CARGO/ARIEL_RUSTC at that toolchain"
            ),
        )
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        raise SetupError(
            "installing packages needs root",
            fix=f"run as root, or as root: apt-get install -y {' '.join(PACKAGES)}",
        )


def setup(log: Callable[[str], None] = print) -> None:
    missing = missing_packages()
    if missing:
        check_platform()
        log(f"installing {' '.join(missing)} (apt)…")
        _install(missing, log)
        still = missing_packages()
        if still:
            raise SetupError(f"packages still missing after apt-get: {' '.join(still)}")
    for tool in (DEBIAN_CARGO, DEBIAN_RUSTC, DEBIAN_LLD):
        if not tool.exists():
            raise SetupError(
                f"{tool} is missing although {RUST_PACKAGES} are installed", fix="reinstall them"
            )
    plugin = build_plugin(log)
    log(
        f"toolchain ready: {version_line(DEBIAN_CARGO)}; {version_line(Path('qemu-system-arm'))}; {plugin.name}"
    )


def build_plugin(log: Callable[[str], None] = lambda _: None) -> Path:
    """Builds the QEMU instruction-counting plugin into the cache; skipped when up to date.

    The file name carries a hash of the sources, so an up-to-date plugin is simply one that exists.
    """
    from ariel_build.runners.host import cache_dir

    sources = sorted(PLUGIN_SOURCE.glob("*.[ch]"))
    digest = hashlib.sha1(b"".join(p.name.encode() + p.read_bytes() for p in sources)).hexdigest()[:12]
    target = cache_dir() / "qemu-plugin" / f"libariel_count-{digest}.so"
    if target.exists():
        return target
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SetupError("gcc is needed to build the QEMU counting plugin", fix="run `ariel-build setup`")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    cmd = [
        gcc,
        "-O2",
        "-Wall",
        "-Wextra",
        "-shared",
        "-fPIC",
        "-o",
        str(partial),
        str(PLUGIN_SOURCE / "ariel_count.c"),
    ]
    log("$ " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SetupError("building the QEMU counting plugin failed:\n" + r.stderr[-3000:])
    partial.replace(target)
    return target


@cache
def target_usable(target: str, rustc: str) -> bool:
    """The compiler lists the target and its LLVM has the backend (Debian's lists Xtensa
    targets but its LLVM cannot generate Xtensa code)."""
    listed = subprocess.run([rustc, "--print", "target-list"], capture_output=True, text=True, check=False)
    if target not in listed.stdout.split():
        return False
    cpus = subprocess.run(
        [rustc, "--print", "target-cpus", "--target", target], capture_output=True, text=True, check=False
    )
    return cpus.returncode == 0 and "not a recognized processor" not in cpus.stderr


def require_target(target: str, rustc: str) -> None:
    """A clear error before building for a target the configured Rust compiler cannot build."""
    if target_usable(target, rustc):
        return
    if target.startswith("xtensa-"):
        raise SetupError(
            f"target {target} needs Espressif's Rust toolchain (Xtensa LLVM); {rustc} does not have it "
            "and Debian does not ship it",
            fix="install it with `cargo install espup && espup install`, then set "
            "ARIEL_RUSTC=~/.rustup/toolchains/esp/bin/rustc and ARIEL_CARGO=~/.rustup/toolchains/esp/bin/cargo",
        )
    raise SetupError(
        f"the Rust compiler {rustc} does not know the target {target}",
        fix="run `ariel-build setup` (Debian's rustc-web builds core for every listed target), "
        "or set ARIEL_RUSTC to a compiler that has it",
    )


def version_line(tool: Path) -> str:
    r = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=False)
    return (r.stdout.splitlines() or ["?"])[0]
