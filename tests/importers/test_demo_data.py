"""The shipped UCI Adult files read into the demo's columns, checked against the raw lines."""

from __future__ import annotations

import gzip

import pandas as pd

from signoff.importers import demo_data
from signoff.importers.demo_columns import FEATURES, SENSITIVE
from signoff.resources import resource_path


def test_age_groups_at_their_edges():
    ages = pd.Series([17, 24, 25, 44, 45, 64, 65, 90])
    assert list(demo_data.age_group(ages)) == ["<25", "<25", "25-44", "25-44", "45-64", "45-64", "65+", "65+"]


def test_the_test_file_loses_its_junk_line_and_label_periods():
    frame = demo_data.read_adult(demo_data.TEST)
    with gzip.open(resource_path("demo", "adult.test.gz"), "rt") as handle:
        lines = [line.rstrip("\n") for line in handle if line.strip()][1:]
    assert len(frame) == len(lines) == 16281
    assert set(frame["income"]) == {"<=50K", ">50K"}
    assert int(frame[demo_data.LABEL].sum()) == sum(line.endswith(">50K.") for line in lines)
    first = [field.strip() for field in lines[0].split(",")]
    assert (frame.loc[0, "age"], frame.loc[0, "sex"], frame.loc[0, "race"]) == (
        int(first[0]),
        first[9],
        first[8],
    )
    # "?" is missing, never a category of its own
    assert frame["workclass"].isna().sum() == sum(line.split(",")[1].strip() == "?" for line in lines)
    assert not frame[list(FEATURES + SENSITIVE)].isna().any().any()


def test_married_covers_every_married_status():
    frame = demo_data.read_adult(demo_data.TRAIN)
    assert len(frame) == 32561
    married = frame.groupby("marital_status")["married"].unique().to_dict()
    assert {status: list(values) for status, values in married.items()} == {
        "Divorced": [0],
        "Married-AF-spouse": [1],
        "Married-civ-spouse": [1],
        "Married-spouse-absent": [1],
        "Never-married": [0],
        "Separated": [0],
        "Widowed": [0],
    }


def test_the_demo_service_imports_without_pandas():
    # The column names live in importers/demo_columns.py so that refusing a second demo, or showing
    # its progress dialog, does not first wait for pandas, scikit-learn and shap to import.
    import subprocess
    import sys

    code = "import sys, signoff.services.demo; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
