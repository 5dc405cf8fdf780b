"""Run a development session on a fresh machine: ``python3 tools/dev.py demo`` (or ``tests``).

Needs nothing but Python 3.11 or newer. It makes ``.venv`` in the project (once), installs
nox there and runs the nox sessions named, passing everything after ``--`` to them::

    python3 tools/dev.py demo                      # the annual round on SQLite
    python3 tools/dev.py tests                     # the test suite
    python3 tools/dev.py tests -- -k fuzz -x       # arguments for pytest
    python3 tools/dev.py lint typecheck docs bench # the other checks

It never runs pip outside ``.venv``, so a system Python that refuses ``pip install``
(PEP 668, "externally-managed-environment", as on current Debian and Ubuntu) is fine. Where
the system Python has no ``ensurepip`` (Debian without ``python3-venv``), the environment is
made without pip and pip is installed into it from its wheel on PyPI (checked against the
SHA-256 PyPI publishes). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The project's root (the folder that holds ``noxfile.py``)."""

VENV = ROOT / ".venv"
"""The environment this script makes and uses."""

NOX = "nox>=2025.2.9"
"""The nox the sessions need (``nox.project.dependency_groups``)."""

PIP_INDEX = "https://pypi.org/pypi/pip/json"
"""Where the pip wheel comes from when the system Python has no ``ensurepip``."""

MINIMUM_PYTHON = (3, 11)


def venv_python(env: Path = VENV) -> Path:
    """The interpreter of the environment ``env``."""
    if os.name == "nt":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"


def has_ensurepip() -> bool:
    """Whether this Python can put pip into a new environment by itself."""
    return importlib.util.find_spec("ensurepip") is not None


def nox_command(sessions: Sequence[str], posargs: Sequence[str], env: Path = VENV) -> list[str]:
    """The command that runs ``sessions`` with the environment's nox."""
    command = [str(venv_python(env)), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py")]
    command += ["--sessions", *sessions]
    if posargs:
        command += ["--", *posargs]
    return command


def pip_install_command(requirements: Sequence[str], env: Path = VENV) -> list[str]:
    """``pip install`` as the environment's own pip runs it (never the system's)."""
    return [str(venv_python(env)), "-m", "pip", "install", "--quiet", *requirements]


def wheel_pip_command(wheel: Path, env: Path = VENV) -> list[str]:
    """pip run from its own wheel, installing that wheel into the environment."""
    return [str(venv_python(env)), str(wheel / "pip"), "install", "--quiet", str(wheel)]


def pip_wheel_url(index_url: str = PIP_INDEX) -> tuple[str, str]:
    """The URL and SHA-256 of the newest pip wheel, as PyPI's JSON API lists it."""
    with urllib.request.urlopen(index_url, timeout=60) as response:
        release = json.load(response)
    for file in release["urls"]:
        if file["packagetype"] == "bdist_wheel":
            return file["url"], file["digests"]["sha256"]
    msg = f"no pip wheel listed at {index_url}"
    raise RuntimeError(msg)


def download(url: str, sha256: str, folder: Path) -> Path:
    """``url`` saved in ``folder`` under its own name, refused unless its SHA-256 matches."""
    target = folder / url.rsplit("/", 1)[-1]
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        msg = f"{url}: SHA-256 {digest}, expected {sha256}"
        raise RuntimeError(msg)
    target.write_bytes(data)
    return target


def run(command: Sequence[str]) -> None:
    """Run ``command``, echoed first; exit with its code if it fails."""
    print("+", " ".join(command), flush=True)
    completed = subprocess.run(command, check=False, cwd=ROOT)
    if completed.returncode != 0:
        raise SystemExit(completed.returncode)


def has_pip(env: Path = VENV) -> bool:
    """Whether the environment's Python can run pip."""
    probe = [str(venv_python(env)), "-m", "pip", "--version"]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def has_module(module: str, env: Path = VENV) -> bool:
    """Whether the environment's Python can import ``module``."""
    probe = [str(venv_python(env)), "-c", f"import {module}"]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def bootstrap_pip(env: Path = VENV, index_url: str = PIP_INDEX) -> None:
    """Install pip into ``env`` from its wheel on PyPI (for a Python without ensurepip)."""
    url, sha256 = pip_wheel_url(index_url)
    with tempfile.TemporaryDirectory() as folder:
        print(f"+ fetching {url}", flush=True)
        run(wheel_pip_command(download(url, sha256, Path(folder)), env))


def ensure_environment(env: Path = VENV, index_url: str = PIP_INDEX) -> None:
    """Make ``env`` with pip and nox in it, or complete what an earlier run left undone."""
    if not venv_python(env).exists():
        with_pip = has_ensurepip()
        print(f"+ creating {env}" + ("" if with_pip else " (no ensurepip: without pip)"))
        venv.EnvBuilder(with_pip=with_pip, clear=env.exists()).create(env)
    if not has_pip(env):
        bootstrap_pip(env, index_url)
    if not has_module("nox", env):
        run(pip_install_command([NOX], env))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The sessions and the arguments after ``--`` for them."""
    parser = argparse.ArgumentParser(
        prog="python3 tools/dev.py",
        description="Make .venv (once), install nox there and run nox sessions in it.",
        epilog="Sessions: demo, tests, lint, typecheck, docs, bench, model "
        "(see noxfile.py). Arguments after -- go to the session "
        "(python3 tools/dev.py tests -- -k fuzz).",
    )
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="nox sessions to run")
    argv = list(argv)
    posargs: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, posargs = argv[:cut], argv[cut + 1 :]
    namespace = parser.parse_args(argv)
    namespace.posargs = posargs
    return namespace


def main(argv: Sequence[str] | None = None) -> None:
    """Make the environment and run the sessions; exit with nox's exit code."""
    if sys.version_info < MINIMUM_PYTHON:
        wanted = ".".join(map(str, MINIMUM_PYTHON))
        raise SystemExit(f"kmbase_workflow needs Python {wanted} or newer, not {sys.version}")
    arguments = parse(sys.argv[1:] if argv is None else argv)
    ensure_environment()
    run(nox_command(arguments.sessions, arguments.posargs))


if __name__ == "__main__":
    main()
