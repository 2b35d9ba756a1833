"""Whole-process ``signoff analyze fairness`` on a 1M-row log, beside a plain Fairlearn script, in one run.

What a user waits for, from the shell prompt back to the prompt: the first call (imports, reading the
stored log, the analysis with 1,000 bootstrap resamples, recording the run) against a plain script that
reads the same rows with pandas and runs Fairlearn's MetricFrame (six metrics by race, no intervals);
then the same command again, answered from the stored run, beside ``python -c "import sqlalchemy"``.
The first call is the median of three (each with another bootstrap seed, so nothing stored answers it).
Setting up (an account, models add, import log) runs first and also caches the bytecode every later process uses.

    .venv/bin/python benchmarks/analyze_cli.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fairness import synthetic_log

SIGNOFF = str(Path(sys.executable).with_name("signoff"))

FAIRLEARN_SCRIPT = """
import sys
import pandas as pd
from fairlearn.metrics import (
    MetricFrame, false_negative_rate, false_positive_rate, selection_rate, true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score

log = pd.read_parquet(sys.argv[1], columns=["label", "prediction", "race"])
frame = MetricFrame(
    metrics={
        "selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate,
        "tnr": true_negative_rate, "fnr": false_negative_rate, "accuracy": accuracy_score,
    },
    y_true=log["label"], y_pred=log["prediction"], sensitive_features=log["race"],
)
print(frame.by_group)
"""


def wall(command: list[str], env: dict[str, str], stdin: str = "") -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{done.stderr}")
    return seconds


def signed_in(env: dict[str, str]) -> dict[str, str]:
    """An account for the changing commands, and its session token in the environment (as a CI job has)."""
    password = "benchmark-password-1"
    user = [SIGNOFF, "users", "add", "bench", "--full-name", "Bench", "--email", "bench@example.org"]
    wall([*user, "--roles", "admin,reviewer,approver", "--password-stdin"], env, stdin=password)
    login = [SIGNOFF, "login", "--user", "bench", "--password-stdin", "--print-token"]
    token = subprocess.run(login, env=env, input=password, capture_output=True, text=True, check=True)
    return {**env, "SIGNOFF_TOKEN": token.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of the cached call and the imports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as folder:
        work = Path(folder)
        data = work / "log.parquet"
        synthetic_log(args.rows).to_parquet(data, index=False)
        # Bytecode cached as in an installed copy: without it every process compiles what it imports.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["SIGNOFF_DB"] = f"sqlite:///{work / 'bench.db'}"
        env = signed_in(env)
        small = work / "small.parquet"
        synthetic_log(1_000, seed=1).to_parquet(small, index=False)
        mapping = ["--label", "label", "--prediction", "prediction", "--score", "score"]
        mapping += ["--sensitive", "sex", "race", "age"]
        for name, log in (("warm-up", small), ("credit", data)):  # log 1: warm-up, log 2: measured
            wall([SIGNOFF, "models", "add", name, "1"], env)
            wall([SIGNOFF, "import", "log", str(log), "--model", name, "--version", "1", *mapping], env)
        # Both sides once on a small log, so that neither pays for compiling what it imports.
        wall([SIGNOFF, "analyze", "fairness", "warm-up", "1", "--log", "1", "--sensitive", "race"], env)
        wall([sys.executable, "-c", FAIRLEARN_SCRIPT, str(small)], env)
        analyze = [SIGNOFF, "analyze", "fairness", "credit", "1", "--log", "2", "--sensitive", "race"]

        # Each seed is a new request, so each of these is a first call (nothing stored to answer it).
        first = statistics.median(wall([*analyze, "--seed", str(seed)], env) for seed in (1, 2, 3))
        fairlearn = wall([sys.executable, "-c", FAIRLEARN_SCRIPT, str(data)], env)
        cached = min(wall([*analyze, "--seed", "1"], env) for _ in range(args.repeat))
        sqlalchemy = min(wall([sys.executable, "-c", "import sqlalchemy"], env) for _ in range(args.repeat))
        bare = min(wall([sys.executable, "-c", "pass"], env) for _ in range(args.repeat))

    print(f"{args.rows:,} rows, whole process, wall seconds")
    print(f"  signoff analyze fairness (first call, median of 3): {first:7.2f}")
    print(f"  Fairlearn MetricFrame script (six metrics):      {fairlearn:7.2f}   {fairlearn / first:5.1f}x")
    print(f"  signoff analyze fairness (stored run, best):     {cached:7.2f}")
    print(
        f'  python -c "import sqlalchemy" (best):            {sqlalchemy:7.2f}   {cached / sqlalchemy:5.1f}x'
    )
    print(f"  python -c pass (best):                           {bare:7.2f}")


if __name__ == "__main__":
    main()
