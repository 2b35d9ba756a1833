"""Every per-group metric and Fairlearn comparison equals Fairlearn 0.15 / scikit-learn to 1e-12.

On the real UCI Adult test set (a model trained on adult.data), for single attributes, a binned numeric
attribute and intersections; and on synthetic data with an unused category, tiny groups and missing
values (which Fairlearn cannot take: the oracle gets them filled in as "Unknown", as Signoff reports them).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from fairness_oracles import AGE_EDGES, ORACLE_METRICS, frame_comparisons, group_key, oracle_frame, same
from sklearn import metrics as skm

from signoff.analysis.fairness import run_fairness
from signoff.domain.fairness import FairnessResult

AGE_LABELS = ["0-25", "25-45", "45-65", "65+"]


def fairlearn_comparisons(y, p, sf) -> dict[str, float]:
    out = {}
    for method in ("between_groups",):
        suffix = ""
        kw = {"sensitive_features": sf, "method": method}
        out[f"demographic_parity_difference{suffix}"] = demographic_parity_difference(y, p, **kw)
        out[f"demographic_parity_ratio{suffix}"] = demographic_parity_ratio(y, p, **kw)
        out[f"equal_opportunity_difference{suffix}"] = equal_opportunity_difference(y, p, **kw)
        out[f"equal_opportunity_ratio{suffix}"] = equal_opportunity_ratio(y, p, **kw)
        for agg in ("worst_case", "mean"):
            mean = "_mean" if agg == "mean" else ""
            out[f"equalized_odds_difference{mean}{suffix}"] = equalized_odds_difference(y, p, agg=agg, **kw)
            out[f"equalized_odds_ratio{mean}{suffix}"] = equalized_odds_ratio(y, p, agg=agg, **kw)
    return out


def check_segment(result: FairnessResult, name: str, y, p, sf, scores=None) -> None:
    segment = result.segment(name)
    mf = oracle_frame(y, p, sf)
    by_group = mf.by_group
    # With several features Fairlearn lists unobserved combinations too, as NaN rows.
    by_group = by_group[by_group["count"].fillna(0) > 0]
    observed = {group_key(k) for k in by_group.index}
    ours_nonempty = {g.group for g in segment.groups if g.count > 0}
    assert ours_nonempty == observed
    for key, row in by_group.iterrows():
        g = segment.group(group_key(key))
        assert g.count == row["count"]
        for metric in ORACLE_METRICS:
            if metric == "count":
                continue
            assert same(g.metrics[metric], row[metric]), (
                name,
                g.group,
                metric,
                g.metrics[metric],
                row[metric],
            )
    if scores is not None:
        score_frame = MetricFrame(
            metrics={
                "roc_auc": skm.roc_auc_score,
                "brier": skm.brier_score_loss,
            },
            y_true=y,
            y_pred=scores,
            sensitive_features=sf,
        ).by_group
        for key, row in score_frame.iterrows():
            g = segment.group(group_key(key))
            assert same(g.metrics["roc_auc"], row["roc_auc"]), (name, g.group)
            assert same(g.metrics["brier"], row["brier"]), (name, g.group)
    for comparison, expected in frame_comparisons(mf).items():
        ours = segment.comparison(comparison)
        assert same(ours.value, expected), (name, comparison, ours.value, expected)


@pytest.fixture(scope="module")
def adult_result(adult_log) -> FairnessResult:
    return run_fairness(
        adult_log,
        label="label",
        prediction="prediction",
        scores="score",
        sensitive=["sex", "race", "age"],
        bins={"age": AGE_EDGES},
        intersections=[("sex", "race"), ("sex", "race", "age")],
        min_group_size=1,  # Fairlearn compares every observed group, however small
        n_resamples=200,
    )


def test_adult_single_attributes_equal_fairlearn(adult_log, adult_result):
    y, p, s = adult_log["label"].to_numpy(), adult_log["prediction"].to_numpy(), adult_log["score"].to_numpy()
    check_segment(adult_result, "sex", y, p, adult_log["sex"], s)
    # Fairlearn's public comparison functions themselves, on one attribute and one intersection.
    for name, sf in (("race", adult_log["race"]), ("sex&race", adult_log[["sex", "race"]])):
        for comparison, expected in fairlearn_comparisons(y, p, sf).items():
            assert same(adult_result.segment(name).comparison(comparison).value, expected), comparison
    check_segment(adult_result, "race", y, p, adult_log["race"], s)
    age = pd.cut(adult_log["age"], AGE_EDGES, right=False, labels=AGE_LABELS).astype(str)
    check_segment(adult_result, "age", y, p, age, s)


def test_adult_intersections_equal_fairlearn(adult_log, adult_result):
    y, p = adult_log["label"].to_numpy(), adult_log["prediction"].to_numpy()
    age = pd.cut(adult_log["age"], AGE_EDGES, right=False, labels=AGE_LABELS).astype(str)
    check_segment(adult_result, "sex&race", y, p, adult_log[["sex", "race"]])
    three = pd.DataFrame({"sex": adult_log["sex"], "race": adult_log["race"], "age": age})
    check_segment(adult_result, "sex&race&age", y, p, three)
    # Every combination has a group; the unobserved ones are shown empty, not dropped.
    segment = adult_result.segment("sex&race&age")
    assert len(segment.groups) == 2 * 5 * 4
    empty = [g for g in segment.groups if g.count == 0]
    assert empty and all(v is None for g in empty for k, v in g.metrics.items() if k != "share")
    assert all(g.metrics["share"] == 0 for g in empty)


def test_adult_overall_equals_sklearn(adult_log, adult_result):
    y, p, s = adult_log["label"].to_numpy(), adult_log["prediction"].to_numpy(), adult_log["score"].to_numpy()
    overall = adult_result.overall.metrics
    assert same(overall["roc_auc"], skm.roc_auc_score(y, s))
    assert same(overall["brier"], skm.brier_score_loss(y, s))
    assert same(overall["accuracy"], skm.accuracy_score(y, p))
    assert same(overall["f1"], skm.f1_score(y, p))
    assert adult_result.overall.count == len(adult_log)


def synthetic_log(seed: int = 7) -> pd.DataFrame:
    """Two large groups, a 3-row group, an unused category and missing values in both attributes."""
    rng = np.random.default_rng(seed)
    n = 3000
    colour = rng.choice(["blue", "green"], size=n, p=[0.6, 0.4]).astype(object)
    colour[:3] = "violet"  # tiny group, with both labels below
    colour[3:60] = None  # missing -> Unknown
    shape = rng.choice(["round", "square"], size=n).astype(object)
    shape[:3] = "round"  # keeps the 3-row group whole in the intersection, with both labels
    shape[100:130] = None
    label = (rng.random(n) < np.where(colour == "blue", 0.4, 0.25)).astype(int)
    label[:3] = [1, 0, 1]
    prediction = np.where(rng.random(n) < 0.8, label, 1 - label)
    prediction[:3] = [1, 1, 0]
    return pd.DataFrame(
        {
            "label": label,
            "prediction": prediction,
            "score": np.clip(0.5 * label + 0.5 * rng.random(n), 0, 1),
            "colour": pd.Categorical(colour, categories=["blue", "green", "violet", "yellow"]),
            "shape": shape,
        }
    )


def test_synthetic_empty_tiny_and_missing_groups_equal_fairlearn():
    log = synthetic_log()
    result = run_fairness(
        log, label="label", prediction="prediction", scores="score", sensitive=["colour", "shape"],
        min_group_size=1, n_resamples=100,
    )  # fmt: skip
    y, p, s = log["label"].to_numpy(), log["prediction"].to_numpy(), log["score"].to_numpy()
    colour = log["colour"].astype(object).where(log["colour"].notna(), "Unknown").astype(str)
    shape = log["shape"].where(log["shape"].notna(), "Unknown").astype(str)
    check_segment(result, "colour", y, p, colour, s)
    check_segment(result, "shape", y, p, shape, s)
    check_segment(result, "colour&shape", y, p, pd.DataFrame({"c": colour, "s": shape}))

    segment = result.segment("colour")
    assert segment.group("yellow").count == 0  # the unused category is shown, empty
    assert segment.group("Unknown").count == 57 and segment.group("Unknown").unknown
    assert segment.unknown_count == 57
    assert result.segment("shape").unknown_count == 30
    assert sum(g.count for g in segment.groups) == len(log)


def test_undefined_rates_are_none_and_skipped_like_pandas_in_fairlearn():
    """A group without positives has no TPR. Fairlearn's own true_positive_rate would say 0 there;
    Signoff says None and leaves the group out of the comparison, exactly as Fairlearn's MetricFrame
    does with scikit-learn's recall at zero_division=NaN."""
    log = synthetic_log()
    log.loc[log["colour"] == "violet", "label"] = 0
    result = run_fairness(
        log, label="label", prediction="prediction", sensitive=["colour"], min_group_size=1, n_resamples=0
    )
    violet = result.segment("colour").group("violet")
    assert violet.metrics["tpr"] is None and violet.metrics["fnr"] is None
    assert violet.metrics["f1"] == 0.0  # 2TP / (2TP + FP + FN) = 0 / 2: defined
    assert violet.metrics["fpr"] is not None
    colour = log["colour"].astype(object).where(log["colour"].notna(), "Unknown").astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics={"tpr": ORACLE_METRICS["tpr"], "fpr": ORACLE_METRICS["fpr"]},
            y_true=log["label"],
            y_pred=log["prediction"],
            sensitive_features=colour,
        )
    seg = result.segment("colour")
    assert same(seg.comparison("equal_opportunity_difference").value, mf.difference()["tpr"])
    assert same(seg.comparison("equal_opportunity_ratio").value, mf.ratio()["tpr"])
    assert same(seg.comparison("equalized_odds_difference").value, mf.difference().max())
    assert same(seg.comparison("equalized_odds_difference_mean").value, mf.difference().mean())
