"""Champion vs challenger speed: Signoff's count-table comparison beside a straightforward pandas/scipy one.

1,000,000 paired rows, 3 sensitive attributes with all 2- and 3-way intersections, every metric (accuracy,
TPR, FPR, selection rate, precision, AUC) with McNemar / DeLong tests, Holm, decision changes and a
1,000-resample paired bootstrap of the fairness gaps. The straightforward version computes the same
statistics group by group with pandas, scipy (rankdata for DeLong, binom/chi2 tails) and a row bootstrap;
its bootstrap is timed over ``--baseline-resamples`` resamples and scaled to 1,000 (stated in the output).

    PYTHONPATH=app .venv/bin/python benchmarks/compare.py
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd
from scipy import stats

from signoff.analysis.compare import VersionColumns, holm, run_paired_comparison

AGE_EDGES = [0, 25, 45, 65, np.inf]


def synthetic_log(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = pd.Categorical.from_codes(rng.choice([-1, 0, 1], size=n, p=[0.02, 0.49, 0.49]), ["Female", "Male"])
    race = pd.Categorical.from_codes(
        rng.choice(5, size=n, p=[0.6, 0.15, 0.12, 0.08, 0.05]),
        ["White", "Black", "Asian", "Hispanic", "Other"],
    )
    age = rng.integers(18, 90, size=n).astype(np.int16)
    label = (rng.random(n) < 0.35).astype(np.int8)
    champion = np.clip(0.3 * label + 0.7 * rng.random(n), 0, 1)
    challenger = np.clip(0.35 * label + 0.65 * rng.random(n), 0, 1)
    return pd.DataFrame(
        {
            "label": label,
            "champion": (champion > 0.5).astype(np.int8),
            "challenger": (challenger > 0.5).astype(np.int8),
            "champion_score": champion,
            "challenger_score": challenger,
            "sex": sex,
            "race": race,
            "age": age,
        }
    )


def time_signoff(log: pd.DataFrame) -> tuple[float, float, int]:
    start, cpu = time.perf_counter(), time.process_time()
    result = run_paired_comparison(
        log,
        champion=VersionColumns("label", "champion", "champion_score"),
        challenger=VersionColumns("label", "challenger", "challenger_score"),
        sensitive=["sex", "race", "age"],
        bins={"age": AGE_EDGES},
        n_resamples=1000,
        seed=0,
    )
    return time.perf_counter() - start, time.process_time() - cpu, sum(len(s.groups) for s in result.segments)


def _delong(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The usual fast DeLong (Sun & Xu) for one group with scipy's rankdata: p of AUC b - AUC a."""
    pos, neg = y == 1, y == 0
    m, k = pos.sum(), neg.sum()
    if m < 2 or k < 2:
        return np.nan
    v10, v01, aucs = [], [], []
    for s in (a, b):
        all_ranks = stats.rankdata(s)
        pos_ranks = stats.rankdata(s[pos])
        neg_ranks = stats.rankdata(s[neg])
        v10.append((all_ranks[pos] - pos_ranks) / k)
        v01.append(1 - (all_ranks[neg] - neg_ranks) / m)
        aucs.append(v10[-1].mean())
    cov = np.cov(np.vstack(v10)) / m + np.cov(np.vstack(v01)) / k
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    return 2 * stats.norm.sf(abs(aucs[1] - aucs[0]) / np.sqrt(var))


def _mcnemar(b: int, c: int) -> float:
    if b + c < 25:
        return min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5))
    return stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1)


def _gaps(frame: pd.DataFrame, keys: list[str], prediction: str) -> tuple[float, float, float]:
    grouped = frame.groupby(keys, observed=True)
    sr = grouped[prediction].mean()
    tpr = frame[frame.label == 1].groupby(keys, observed=True)[prediction].mean()
    fpr = frame[frame.label == 0].groupby(keys, observed=True)[prediction].mean()
    return sr.min() / sr.max(), sr.max() - sr.min(), max(tpr.max() - tpr.min(), fpr.max() - fpr.min())


def time_straightforward(log: pd.DataFrame, resamples: int) -> tuple[float, float]:
    """(wall seconds without the bootstrap, wall seconds of the bootstrap scaled to 1,000 resamples)."""
    start = time.perf_counter()
    frame = log.assign(
        sex=log.sex.cat.add_categories("Unknown").fillna("Unknown"),
        age=pd.cut(log.age, AGE_EDGES, right=False),
    )
    segments = [list(c) for k in (1, 2, 3) for c in itertools.combinations(["sex", "race", "age"], k)]
    p_values = []
    for keys in [None, *segments]:
        groups = [((), frame)] if keys is None else frame.groupby(keys, observed=True)
        for _, rows in groups:
            y, a, b = rows.label.to_numpy(), rows.champion.to_numpy(), rows.challenger.to_numpy()
            for keep, ra, rb in (
                (np.ones(len(y), bool), a == y, b == y),
                (y == 1, a == 1, b == 1),
                (y == 0, a == 1, b == 1),
                (np.ones(len(y), bool), a == 1, b == 1),
            ):
                p_values.append(_mcnemar(int((ra & ~rb)[keep].sum()), int((~ra & rb)[keep].sum())))
            _ = b[b == 1].size and (y[b == 1].mean() - y[a == 1].mean())  # precision difference
            p_values.append(_delong(y, rows.champion_score.to_numpy(), rows.challenger_score.to_numpy()))
            _ = ((a == 0) & (b == 1)).sum(), ((a == 1) & (b == 0)).sum()  # decision changes
    holm([p for p in p_values if np.isfinite(p)])
    analysis = time.perf_counter() - start
    rng = np.random.default_rng(0)
    boot_start = time.perf_counter()
    for _ in range(resamples):
        sample = frame.iloc[rng.integers(0, len(frame), len(frame))]
        for keys in segments:
            _gaps(sample, keys, "champion"), _gaps(sample, keys, "challenger")
    boot = (time.perf_counter() - boot_start) * 1000 / resamples
    return analysis, boot


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of Signoff's comparison; the best counts")
    parser.add_argument("--baseline-resamples", type=int, default=3)
    args = parser.parse_args()

    log = synthetic_log(args.rows)
    time_signoff(synthetic_log(10_000))  # warm imports, as a running app would be
    ours, ours_cpu, n_groups = min(time_signoff(log) for _ in range(args.repeat))
    print(
        f"signoff       {args.rows:,} paired rows, 3 attributes + 4 intersections ({n_groups} groups), "
        f"6 metrics, McNemar/DeLong/Holm, decision changes, 1,000 resamples: {ours:6.2f} s wall, {ours_cpu:6.2f} s CPU"
    )
    analysis, boot = time_straightforward(log, args.baseline_resamples)
    print(
        f"pandas/scipy  same statistics: {analysis:6.2f} s without the bootstrap + {boot:8.1f} s for 1,000 row "
        f"resamples (timed over {args.baseline_resamples}, scaled) = {analysis + boot:8.1f} s wall"
    )
    print(f"speed-up: {(analysis + boot) / ours:.0f}x wall (without the bootstrap: {analysis / ours:.1f}x)")


if __name__ == "__main__":
    main()
