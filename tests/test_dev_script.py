"""``tools/dev.py``: the two commands README.md gives a newcomer work on a fresh machine.

A current Debian refuses ``pip install`` into its Python (PEP 668) and may lack ensurepip
(``python3-venv``): the script makes its own environment and never runs pip outside it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "dev.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kmbase_dev_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load()


def _readme_commands() -> list[str]:
    """The shell lines of README.md's "Set up and run" block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up and run", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_gives_the_two_commands_and_they_need_nothing_installed() -> None:
    assert _readme_commands() == ["python3 tools/dev.py demo", "python3 tools/dev.py tests"]


def test_ci_runs_exactly_the_test_command_readme_gives() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert _readme_commands()[1] in lines
    assert "pip install" not in ci  # nothing installed into the system Python
    assert "KMBASE_REQUIRE_POSTGRES=1" in ci


def test_getting_started_gives_the_same_commands() -> None:
    text = (ROOT / "docs" / "tutorials" / "getting-started.md").read_text(encoding="utf-8")
    for command in _readme_commands():
        assert command in text
    assert "pip install nox" not in text


def test_the_nox_command_is_the_environment_s_own(tmp_path: Path) -> None:
    env = tmp_path / ".venv"
    python = str(dev.venv_python(env))
    assert python.startswith(str(env))
    assert dev.nox_command(["tests"], [], env) == [
        python,
        "-m",
        "nox",
        "--noxfile",
        str(ROOT / "noxfile.py"),
        "--sessions",
        "tests",
    ]
    assert dev.nox_command(["lint", "docs"], ["-k", "fuzz"], env)[-5:] == [
        "lint",
        "docs",
        "--",
        "-k",
        "fuzz",
    ]
    assert dev.pip_install_command(["nox"], env)[:4] == [python, "-m", "pip", "install"]
    wheel = tmp_path / "pip-25.0-py3-none-any.whl"
    assert dev.wheel_pip_command(wheel, env) == [
        python,
        str(wheel / "pip"),
        "install",
        "--quiet",
        str(wheel),
    ]


@pytest.mark.parametrize(
    ("argv", "sessions", "posargs"),
    [
        (["demo"], ["demo"], []),
        (["tests"], ["tests"], []),
        (["lint", "typecheck", "docs"], ["lint", "typecheck", "docs"], []),
        (["tests", "--", "-k", "fuzz", "-x"], ["tests"], ["-k", "fuzz", "-x"]),
        (["bench", "--", "--help"], ["bench"], ["--help"]),
    ],
)
def test_sessions_and_their_arguments(
    argv: list[str], sessions: list[str], posargs: list[str]
) -> None:
    parsed = dev.parse(argv)
    assert (parsed.sessions, parsed.posargs) == (sessions, posargs)


def test_no_session_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        dev.parse([])
    assert info.value.code == 2
    assert "SESSION" in capsys.readouterr().err


def _system_python() -> str:
    """Debian's own Python where there is one (it refuses pip install), else this one."""
    debian = Path("/usr/bin/python3")
    return str(debian) if debian.exists() else sys.executable


def test_help_runs_on_the_system_python() -> None:
    result = subprocess.run(
        [_system_python(), str(SCRIPT), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: python3 tools/dev.py" in result.stdout


def test_the_system_python_here_is_externally_managed_or_the_test_says_so() -> None:
    """Documents what the machine running the tests is: on this project's Debian machines the
    system Python carries the PEP 668 marker, and ``pip install`` into it fails."""
    python = _system_python()
    stdlib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        pytest.skip(f"{python} is not externally managed here")
    refused = subprocess.run(
        [python, "-m", "pip", "install", "--dry-run", "--no-index", "nox"],
        capture_output=True,
        text=True,
        check=False,
    )
    if "No module named pip" in refused.stderr:
        pytest.skip(f"{python} has no pip at all")
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stderr


class _Recorder:
    """Stands in for subprocess.run: records every command; probes fail, installs succeed."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str], **_options: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        probe = command[1:3] == ["-m", "pip"] and command[3:] == ["--version"]
        probe = probe or command[1] == "-c"
        return subprocess.CompletedProcess(list(command), 1 if probe else 0)


def test_pip_runs_only_inside_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ensurepip, without pip and nox in the environment: every command the script
    runs, pip included, is the environment's interpreter."""
    env = tmp_path / ".venv"
    python = dev.venv_python(env)
    python.parent.mkdir(parents=True)
    python.write_text("")  # an environment made earlier, without pip (no ensurepip)
    recorder = _Recorder()
    monkeypatch.setattr(dev.subprocess, "run", recorder)
    monkeypatch.setattr(dev, "has_ensurepip", lambda: False)
    monkeypatch.setattr(dev, "pip_wheel_url", lambda _index: ("https://x/pip.whl", "0" * 64))
    monkeypatch.setattr(dev, "download", lambda _url, _sha, folder: folder / "pip.whl")
    dev.ensure_environment(env)
    dev.run(dev.nox_command(["tests"], [], env))
    assert recorder.commands
    assert {command[0] for command in recorder.commands} == {str(python)}
    installs = [command for command in recorder.commands if "install" in command]
    assert len(installs) == 2  # pip from its wheel, then nox with that pip
    assert installs[0][1].endswith("pip.whl/pip")
    assert dev.NOX in installs[1]


def _bundled_pip_wheel() -> Path:
    stdlib = Path(sysconfig.get_path("stdlib"))
    wheels = sorted((stdlib / "ensurepip" / "_bundled").glob("pip-*.whl"))
    wheels = wheels or sorted(Path("/usr/share/python-wheels").glob("pip-*.whl"))  # Debian's
    if not wheels:
        pytest.skip("this Python bundles no pip wheel to play PyPI's part")
    return wheels[-1]


def _index(tmp_path: Path, wheel: Path, sha256: str) -> str:
    index = tmp_path / "pip.json"
    listing = {"urls": [{"packagetype": "bdist_wheel", "url": wheel.as_uri(), "digests": {}}]}
    listing["urls"][0]["digests"] = {"sha256": sha256}
    index.write_text(json.dumps(listing), encoding="utf-8")
    return index.as_uri()


def test_without_ensurepip_pip_comes_from_its_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback for Debian without python3-venv, end to end and offline: an environment
    made without pip, pip installed into it from the wheel an index lists (here, the wheel
    this Python bundles, served from a file)."""
    wheel = _bundled_pip_wheel()
    index = _index(tmp_path, wheel, hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(dev, "has_ensurepip", lambda: False)
    monkeypatch.setattr(dev, "has_module", lambda _module, _env: True)  # nox: not offline
    env = tmp_path / ".venv"
    dev.ensure_environment(env, index)
    assert dev.has_pip(env)
    version = subprocess.run(
        [str(dev.venv_python(env)), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"pip \d", version)
    assert str(env) in version  # the environment's pip, not the system's


def test_a_wheel_whose_digest_differs_is_refused(tmp_path: Path) -> None:
    wheel = _bundled_pip_wheel()
    index = _index(tmp_path, wheel, "0" * 64)
    url, sha256 = dev.pip_wheel_url(index)
    with pytest.raises(RuntimeError, match="SHA-256"):
        dev.download(url, sha256, tmp_path)
    assert not (tmp_path / wheel.name).exists()
