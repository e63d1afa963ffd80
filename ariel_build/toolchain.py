"""`ariel-build setup`: installs the cross toolchain and emulators (Debian/Ubuntu, apt).

Idempotent: when every package is present it only checks versions and returns within a second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ariel_build.errors import ArielError

# Debian's Rust builds `core`/`alloc` for any target (-Zbuild-std); rustup here has no targets.
RUST_PACKAGES = ("rustc-web", "cargo-web", "rust-web-src")
QEMU_PACKAGES = ("qemu-system-arm", "qemu-system-misc")
BUILD_PACKAGES = ("gcc", "libglib2.0-dev", "dpkg-dev")  # the QEMU counting plugin
PACKAGES = RUST_PACKAGES + QEMU_PACKAGES + BUILD_PACKAGES

DEBIAN_CARGO = Path("/usr/bin/cargo")
DEBIAN_RUSTC = Path("/usr/bin/rustc")


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
    for tool in (DEBIAN_CARGO, DEBIAN_RUSTC):
        if not tool.exists():
            raise SetupError(
                f"{tool} is missing although {RUST_PACKAGES} are installed", fix="reinstall them"
            )
    log(f"toolchain ready: {version_line(DEBIAN_CARGO)}; {version_line(Path('qemu-system-arm'))}")


def version_line(tool: Path) -> str:
    r = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=False)
    return (r.stdout.splitlines() or ["?"])[0]
