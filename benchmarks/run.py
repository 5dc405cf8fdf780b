"""Run every benchmark of the project (``python3 tools/dev.py bench``): figures and ratios, no
assertions."""

from __future__ import annotations

import importlib
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))


def main(argv: list[str]) -> None:
    wanted = set(argv)
    modules = sorted(path.stem for path in HERE.glob("bench_*.py"))
    for name in modules:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(name).main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
