"""Rows whose outcome is not known yet count for selection rates, not for error rates or AUC.

The oracle is Fairlearn / scikit-learn: selection rates on every row, TPR, FPR and AUC on the labelled
rows only. A count table (a log that stays in its database) gives the same answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from sklearn.metrics import roc_auc_score

from signoff.analysis.counted import CountedRows
from signoff.analysis.fairness import run_fairness
from signoff.analysis.performance import run_performance
from signoff.domain.log_source import ROWS


def _log(rows: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    score = rng.random(rows)
    prediction = np.where(score > 0.45 + 0.1 * (group == "b"), "Repaid", "Defaulted")
    label = np.where(rng.random(rows) < score, "Repaid", "Defaulted").astype(object)
    unknown = rng.random(rows) < 0.25 + 0.2 * (group == "c")  # more unknown outcomes in group c
    label[unknown] = None
    return pd.DataFrame({"label": label, "prediction": prediction, "score": score, "group": group})


def test_selection_rates_use_every_row_error_rates_only_the_labelled():
    frame = _log()
    result = run_fairness(
        frame,
        label="label",
        prediction="prediction",
        scores="score",
        sensitive=["group"],
        positive_label="Repaid",
        n_resamples=50,
    )
    selected = (frame["prediction"] == "Repaid").astype(int)
    everyone = MetricFrame(
        metrics=selection_rate, y_true=selected, y_pred=selected, sensitive_features=frame["group"]
    ).by_group
    known = frame[frame["label"].notna()]
    tpr = MetricFrame(
        metrics=true_positive_rate,
        y_true=(known["label"] == "Repaid").astype(int),
        y_pred=(known["prediction"] == "Repaid").astype(int),
        sensitive_features=known["group"],
    ).by_group
    (segment,) = result.segments
    for name in ("a", "b", "c"):
        group = segment.group(name)
        assert group.count == int((frame["group"] == name).sum())  # unlabelled rows are in the group
        assert abs(group.metrics["selection_rate"] - everyone[name]) < 1e-12
        assert abs(group.metrics["tpr"] - tpr[name]) < 1e-12
        rows = known[known["group"] == name]
        auc = roc_auc_score(rows["label"] == "Repaid", rows["score"])
        assert abs(group.metrics["roc_auc"] - auc) < 1e-12
    ratios = {r.group: r.impact_ratio for r in segment.impact_ratios}
    assert abs(ratios["b"] - everyone["b"] / everyone.max()) < 1e-12


def test_performance_leaves_the_unlabelled_rows_out():
    frame = _log()
    result = run_performance(
        frame, label="label", prediction="prediction", positive_label="Repaid", n_resamples=0
    )
    known = frame[frame["label"].notna()]
    overall = result.overall
    assert overall.count == len(known)
    accuracy = float((known["label"] == known["prediction"]).mean())
    assert abs(overall.metrics["accuracy"] - accuracy) < 1e-12


def _counted(frame: pd.DataFrame) -> CountedRows:
    """The log as an engine's GROUP BY answers it: one row per distinct (label, prediction, score, group)."""
    grouped = frame.groupby(list(frame.columns), dropna=False, sort=False).size().reset_index(name=ROWS)
    return CountedRows(grouped.astype({"label": object}).replace({np.nan: None}))


def test_a_count_table_with_unlabelled_rows_counts_them_as_the_rows_do():
    frame = _log(rows=1500, seed=5)
    frame["score"] = (frame["score"] * 20).round() / 20  # few distinct scores: a real count table
    counted = _counted(frame)
    assert counted.n_rows == len(frame) and len(counted.frame) < len(frame) / 4
    fairness = run_fairness(
        counted,
        label="label",
        prediction="prediction",
        scores="score",
        sensitive=["group"],
        positive_label="Repaid",
        n_resamples=0,
    )
    known = frame[frame["label"].notna()]
    (segment,) = fairness.segments
    for name in ("a", "b", "c"):
        group = segment.group(name)
        rows = frame[frame["group"] == name]
        labelled = known[known["group"] == name]
        assert group.count == len(rows)
        assert abs(group.metrics["selection_rate"] - (rows["prediction"] == "Repaid").mean()) < 1e-12
        auc = roc_auc_score(labelled["label"] == "Repaid", labelled["score"])
        assert abs(group.metrics["roc_auc"] - auc) < 1e-12
    performance = run_performance(
        counted, label="label", prediction="prediction", positive_label="Repaid", n_resamples=0
    )
    assert performance.overall.count == len(known)
    accuracy = float((known["label"] == known["prediction"]).mean())
    assert abs(performance.overall.metrics["accuracy"] - accuracy) < 1e-12
