"""Performance per group equals scikit-learn (multiclass one-vs-rest, regression, ECE by hand);
monitoring windows equal a hand-computed p-chart; bad input is a clear InputError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_oracles import same
from sklearn import metrics as skm

from signoff.analysis.fairness import run_fairness
from signoff.analysis.monitoring import run_monitoring
from signoff.analysis.performance import run_performance
from signoff.analysis.progress import AnalysisCancelled
from signoff.domain.errors import InputError
from signoff.domain.fairness import MonitoringResult
from signoff.domain.performance import PerformanceResult


def test_binary_performance_matches_fairness_and_hand_ece(adult_log):
    result = run_performance(
        adult_log, label="label", prediction="prediction", scores="score", sensitive=["sex"], n_resamples=50
    )
    assert result.task == "binary"
    female = adult_log[adult_log["sex"] == "Female"]
    g = result.segment("sex").group("Female")
    assert same(g.metrics["roc_auc"], skm.roc_auc_score(female["label"], female["score"]))
    # ECE with 10 equal-width bins, computed the slow way
    bins = np.minimum((female["score"] * 10).astype(int), 9)
    ece = sum(
        len(part) / len(female) * abs(part["score"].mean() - part["label"].mean())
        for _, part in female.groupby(bins)
    )
    assert same(g.metrics["ece"], ece, tol=1e-12)
    assert PerformanceResult.from_dict(result.to_dict()) == result
    obs = {(o.metric, o.scope): o for o in result.observations()}
    assert obs[("performance.roc_auc", "overall")].value == result.overall.metrics["roc_auc"]
    assert obs[("performance.roc_auc", "sex=Female")].n == len(female)


def test_multiclass_one_vs_rest_equals_sklearn():
    rng = np.random.default_rng(4)
    n = 4000
    classes = np.array(["cat", "dog", "eel"])
    label = rng.choice(classes, size=n)
    prediction = np.where(rng.random(n) < 0.7, label, rng.choice(classes, size=n))
    group = rng.choice(["p", "q"], size=n)
    log = pd.DataFrame({"label": label, "prediction": prediction, "group": group})
    result = run_performance(
        log, label="label", prediction="prediction", sensitive=["group"], n_resamples=100
    )
    assert result.task == "multiclass" and result.classes == ("cat", "dog", "eel")
    for name, part in log.groupby("group"):
        g = result.segment("group").group(name)
        prec, rec, f1, _ = skm.precision_recall_fscore_support(
            part["label"], part["prediction"], labels=list(classes), zero_division=np.nan
        )
        assert same(g.metrics["accuracy"], skm.accuracy_score(part["label"], part["prediction"]))
        for i, c in enumerate(classes):
            assert same(g.metrics[f"tpr[{c}]"], rec[i])
            assert same(g.metrics[f"ppv[{c}]"], prec[i])
            assert same(g.metrics[f"f1[{c}]"], f1[i])
        lo, hi = g.bootstrap["accuracy"]
        assert lo < g.metrics["accuracy"] < hi


def test_regression_per_group_equals_sklearn():
    rng = np.random.default_rng(5)
    n = 3000
    label = rng.normal(50, 10, n)
    prediction = label + rng.normal(1, 5, n)
    age = rng.integers(18, 80, n).astype(float)
    age[:10] = np.nan
    log = pd.DataFrame({"y": label, "yhat": prediction, "age": age})
    result = run_performance(
        log, label="y", prediction="yhat", sensitive=["age"], bins={"age": [0, 40, np.inf]}
    )
    assert result.task == "regression"
    seg = result.segment("age")
    assert [g.group for g in seg.groups] == ["0-40", "40+", "Unknown"] and seg.unknown_count == 10
    for label_, mask in (("0-40", age < 40), ("40+", age >= 40), ("Unknown", np.isnan(age))):
        g = seg.group(label_)
        assert same(g.metrics["mae"], skm.mean_absolute_error(label[mask], prediction[mask]), tol=1e-9)
        assert same(g.metrics["rmse"], skm.root_mean_squared_error(label[mask], prediction[mask]), tol=1e-9)
        assert same(g.metrics["mean_prediction"], prediction[mask].mean(), tol=1e-9)
        assert same(g.metrics["mean_residual"], (label[mask] - prediction[mask]).mean(), tol=1e-9)


def test_monitoring_flags_the_window_outside_its_band():
    # Eight ISO weeks; the third selects far more often.
    days = pd.date_range("2026-01-05", periods=56, freq="D")  # a Monday
    rows = []
    for d in days:
        selected = 20 if d.isocalendar().week == 4 else 12  # of 40 a day: 0.5 against 0.3
        rows += [(d + pd.Timedelta(minutes=30 * i), int(i < selected)) for i in range(40)]
    log = pd.DataFrame(rows, columns=["ts", "prediction"])
    result = run_monitoring(log, timestamp="ts", prediction="prediction", frequency="week")
    assert [w.start for w in result.windows][:4] == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    p = log["prediction"].mean()
    for w in result.windows:
        part = log[
            (log["ts"] >= pd.Timestamp(w.start)) & (log["ts"] < pd.Timestamp(w.start) + pd.Timedelta(days=7))
        ]
        assert w.count == len(part) == 280 and w.positives == part["prediction"].sum()
        half = 3 * np.sqrt(p * (1 - p) / len(part))
        assert same(w.lower, p - half) and same(w.upper, p + half)
    assert [w.flagged for w in result.windows] == [False, False, True] + [False] * 5
    assert MonitoringResult.from_dict(result.to_dict()) == result
    assert result.observations()[0].value == 1.0
    monthly = run_monitoring(log, timestamp="ts", prediction="prediction", frequency="month")
    assert [w.start for w in monthly.windows] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [w.count for w in monthly.windows] == [27 * 40, 28 * 40, 1 * 40]


def test_positive_label_is_required_for_other_outcomes_and_named():
    log = pd.DataFrame({"y": ["approve", "deny"] * 20, "p": ["deny", "approve"] * 20, "g": ["a", "b"] * 20})
    with pytest.raises(InputError, match=r"\{approve, deny\}.*positive_label"):
        run_fairness(log, label="y", prediction="p", sensitive=["g"])
    result = run_fairness(
        log, label="y", prediction="p", sensitive=["g"], positive_label="approve", n_resamples=0
    )
    assert result.positive_label == "approve"
    assert result.segment("g").group("a").metrics["selection_rate"] == 0.0
    with pytest.raises(InputError, match="not among the outcome values"):
        run_fairness(log, label="y", prediction="p", sensitive=["g"], positive_label="maybe")
    # a label typed on a command line matches integer outcomes by its text
    ints = pd.DataFrame({"y": [0, 2] * 20, "p": [2, 2] * 20, "g": ["a", "b"] * 20})
    assert (
        run_fairness(
            ints, label="y", prediction="p", sensitive=["g"], positive_label="2", n_resamples=0
        ).positive_label
        == "2"
    )


def test_bad_input_names_column_and_row():
    # A missing label is a row whose outcome is not known yet; a missing prediction is an error.
    log = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0, 1, None, 1], "age": [20, 30, 40, 200]})
    with pytest.raises(InputError) as err:
        run_fairness(log, label="y", prediction="p", sensitive=["age"])
    assert err.value.column == "p" and err.value.row == 3
    log = log.assign(p=[0, 1, 1, 1])
    with pytest.raises(InputError, match="outside the stated bin edges") as err:
        run_fairness(log, label="y", prediction="p", sensitive=["age"], bins={"age": [0, 65, 120]})
    assert err.value.row == 4 and err.value.column == "age"
    with pytest.raises(InputError, match="no such column"):
        run_fairness(log, label="y", prediction="p", sensitive=["gender"])
    with pytest.raises(InputError, match="reference group 'x'"):
        run_fairness(log, label="y", prediction="p", sensitive=["age"], reference={"age": "x"})


def test_progress_is_reported_and_cancel_stops():
    log = pd.DataFrame({"y": [0, 1] * 50, "p": [1, 1] * 50, "g": ["a", "b", "c", "d"] * 25})
    seen: list[float] = []
    run_fairness(log, label="y", prediction="p", sensitive=["g"], n_resamples=10, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    with pytest.raises(AnalysisCancelled):
        run_fairness(log, label="y", prediction="p", sensitive=["g"], cancelled=lambda: True)


def test_reference_rules():
    log = pd.DataFrame(
        {
            "y": [1, 0] * 60,
            "p": [1] * 20 + [0] * 50 + [1] * 40 + [0] * 10,
            "g": ["big"] * 70 + ["fav"] * 40 + ["tiny"] * 10,
        }
    )
    kw = {"label": "y", "prediction": "p", "sensitive": ["g"], "n_resamples": 0}
    assert run_fairness(log, **kw).segment("g").reference == "big"
    # "fav" has the highest selection rate; "tiny" is below the minimum size, so cannot be the reference
    log.loc[log["g"] == "tiny", "p"] = 1
    assert run_fairness(log, reference="most_favoured", **kw).segment("g").reference == "fav"
    assert run_fairness(log, reference={"g": "tiny"}, **kw).segment("g").reference == "tiny"
    tiny = run_fairness(log, **kw).segment("g").group("tiny")
    assert tiny.insufficient and tiny.metrics["selection_rate"] == 1.0
