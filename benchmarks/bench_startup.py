"""Command-line start-up: the CPU time (user + system) of a fresh ``kmbase --version``,
``kmbase check docs/examples/eligible.json`` and its ``--json`` beside a bare typer app doing the
same, in the same run (issue 23: target at most 0.3 s of CPU). A script that calls ``kmbase``
in a loop pays this each time. Run: ``python benchmarks/bench_startup.py`` (about 30 s).

Every interpreter reads its modules from bytecode, as an installed package does (pip compiles
it; an interpreter caches what it compiles): the bytecode goes to a temporary folder, written
by one run of each command before the timed ones, even where ``PYTHONDONTWRITEBYTECODE`` is
set. The lines "from source" time the same kmbase commands with no bytecode for the library,
so that each run compiles the library's modules it imports: what a checkout with
``PYTHONDONTWRITEBYTECODE`` pays, and not what the target is about.

What a command imports is asserted in tests/test_cli_startup.py; ``python -X importtime -c
"from kmbase_workflow.cli import main"`` shows where the rest goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from _timing import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "eligible.json"
TARGET = 0.3
"""Seconds of CPU (issue 23)."""
RUNS = 7

KMBASE = "import sys; sys.argv[0] = 'kmbase'; from kmbase_workflow.cli import main; main()"
BARE = '''
import json, pathlib, typer
app = typer.Typer()
def version(value: bool) -> None:
    if value:
        typer.echo("bare 0")
        raise typer.Exit
@app.callback()
def root(v: bool = typer.Option(False, "--version", callback=version, is_eager=True)) -> None:
    """A bare app."""
@app.command()
def check(file: pathlib.Path) -> None:
    """Read a JSON file and print it back: the same arguments as kmbase check."""
    typer.echo(json.dumps(json.loads(file.read_text(encoding="utf-8")))[:60])
@app.command()
def other() -> None:
    """A second command, so that check is a sub-command as in kmbase."""
app()
'''
"""A typer app with ``--version`` and a ``check FILE`` command: what any typer CLI costs."""


def cpu_seconds(code: str, *args: str, env: Mapping[str, str] | None = None) -> float:
    """Median user + system CPU seconds of ``python -c CODE ARGS`` (its output discarded),
    after one run that is not timed (it writes the bytecode)."""
    times = []
    for _ in range(RUNS + 1):
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
        )
        _pid, _status, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped above
        times.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(times[1:])


def main() -> None:
    """Print the CPU seconds of each start beside the bare typer app's, with the ratio."""
    print(f"  median of {RUNS} fresh interpreters each; {load()}")
    with tempfile.TemporaryDirectory() as cache:
        compiled = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        compiled["PYTHONPYCACHEPREFIX"] = cache
        source = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        bare = {
            "--version": cpu_seconds(BARE, "--version", env=compiled),
            "check": cpu_seconds(BARE, "check", str(EXAMPLE), env=compiled),
        }
        commands = [
            ("kmbase --version", ("--version",), "--version"),
            ("kmbase check eligible.json", ("check", str(EXAMPLE)), "check"),
            ("kmbase check eligible.json --json", ("check", str(EXAMPLE), "--json"), "check"),
        ]
        rows = [
            (label, cpu_seconds(KMBASE, *args, env=compiled), against)
            for label, args, against in commands
        ]
        from_source = [
            (label, cpu_seconds(KMBASE, *args, env=source)) for label, args, _ in commands
        ]
    print(f"  {'bare typer --version':<36} {bare['--version']:6.3f} s CPU")
    print(f"  {'bare typer check FILE':<36} {bare['check']:6.3f} s CPU")
    for label, seconds, against in rows:
        met = "met" if seconds <= TARGET else "NOT met"
        ratio = seconds / bare[against]
        print(
            f"  {label:<36} {seconds:6.3f} s CPU, {ratio:4.1f}x bare typer {against}"
            f"   target ≤ {TARGET} s: {met}"
        )
    for label, seconds in from_source:
        print(f"  {label + ', from source':<50} {seconds:6.3f} s CPU")


if __name__ == "__main__":
    main()
