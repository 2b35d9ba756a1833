"""SHAP explanations checked against independent oracles: a direct ``shap`` call on the original model
for the same rows, hand-computed linear SHAP, pandas group means and the models' own outputs.

Models are trained here, saved in the formats Signoff loads (skops, XGBoost UBJ, LightGBM text) and
loaded back through ``load_model``, so the loaded object is what gets explained.
"""

from __future__ import annotations

import json
import warnings

import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
import xgboost
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from signoff.analysis.explain import MIN_DEFAULT_SAMPLE, explain_precomputed, run_explanation
from signoff.analysis.model_loading import load_model
from signoff.domain.errors import InputError
from signoff.domain.explanation import ExplainerKind, Explanation, ExplanationCancelled

FEATURES = ["f0", "f1", "f2", "f3", "is_female"]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """A prediction log where f1 matters only for women, so importance differs between groups."""
    rng = np.random.default_rng(11)
    n = 1200
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=FEATURES[:4])
    frame["sex"] = rng.choice(["Female", "Male"], size=n)
    frame["race"] = rng.choice(["A", "B"], size=n, p=[0.7, 0.3])
    frame["is_female"] = (frame["sex"] == "Female").astype(float)
    logit = 1.5 * frame["f0"] + 2.0 * frame["f1"] * frame["is_female"] + 0.3 * frame["f2"]
    frame["label"] = (logit + rng.logistic(size=n) > 0).astype(int)
    frame["id"] = [f"r{i}" for i in range(n)]
    return frame


@pytest.fixture(scope="module")
def models(log, tmp_path_factory):
    """Each model trained, saved in its safe format, and loaded back through Signoff."""
    folder = tmp_path_factory.mktemp("models")
    x, y = log[FEATURES], log["label"]
    trained = {
        "gbm": GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0).fit(x, y),
        "forest": RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0).fit(x, y),
        "logistic": LogisticRegression().fit(x, y),
        "xgboost": xgboost.XGBClassifier(n_estimators=40, max_depth=3).fit(x, y),
        "lightgbm": lightgbm.LGBMClassifier(n_estimators=40, num_leaves=8, verbose=-1).fit(x, y),
    }
    loaded = {}
    for name in ("gbm", "forest", "logistic"):
        sio.dump(trained[name], folder / f"{name}.skops")
        loaded[name] = load_model(folder / f"{name}.skops")
    trained["xgboost"].get_booster().save_model(folder / "xgboost.ubj")
    loaded["xgboost"] = load_model(folder / "xgboost.ubj")
    trained["lightgbm"].booster_.save_model(folder / "lightgbm.txt")
    loaded["lightgbm"] = load_model(folder / "lightgbm.txt")
    return trained, loaded


def _direct_tree_shap(model, x: pd.DataFrame) -> tuple[np.ndarray, float]:
    """The oracle: shap called directly on the original in-memory model, positive class selected."""
    explainer = shap.TreeExplainer(model)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightGBM binary classifier", category=UserWarning)
        values = np.asarray(explainer.shap_values(x.to_numpy()))
    base = np.asarray(explainer.expected_value, dtype=float).reshape(-1)
    if values.ndim == 3:
        return values[:, :, 1], float(base[1])
    return values, float(base[-1])


LOCAL_ROWS = ["r0", "r7", "r500"]


@pytest.mark.parametrize("name", ["gbm", "forest", "xgboost", "lightgbm"])
def test_tree_shap_equals_a_direct_shap_call_and_adds_up(name, log, models):
    trained, loaded = models
    result = run_explanation(
        loaded[name], log, features=FEATURES, sensitive=["sex", "race"], id_column="id", rows=LOCAL_ROWS
    )
    settings = result.settings
    assert settings.explainer is ExplainerKind.TREE
    assert settings.sample_size == len(log)  # small enough to explain every row by default
    direct, base = _direct_tree_shap(trained[name], log[FEATURES])

    by_feature = {i.feature: i for i in result.global_importance}
    for j, feature in enumerate(FEATURES):
        assert by_feature[feature].mean_abs_shap == pytest.approx(
            np.abs(direct[:, j]).mean(), rel=1e-6, abs=1e-9
        )
        assert by_feature[feature].ci_low <= by_feature[feature].mean_abs_shap <= by_feature[feature].ci_high
    assert result.base_value == pytest.approx(base, abs=1e-6)

    for local in result.local:
        row = int(local.row_id[1:])
        contributions = {c.feature: c.shap for c in local.contributions}
        for j, feature in enumerate(FEATURES):
            assert contributions[feature] == pytest.approx(direct[row, j], abs=1e-6)
        assert local.additivity_error < result.additivity.tolerance

    # Additivity against the model's own output (not shap's): decision function, probability or margin.
    assert result.additivity.rows_checked == len(log) + len(LOCAL_ROWS)
    assert result.additivity.ok, result.additivity
    if name in ("gbm", "forest", "lightgbm"):
        assert result.additivity.tolerance == 1e-6
    expected_space = "probability of class 1" if name == "forest" else "log-odds of class 1"
    assert settings.output_space == expected_space


def test_linear_shap_matches_the_hand_computed_formula(log, models):
    trained, loaded = models
    reference = log.iloc[:600]
    result = run_explanation(
        loaded["logistic"],
        log,
        features=FEATURES,
        background=reference,
        background_size=len(reference),
        id_column="id",
        rows=LOCAL_ROWS,
    )
    assert result.settings.explainer is ExplainerKind.LINEAR
    assert result.settings.background_size == 600
    assert result.settings.background_source == "the reference log"
    model = trained["logistic"]
    mean = reference[FEATURES].to_numpy().mean(axis=0)
    hand = (log[FEATURES].to_numpy() - mean) * model.coef_[0]  # SHAP of a linear model, independent features
    for local in result.local:
        row = int(local.row_id[1:])
        contributions = {c.feature: c.shap for c in local.contributions}
        for j, feature in enumerate(FEATURES):
            assert contributions[feature] == pytest.approx(hand[row, j], abs=1e-9)
        assert local.model_output == pytest.approx(model.decision_function(log[FEATURES].iloc[[row]])[0])
    assert result.base_value == pytest.approx(model.intercept_[0] + mean @ model.coef_[0])
    assert result.additivity.ok
    by_feature = {i.feature: i.mean_abs_shap for i in result.global_importance}
    assert by_feature["f0"] == pytest.approx(np.abs(hand[:, 0]).mean())
    # Direction: f0 has a positive coefficient, so higher values raise the log-odds.
    f0 = next(d for d in result.directions if d.feature == "f0")
    assert f0.correlation == pytest.approx(1.0)
    assert [b.mean_shap for b in f0.bins] == sorted(b.mean_shap for b in f0.bins)
    assert sum(b.n for b in f0.bins) == len(log)


def test_segments_and_the_largest_gap_name_the_feature_used_for_one_group(log, models):
    trained, loaded = models
    result = run_explanation(loaded["gbm"], log, features=FEATURES, sensitive=["sex", "race"], seed=5)
    direct, _ = _direct_tree_shap(trained["gbm"], log[FEATURES])
    for segment in result.segments:
        if segment.attribute == "sex&race":
            sex, race = segment.group.split("&")
            members = (log["sex"] == sex) & (log["race"] == race)
        else:
            members = log[segment.attribute] == segment.group
        assert segment.n == int(members.sum())
        for importance in segment.importances:
            j = FEATURES.index(importance.feature)
            assert importance.mean_abs_shap == pytest.approx(np.abs(direct[members.to_numpy(), j]).mean())
    assert {s.attribute for s in result.segments} == {"sex", "race", "sex&race"}

    sex_gaps = [g for g in result.gaps if g.attribute == "sex"]
    top = sex_gaps[0]
    assert (top.feature, top.group_a, top.group_b) == ("f1", "Female", "Male")
    assert top.clear and top.ci_low <= top.difference <= top.ci_high
    assert "relies on f1 more for sex=Female than for sex=Male" in top.sentence()
    assert "relies on f1 more for sex=Female & race=" in result.gap_sentences()[0]


def test_results_are_seeded_and_survive_json(log, models):
    _trained, loaded = models
    options = dict(features=FEATURES, sensitive=["sex"], id_column="id", rows=["r3"], sample_size=500, seed=9)
    first = run_explanation(loaded["gbm"], log, **options)
    second = run_explanation(loaded["gbm"], log, **options)
    strip = lambda e: {**e.to_dict(), "settings": {**e.settings.to_dict(), "timings": {}}}  # noqa: E731
    assert strip(first) == strip(second)
    assert first.settings.sample_size == 500
    other = run_explanation(loaded["gbm"], log, **{**options, "seed": 10})
    assert strip(other) != strip(first)
    text = json.dumps(first.to_dict(), allow_nan=False)
    assert Explanation.from_dict(json.loads(text)) == first


def test_progress_is_reported_and_cancel_stops_the_run(log, models):
    _trained, loaded = models
    seen: list[float] = []
    run_explanation(loaded["gbm"], log, features=FEATURES, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 2
    calls = iter(range(100))
    with pytest.raises(ExplanationCancelled):
        run_explanation(loaded["gbm"], log, features=FEATURES, cancelled=lambda: next(calls) >= 3)


def test_cost_estimate_and_default_sample_follow_the_budget(log, models):
    _trained, loaded = models
    log = pd.concat([log] * 2, ignore_index=True)  # more rows than the smallest default sample
    generous = run_explanation(loaded["forest"], log, features=FEATURES)
    estimate = generous.settings.estimate
    assert estimate.rows == len(log) and estimate.seconds > 0 and "nodes x depth" in estimate.formula
    tight = run_explanation(loaded["forest"], log, features=FEATURES, time_budget_seconds=1e-6)
    assert tight.settings.sample_size == MIN_DEFAULT_SAMPLE == 1500  # 2% groups get ~30 rows
    assert tight.settings.estimate.seconds < estimate.seconds


def test_permutation_explainer_for_other_models_matches_shap(log):
    x, y = log[FEATURES], log["label"]
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    reference = log.iloc[:40]
    result = run_explanation(
        pipeline,
        log,
        features=FEATURES,
        background=reference,
        background_size=40,
        id_column="id",
        rows=["r1", "r2"],
        sample_size=30,
        seed=4,
    )
    assert result.settings.explainer is ExplainerKind.PERMUTATION
    assert result.settings.output_space == "probability of class 1"
    assert result.additivity.ok
    # Oracle: the same explainer called directly with the same background, budget and seed.
    background = reference[FEATURES].to_numpy()
    direct = shap.PermutationExplainer(
        lambda rows: pipeline.predict_proba(pd.DataFrame(rows, columns=FEATURES))[:, 1],
        shap.maskers.Independent(background, max_samples=len(background)),
        seed=4,
    )(log[FEATURES].to_numpy()[[1, 2]], max_evals=10 * (2 * len(FEATURES) + 1), silent=True)
    for r, local in enumerate(result.local):
        contributions = {c.feature: c.shap for c in local.contributions}
        for j, feature in enumerate(FEATURES):
            assert contributions[feature] == pytest.approx(direct.values[r, j], abs=1e-9)


def test_precomputed_shap_columns_are_summarised_like_computed_ones(log, models):
    trained, loaded = models
    direct, base = _direct_tree_shap(trained["gbm"], log[FEATURES])
    brought = log.copy()
    for j, feature in enumerate(FEATURES):
        brought[f"shap_{feature}"] = direct[:, j]
    brought["margin"] = trained["gbm"].decision_function(log[FEATURES])
    result = explain_precomputed(
        brought,
        shap_columns={f: f"shap_{f}" for f in FEATURES},
        base_value=base,
        output_column="margin",
        output_space="log-odds of class 1",
        sensitive=["sex"],
        id_column="id",
        rows=["r7"],
        additivity_tolerance=1e-6,
    )
    computed = run_explanation(
        loaded["gbm"], log, features=FEATURES, sensitive=["sex"], id_column="id", rows=["r7"]
    )
    assert result.settings.explainer is ExplainerKind.PRECOMPUTED
    assert result.additivity.ok
    for mine, theirs in zip(result.global_importance, computed.global_importance, strict=True):
        assert mine.feature == theirs.feature
        assert mine.mean_abs_shap == pytest.approx(theirs.mean_abs_shap, abs=1e-6)
    assert result.gaps[0].feature == "f1"
    assert result.local[0].model_output == pytest.approx(computed.local[0].model_output)


def test_user_errors_name_the_column_or_row(log, models):
    _trained, loaded = models
    with pytest.raises(InputError, match="lacks: is_female"):
        run_explanation(loaded["gbm"], log, features=FEATURES[:4])
    with pytest.raises(InputError, match="no row with id nope"):
        run_explanation(loaded["gbm"], log, features=FEATURES, id_column="id", rows=["nope"])
    broken = log.copy()
    broken.loc[3, "f2"] = np.nan
    with pytest.raises(InputError, match="missing values") as missing:
        run_explanation(loaded["gbm"], broken, features=FEATURES)
    assert missing.value.column == "f2"
    # XGBoost handles missing inputs itself, so the same log explains.
    assert run_explanation(loaded["xgboost"], broken, features=FEATURES).additivity.ok
    text = log.assign(f3=log["f3"].astype(str))
    with pytest.raises(InputError, match="must be numbers"):
        run_explanation(loaded["gbm"], text, features=FEATURES)
