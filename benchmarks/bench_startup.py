"""Command-line start-up: the CPU time (user + system) of a fresh ``kmbase --version`` and
``kmbase check docs/examples/eligible.json`` beside a bare typer app doing the same, in the
same run (issue 23: target at most 0.3 s of CPU). A script that calls ``kmbase`` in a loop
pays this each time. Run: ``python benchmarks/bench_startup.py`` (about 20 s).

What a command imports is asserted in tests/test_cli_startup.py; ``python -X importtime -c
"from kmbase_workflow.cli import main"`` shows where the rest goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
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


def cpu_seconds(code: str, *args: str) -> float:
    """Median user + system CPU seconds of ``python -c CODE ARGS`` (its output discarded)."""
    times = []
    for _ in range(RUNS):
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        _pid, _status, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped above
        times.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(times)


def main() -> None:
    """Print the CPU seconds of each start beside the bare typer app's, with the ratio."""
    print(f"  median of {RUNS} fresh interpreters each; {load()}")
    bare = {
        "--version": cpu_seconds(BARE, "--version"),
        "check": cpu_seconds(BARE, "check", str(EXAMPLE)),
    }
    rows = [
        ("kmbase --version", cpu_seconds(KMBASE, "--version"), "--version"),
        ("kmbase check eligible.json", cpu_seconds(KMBASE, "check", str(EXAMPLE)), "check"),
        (
            "kmbase check eligible.json --json",
            cpu_seconds(KMBASE, "check", str(EXAMPLE), "--json"),
            "check",
        ),
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


if __name__ == "__main__":
    main()
