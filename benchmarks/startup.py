"""Start-up of the ``signoff`` command, beside ``python -c pass`` and ``python -c "import sqlalchemy"``.

A CI gate calls the tool many times, so help, the version and a usage error must answer at once
(target: within 3x of a bare interpreter). Each case runs as a fresh process, the cases interleaved
round by round so that a busy machine slows them all alike; the median of the rounds is printed.
Bytecode is cached as in an installed copy (a set PYTHONDONTWRITEBYTECODE is dropped for the runs).

    .venv/bin/python benchmarks/startup.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIGNOFF = str(Path(sys.executable).with_name("signoff"))  # the console script a user runs

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
    "signoff --version": [SIGNOFF, "--version"],
    "signoff --help": [SIGNOFF, "--help"],
    "signoff analyze --help": [SIGNOFF, "analyze", "--help"],
    "signoff analyze fairnes (mistyped)": [SIGNOFF, "analyze", "fairnes"],
    "signoff modls list (mistyped)": [SIGNOFF, "modls", "list"],
}


# Without cached bytecode every process compiles every module it imports, which no installed copy does.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    for command in CASES.values():  # warm the file cache and the bytecode once
        wall_seconds(command)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, command in CASES.items():
            times[name].append(wall_seconds(command))
    base = statistics.median(times["python -c pass"])
    print(f"{'case':<38} {'median':>9} {'min':>9} {'x python -c pass':>17}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<38} {median * 1000:>7.1f}ms {min(values) * 1000:>7.1f}ms {median / base:>16.1f}x")


if __name__ == "__main__":
    main()
