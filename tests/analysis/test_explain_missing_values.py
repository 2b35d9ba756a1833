"""Models that accept missing values are explained with the NaNs left in, and outputs name the
favourable class by its label. The oracle is the model's own output (additivity) and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from signoff.analysis.explain import run_explanation

FEATURES = ["income", "debt", "age"]


@pytest.fixture(scope="module")
def credit():
    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame({name: rng.normal(size=n) for name in FEATURES})
    frame.loc[rng.random(n) < 0.15, "debt"] = np.nan  # debt unknown for some applicants
    score = frame["income"] - frame["debt"].fillna(1.0)
    frame["label"] = np.where(score + rng.normal(scale=0.5, size=n) > 0, "Repaid", "Defaulted")
    frame["id"] = [f"a{i}" for i in range(n)]
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(frame[FEATURES], frame["label"])
    return frame, model


def test_hist_gradient_boosting_is_explained_with_nans(credit):
    frame, model = credit
    assert frame["debt"].isna().sum() > 200
    missing_row = frame.index[frame["debt"].isna()][0]
    result = run_explanation(
        model, frame, features=FEATURES, id_column="id", rows=[frame.loc[missing_row, "id"]], sample_size=600
    )
    assert result.settings.explainer.value == "tree"
    assert result.settings.output_space == "log-odds of Repaid"  # the positive class by its label
    assert list(model.classes_) == ["Defaulted", "Repaid"]
    # Additivity against scikit-learn's own decision function, NaN rows included.
    assert result.additivity.ok, result.additivity
    (local,) = result.local
    debt = next(c for c in local.contributions if c.feature == "debt")
    assert debt.value is None  # shown as missing, not as 0
    shap_sum = sum(c.shap for c in local.contributions) + result.base_value
    expected = float(model.decision_function(frame.loc[[missing_row], FEATURES])[0])
    assert shap_sum == pytest.approx(expected, abs=1e-6)
    importance = {f.feature: f.mean_abs_shap for f in result.global_importance}
    assert importance["income"] > importance["age"] and importance["debt"] > importance["age"]


def test_the_favourable_class_of_the_log_is_the_class_explained(credit):
    from sklearn.ensemble import RandomForestClassifier

    frame, _model = credit
    known = frame.dropna()
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(known[FEATURES], known["label"])
    result = run_explanation(forest, known, features=FEATURES, sample_size=300, favourable_class="Defaulted")
    assert result.settings.output_space == "probability of Defaulted"
    assert result.additivity.ok  # against predict_proba[:, 0], the Defaulted column
