"""Drift of a 1,000,000-row log against a 1,000,000-row reference: Signoff's run_drift side by side with
the bare scipy calls it is built on (the floor), for 10 numeric and 5 categorical columns.

    PYTHONPATH=app .venv/bin/python benchmarks/drift.py [ROWS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from signoff.analysis.drift import run_drift


def make_log(rows: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"x{i}": rng.normal(shift * i / 10, 1 + i / 10, rows) for i in range(10)}
    categories = np.array([f"c{k}" for k in range(20)], dtype=object)
    for j in range(5):
        weights = rng.dirichlet(np.ones(20))
        data[f"cat{j}"] = categories[rng.choice(20, rows, p=weights)]
    return pd.DataFrame(data)


def scipy_floor(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    """The statistics alone, with no binning bookkeeping, verdicts or result objects."""
    for i in range(10):
        r, c = reference[f"x{i}"].to_numpy(), current[f"x{i}"].to_numpy()
        ks_2samp(r, c)
        wasserstein_distance(r, c)
        edges = np.unique(np.quantile(r, np.arange(1, 10) / 10))
        jensenshannon(
            np.bincount(np.searchsorted(edges, r), minlength=edges.size + 1),
            np.bincount(np.searchsorted(edges, c), minlength=edges.size + 1),
        )
    for j in range(5):
        table = pd.crosstab(
            pd.concat([reference[f"cat{j}"], current[f"cat{j}"]], ignore_index=True),
            np.repeat([0, 1], [len(reference), len(current)]),
        )
        chi2_contingency(table.to_numpy(), correction=False)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    reference, current = make_log(rows, 0.0, 1), make_log(rows, 0.5, 2)
    columns = list(reference.columns)

    start = time.perf_counter()
    result = run_drift(reference, current, columns=columns)
    signoff_seconds = time.perf_counter() - start

    start = time.perf_counter()
    scipy_floor(reference, current)
    scipy_seconds = time.perf_counter() - start

    print(f"rows per log: {rows:,}; columns: 10 numeric, 5 categorical (20 categories)")
    print(f"{'signoff run_drift (all statistics, bins, verdicts)':<55} {signoff_seconds:7.2f} s")
    print(f"{'bare scipy calls (KS, Wasserstein, JS, chi-square)':<55} {scipy_seconds:7.2f} s")
    print(f"drifted columns: {', '.join(result.drifted_columns()) or 'none'}")


if __name__ == "__main__":
    main()
