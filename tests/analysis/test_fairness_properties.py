"""Properties that must hold for any log (hypothesis): counts add up, rates are rates, row order and
group names do not matter beyond the names themselves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signoff.analysis.fairness import run_fairness
from signoff.domain.fairness import FairnessResult

RATES = ("selection_rate", "base_rate", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "fdr", "for", "accuracy")


@st.composite
def logs(draw):
    n = draw(st.integers(1, 60))
    row = st.tuples(
        st.integers(0, 1),
        st.integers(0, 1),
        st.sampled_from(["a", "b", "c", None]),
        st.sampled_from(["x", "y"]),
    )
    rows = draw(st.lists(row, min_size=n, max_size=n))
    return pd.DataFrame(rows, columns=["label", "prediction", "g", "h"])


def analyse(log: pd.DataFrame, **kw) -> FairnessResult:
    return run_fairness(
        log,
        label="label",
        prediction="prediction",
        sensitive=["g", "h"],
        min_group_size=1,
        n_resamples=20,
        **kw,
    )


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(logs())
def test_counts_sum_to_n_and_rates_are_rates(log):
    result = analyse(log)
    assert result.overall.count == len(log)
    for segment in result.segments:
        assert sum(g.count for g in segment.groups) == len(log)
        for g in segment.groups:
            for name in (*RATES, "balanced_accuracy", "f1", "share"):
                v = g.metrics[name]
                assert v is None or 0.0 <= v <= 1.0, (segment.name, g.group, name, v)
            for lo, hi in (*g.wilson.values(), *g.bootstrap.values()):
                assert lo is None or (0.0 <= lo <= hi <= 1.0)
    json.dumps(result.to_dict(), allow_nan=False)  # JSON-safe: no NaN, no numpy scalars


@SETTINGS
@given(logs(), st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(log, random):
    order = list(range(len(log)))
    random.shuffle(order)
    shuffled = log.iloc[order].reset_index(drop=True)
    assert analyse(shuffled).to_dict() == analyse(log).to_dict()


@SETTINGS
@given(logs())
def test_renaming_groups_permutes_results(log):
    renaming = {"a": "zeta", "b": "alpha", "c": "mu"}
    renamed = log.assign(g=log["g"].map(renaming))
    before = analyse(log, intersections=False).segment("g")
    after = analyse(renamed, intersections=False).segment("g")
    for g in before.groups:
        other = after.group(renaming.get(g.group, g.group))
        assert other.count == g.count
        assert other.metrics == g.metrics
        assert other.wilson == g.wilson
    for c in before.comparisons:
        if c.group is None and c.reference is None:  # Fairlearn's: symmetric in the groups
            assert after.comparison(c.name).value == c.value


def test_result_round_trips_through_json(adult_log):
    result = run_fairness(
        adult_log,
        label="label",
        prediction="prediction",
        scores="score",
        sensitive=["sex", "race"],
        n_resamples=50,
    )
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert FairnessResult.from_dict(json.loads(text)) == result
    observations = result.observations()
    scopes = {(o.metric, o.scope) for o in observations}
    assert ("fairness.impact_ratio", "sex") in scopes
    assert ("fairness.impact_ratio", "race=Black") in scopes
    assert ("fairness.equalized_odds_difference", "sex&race") in scopes
    assert ("fairness.statistical_parity_difference", "sex=Female") in scopes
    worst = next(o for o in observations if o.metric == "fairness.impact_ratio" and o.scope == "sex")
    female = result.segment("sex").group("Female").metrics["selection_rate"]
    male = result.segment("sex").group("Male").metrics["selection_rate"]
    assert worst.value == female / male and worst.ci_low is not None


def test_impact_ratio_excludes_small_categories_and_unknown():
    rng = np.random.default_rng(2)
    n = 5000
    g = rng.choice(["a", "b"], size=n).astype(object)
    g[:50] = "rare"  # 1% of rows: under the 2% line
    g[50:120] = None  # Unknown: shown, not in the ratio
    pred = (rng.random(n) < np.where(g == "a", 0.5, 0.3)).astype(int)
    pred[:50] = 1  # the rare group would be the highest if it counted
    log = pd.DataFrame({"label": rng.integers(0, 2, n), "prediction": pred, "g": g})
    segment = run_fairness(
        log, label="label", prediction="prediction", sensitive=["g"], n_resamples=100
    ).segment("g")
    ratios = {r.group: r for r in segment.impact_ratios}
    assert segment.excluded == ("rare",) and segment.unknown_count == 70
    assert ratios["rare"].excluded and ratios["rare"].impact_ratio is None
    assert ratios["Unknown"].excluded and ratios["Unknown"].count == 70
    sr = log[log["g"] == "a"]["prediction"].mean(), log[log["g"] == "b"]["prediction"].mean()
    assert ratios["a"].impact_ratio == 1.0
    assert abs(ratios["b"].impact_ratio - sr[1] / sr[0]) < 1e-12
    lo, hi = ratios["b"].ci
    assert lo < ratios["b"].impact_ratio < hi


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.1 + 0.2]) | st.floats(0, 1),
            st.booleans(),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_exact_auc_per_group_equals_sklearn_with_ties(rows):
    from sklearn.metrics import roc_auc_score

    from signoff.analysis.metrics import AucAhead, ScoreOrder, argsort_scores

    score = np.array([r[0] for r in rows])
    label = np.array([r[1] for r in rows])
    group = np.array([r[2] for r in rows])
    order = argsort_scores(score)
    assert sorted(order) == list(range(len(rows))) and np.all(np.diff(score[order]) >= 0)
    auc = ScoreOrder(score, label, group, 4).auc(np.arange(4), 4)
    for g in range(4):
        in_g = group == g
        if len(set(label[in_g])) == 2:
            assert abs(auc[g] - roc_auc_score(label[in_g], score[in_g])) < 1e-12
        else:
            assert np.isnan(auc[g])
    # The whole log (one group, no sort by group), and both computed ahead on the second thread.
    whole = ScoreOrder(score, label, group, 4).auc(np.zeros(4, dtype=np.int64), 1)
    if len(set(label)) == 2:
        assert abs(whole[0] - roc_auc_score(label, score)) < 1e-12
    else:
        assert np.isnan(whole[0])
    maps = [(np.arange(4), 4), (np.zeros(4, dtype=np.int64), 1), (np.zeros(4, dtype=np.int64), 1)]
    ahead = AucAhead(score, label, group, 4, maps)
    np.testing.assert_array_equal(ahead.auc(np.arange(4), 4), auc)
    np.testing.assert_array_equal(ahead.auc(np.zeros(4, dtype=np.int64), 1), whole)
