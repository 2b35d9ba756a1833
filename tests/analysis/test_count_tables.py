"""Count tables as a report carries them: JSON in, the same result out, and the tables are the rows' counts.

Each analysis is counted from rows, written to canonical JSON and read back (as a verifier would, with no
rows), then derived: the result equals the analysis run on the rows (1e-12: the ROC AUC is computed on
distinct scores instead of rows). The tables themselves are checked against pandas' own counts of the rows.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from signoff.analysis.fairness import FairnessCounts, count_fairness, fairness_from_counts, run_fairness
from signoff.analysis.monitoring import (
    MonitoringCounts,
    count_monitoring,
    monitoring_from_counts,
    run_monitoring,
)
from signoff.analysis.performance import (
    PerformanceCounts,
    count_performance,
    performance_from_counts,
    run_performance,
)
from signoff.domain.canonical import canonical_json


def same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def carried(counts):
    """The tables as a report carries them: canonical JSON, parsed again."""
    return json.loads(canonical_json(counts.to_dict()))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 1500
    label = rng.integers(0, 2, n).astype(float)
    label[:40] = np.nan  # outcome not known yet
    return pd.DataFrame(
        {
            "y": label,
            "p": rng.integers(0, 2, n),
            "score": rng.random(n).round(3),  # ties: mid-ranks matter
            "sex": rng.choice(["F", "M", None], n),
            "race": rng.choice(["A", "B", "C"], n, p=[0.6, 0.35, 0.05]),
            "cls": rng.choice(["a", "b", "c"], n),
            "cls_hat": rng.choice(["a", "b", "c"], n),
            "amount": rng.random(n) * 100,
            "amount_hat": rng.random(n) * 100,
            "ts": pd.date_range("2026-01-01", periods=n, freq="3h", tz="UTC"),
        }
    )


def test_fairness_from_carried_tables_equals_the_run_and_counts_the_rows(rows):
    parameters = dict(
        label="y",
        prediction="p",
        sensitive=["sex", "race"],
        scores="score",
        positive_label=1,
        n_resamples=150,
        seed=4,
    )
    counts = count_fairness(rows, **parameters)
    again = FairnessCounts.from_dict(carried(counts))
    same(run_fairness(rows, **parameters).to_dict(), fairness_from_counts(again).to_dict())
    # the confusion table is the rows' own crosstab: every (sex, race) x (label, prediction), unlabelled too
    table = again.conf
    labels = {a.name: a.labels for a in again.joint.attributes}
    sex = np.array(labels["sex"])[table.groups // len(labels["race"])]
    race = np.array(labels["race"])[table.groups % len(labels["race"])]
    counted = pd.Series(table.counts, index=pd.MultiIndex.from_arrays([sex, race, table.cells]))
    cell = np.where(rows["y"].isna(), 4 + rows["p"], 2 * rows["y"].fillna(0) + rows["p"]).astype(int)
    expected = (
        rows.assign(sex=rows["sex"].fillna("Unknown"), cell=cell).groupby(["sex", "race", "cell"]).size()
    )
    assert counted.sort_index().to_dict() == expected.sort_index().to_dict()


@pytest.mark.parametrize(
    "columns",
    [
        {"label": "y", "prediction": "p", "scores": "score", "positive_label": 1},
        {"label": "cls", "prediction": "cls_hat"},
        {"label": "amount", "prediction": "amount_hat"},
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_performance_from_carried_tables_equals_the_run(rows, columns):
    parameters = dict(sensitive=["sex", "race"], n_resamples=100, seed=2, **columns)
    again = PerformanceCounts.from_dict(carried(count_performance(rows, **parameters)))
    same(run_performance(rows, **parameters).to_dict(), performance_from_counts(again).to_dict())
    assert again.n_rows == int(rows[columns["label"]].notna().sum())


def test_monitoring_from_carried_counts_equals_the_run_and_counts_each_week(rows):
    parameters = dict(timestamp="ts", prediction="p", positive_label=1, frequency="week")
    again = MonitoringCounts.from_dict(carried(count_monitoring(rows, **parameters)))
    same(run_monitoring(rows, **parameters).to_dict(), monitoring_from_counts(again).to_dict())
    weeks = rows.groupby(rows["ts"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time)["p"]
    assert again.counts.tolist() == weeks.size().tolist()
    assert again.positives.tolist() == weeks.sum().tolist()
