"""A stored log's plain columns are read as Arrow (no pandas): the numbers are Fairlearn's all the same.

``signoff analyze fairness`` hands the analysis the log as an Arrow table; every column question
(outcome values, labels as booleans, scores, group codes) is then answered by Arrow compute
(``analysis/columns.py``). Here the Adult log goes in as Arrow and is checked against Fairlearn and
scikit-learn, and columns of every plain type (with missing values, text outcomes, a category called
"Unknown") give the same result as the same rows as a DataFrame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fairness_oracles import same
from test_fairness_fairlearn import check_segment, fairlearn_comparisons

from signoff.analysis.columns import floats, missing, plain_arrow
from signoff.analysis.fairness import run_fairness
from signoff.domain.errors import InputError


def test_the_adult_log_as_arrow_equals_fairlearn(adult_log):
    table = pa.Table.from_pandas(
        adult_log[["label", "prediction", "score", "sex", "race"]], preserve_index=False
    )
    assert plain_arrow(table, ["label", "prediction", "sex", "race"], numeric=["score"])
    result = run_fairness(
        table, label="label", prediction="prediction", scores="score", sensitive=["sex", "race"],
        min_group_size=1, n_resamples=50,
    )  # fmt: skip
    y, p, s = adult_log["label"].to_numpy(), adult_log["prediction"].to_numpy(), adult_log["score"].to_numpy()
    check_segment(result, "sex", y, p, adult_log["sex"], s)
    check_segment(result, "race", y, p, adult_log["race"], s)
    check_segment(result, "sex&race", y, p, adult_log[["sex", "race"]])
    for comparison, expected in fairlearn_comparisons(y, p, adult_log["race"]).items():
        assert same(result.segment("race").comparison(comparison).value, expected), comparison


def _rows(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n).astype(float)
    label[rng.random(n) < 0.1] = np.nan  # unlabelled production rows
    region = rng.choice(["north", "south", "Unknown", "östra"], n).astype(object)
    region[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "label": pd.array(np.where(np.isnan(label), None, label), dtype="Int64"),
            "prediction": rng.integers(0, 2, n),
            "score": rng.random(n),
            "region": region,
            "tier": rng.integers(1, 4, n),
            "flag": rng.random(n) < 0.3,
            "size": rng.choice([0.5, 1.5, 2.25], n),
            "verdict": rng.choice(["approve", "deny"], n),
            "advice": rng.choice(["approve", "deny"], n),
        }
    )


@pytest.mark.parametrize(
    ("outcomes", "positive"), [(("label", "prediction"), None), (("verdict", "advice"), "approve")]
)
def test_every_plain_column_type_gives_what_pandas_gives(outcomes, positive):
    frame = _rows()
    # As the importer stores a log: Arrow types, no pandas metadata (to_pandas then reads a label
    # with gaps as floats with NaN, as the analyses were always given it).
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    label, prediction = outcomes
    assert plain_arrow(table, [label, prediction, "region", "tier", "flag", "size"], numeric=["score"])
    asked = dict(
        label=label, prediction=prediction, scores="score", positive_label=positive,
        sensitive=["region", "tier", "flag", "size"], intersections=[("region", "flag")],
        min_group_size=5, n_resamples=20,
    )  # fmt: skip
    from_arrow = run_fairness(table, **asked).to_dict()
    from_pandas = run_fairness(table.to_pandas(), **asked).to_dict()  # the DataFrame analyses were given
    assert from_arrow == from_pandas
    region = {g["group"]: g["count"] for g in from_arrow["segments"][0]["groups"]}
    assert region == {  # counted by hand from the rows: "Unknown" the category, "Unknown (missing)" the gaps
        **frame["region"].value_counts().to_dict(),
        "Unknown (missing)": int(frame["region"].isna().sum()),
    }


def test_an_arrow_log_missing_an_outcome_is_named_like_a_frame():
    frame = _rows()
    frame.loc[7, "prediction"] = None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pytest.raises(InputError) as error:
        run_fairness(table, label="label", prediction="prediction", sensitive=["region"], n_resamples=0)
    assert error.value.row == 8 and error.value.column == "prediction"
    assert "1 rows have no value" in str(error.value)


def test_what_the_arrow_columns_hand_over_can_be_written_to_like_pandas_arrays():
    table = pa.Table.from_pandas(_rows(), preserve_index=False).replace_schema_metadata(None)
    for values in (floats(table["score"]), floats(table["label"]), missing(table["region"])):
        values[:1] = values[1:2]  # a read-only Arrow buffer would raise here
