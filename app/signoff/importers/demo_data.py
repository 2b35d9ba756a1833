"""The UCI Adult income data shipped for the demo workspace, read into tidy columns.

``resources/demo/adult.data.gz`` (training, 32,561 rows) and ``adult.test.gz`` (16,281 rows) are the
original files, gzip-compressed (resources/demo/README.md). The test file starts with one junk line
(``|1x3 Cross validator``) and writes its labels with a trailing period (``>50K.``); values carry a
leading space; ``?`` means missing. The demo's model inputs and sensitive attributes are derived here:
``married`` (1 for every ``Married-*`` marital status), ``age_group`` (<25, 25-44, 45-64, 65+) and the
label ``income_over_50k`` (1 for ``>50K``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from signoff.domain.errors import InputError
from signoff.importers.demo_columns import LABEL
from signoff.resources import resource_path

TRAIN, TEST = "adult.data", "adult.test"
RAW_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
# Age groups: [lower, upper) in years, and their labels.
AGE_GROUP_EDGES = (0, 25, 45, 65, 200)
AGE_GROUP_LABELS = ("<25", "25-44", "45-64", "65+")
INCOME_LABELS = {"<=50K": 0, ">50K": 1}


def adult_path(name: str) -> Path:
    """The shipped gzip file of ``adult.data`` or ``adult.test``."""
    if name not in (TRAIN, TEST):
        raise InputError(f"the demo data are {TRAIN!r} and {TEST!r}, not {name!r}")
    return resource_path("demo", f"{name}.gz")


def age_group(age: pd.Series) -> pd.Series:
    codes = np.searchsorted(np.asarray(AGE_GROUP_EDGES[1:-1]), age.to_numpy(), side="right")
    return pd.Series(np.asarray(AGE_GROUP_LABELS, dtype=object)[codes], index=age.index, name="age_group")


def read_adult(name: str) -> pd.DataFrame:
    """One Adult file with the raw columns (snake_case names) plus ``married``, ``age_group`` and the
    label ``income_over_50k``; whitespace stripped, ``?`` read as missing, the test file's junk first
    line and label periods removed."""
    path = adult_path(name)
    frame = pd.read_csv(
        path,
        header=None,
        names=list(RAW_COLUMNS),
        skiprows=1 if name == TEST else 0,
        skipinitialspace=True,
        na_values=["?"],
        skip_blank_lines=True,
        compression="gzip",
        dtype={c: str for c in ("workclass", "education", "marital_status", "occupation")},
    )
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].str.strip()
    income = frame["income"].str.rstrip(".")
    unknown = sorted(set(income.dropna()) - set(INCOME_LABELS))
    if unknown or income.isna().any():
        raise InputError(f"unexpected income labels {unknown or ['(missing)']}", file=str(path))
    frame["income"] = income
    frame["married"] = frame["marital_status"].str.startswith("Married").astype("int64")
    frame["age_group"] = age_group(frame["age"])
    frame[LABEL] = income.map(INCOME_LABELS).astype("int64")
    return frame
