"""Independent reference computations (Fairlearn, scikit-learn) and comparison helpers for the tests."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import metrics as skm

TOL = 1e-12
AGE_EDGES = [0, 25, 45, 65, np.inf]  # the binning under test, stated once

# Every per-group rate, computed by scikit-learn / Fairlearn with an undefined value as NaN.
ORACLE_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "base_rate": lambda y, p: float(np.mean(y)),
    "tpr": partial(skm.recall_score, zero_division=np.nan),
    "tnr": partial(skm.recall_score, pos_label=0, zero_division=np.nan),
    "fpr": lambda y, p: 1 - skm.recall_score(y, p, pos_label=0, zero_division=np.nan),
    "fnr": lambda y, p: 1 - skm.recall_score(y, p, zero_division=np.nan),
    "ppv": partial(skm.precision_score, zero_division=np.nan),
    "npv": partial(skm.precision_score, pos_label=0, zero_division=np.nan),
    "fdr": lambda y, p: 1 - skm.precision_score(y, p, zero_division=np.nan),
    "for": lambda y, p: 1 - skm.precision_score(y, p, pos_label=0, zero_division=np.nan),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": partial(skm.f1_score, zero_division=np.nan),
}
# Fairlearn's own rates, the ones its *_difference / *_ratio functions compare.
FAIRLEARN_RATES = {"fl_tpr": true_positive_rate, "fl_fpr": false_positive_rate}


def same(ours: float | None, theirs: float, tol: float = TOL) -> bool:
    """``None`` (Signoff's undefined) equals NaN (the oracle's undefined); numbers within ``tol``."""
    theirs = float(theirs)
    if ours is None:
        return math.isnan(theirs)
    return not math.isnan(theirs) and abs(ours - theirs) <= tol


def group_key(index_value: object) -> str:
    """Fairlearn's by_group index entry -> Signoff's group label ("Female & Black")."""
    if isinstance(index_value, tuple):
        return " & ".join(str(v) for v in index_value)
    return str(index_value)


def oracle_frame(y: np.ndarray, p: np.ndarray, sensitive: pd.Series | pd.DataFrame) -> MetricFrame:
    """One MetricFrame with every per-group rate (building one costs ~0.5 s on Adult, so build once)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the undefined cases we test on purpose
        return MetricFrame(
            metrics={**ORACLE_METRICS, **FAIRLEARN_RATES}, y_true=y, y_pred=p, sensitive_features=sensitive
        )


def frame_comparisons(mf: MetricFrame) -> dict[str, float]:
    """Fairlearn's comparisons computed as its functions do (fairlearn/metrics/_fairness_metrics.py):
    ``selection_rate`` / ``true_positive_rate`` / ``false_positive_rate`` frames and their
    ``difference`` / ``ratio`` methods, max/min (worst case) or mean over TPR and FPR."""
    out = {}
    for method in ("between_groups", "to_overall"):
        suffix = "" if method == "between_groups" else "_to_overall"
        diff = mf.difference(method=method)
        ratio = mf.ratio(method=method)
        eo_diff = diff[["fl_tpr", "fl_fpr"]]
        eo_ratio = ratio[["fl_tpr", "fl_fpr"]]
        out[f"demographic_parity_difference{suffix}"] = diff["selection_rate"]
        out[f"demographic_parity_ratio{suffix}"] = ratio["selection_rate"]
        out[f"equal_opportunity_difference{suffix}"] = diff["fl_tpr"]
        out[f"equal_opportunity_ratio{suffix}"] = ratio["fl_tpr"]
        out[f"equalized_odds_difference{suffix}"] = max(eo_diff)
        out[f"equalized_odds_difference_mean{suffix}"] = eo_diff.mean()
        out[f"equalized_odds_ratio{suffix}"] = min(eo_ratio)
        out[f"equalized_odds_ratio_mean{suffix}"] = eo_ratio.mean()
    return out
