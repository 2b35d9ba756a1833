"""Column profiles against pandas' own summaries (an independent computation of the same numbers)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from signoff.analysis.profiles import profile_log
from signoff.domain.canonical import canonical_json
from signoff.domain.prediction_log import ValidationIssue, ValidationReport
from signoff.domain.profiles import PROFILE_QUANTILES, ColumnKind, LogProfile
from signoff.domain.validation import ValidationAnalysis


@pytest.fixture
def log() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 1_000
    score = rng.beta(2, 5, n)
    score[rng.choice(n, 37, replace=False)] = np.nan
    sex = rng.choice(["Female", "Male", "Non-binary"], n, p=[0.45, 0.5, 0.05]).astype(object)
    sex[:12] = None
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "score": score,
            "sex": sex,
            "approved": rng.random(n) < 0.3,
            "age": pd.array(rng.integers(18, 90, n), dtype="Int64"),
        }
    )


def test_numeric_profile_equals_pandas(log):
    profile = profile_log(log)
    score = profile.column("score")
    present = log["score"].dropna()
    assert score.kind is ColumnKind.NUMERIC
    assert score.rows == 1000
    assert score.missing == 37
    assert score.missing_share == pytest.approx(0.037)
    assert score.distinct == present.nunique()
    assert score.minimum == present.min() and score.maximum == present.max()
    assert score.mean == pytest.approx(present.mean(), abs=1e-15)
    assert score.std == pytest.approx(present.std(), abs=1e-15)  # pandas: ddof=1
    assert [p for p, _ in score.quantiles] == list(PROFILE_QUANTILES)
    for p, value in score.quantiles:
        assert value == pytest.approx(present.quantile(p), abs=1e-15)
    age = profile.column("age")
    assert age.kind is ColumnKind.NUMERIC
    assert age.quantile(0.5) == pytest.approx(float(log["age"].median()))


def test_categorical_profile_counts_and_ranks_values(log):
    profile = profile_log(log, top=2)
    sex = profile.column("sex")
    counts = log["sex"].value_counts()
    assert sex.kind is ColumnKind.CATEGORICAL
    assert sex.missing == 12
    assert sex.distinct == 3
    assert [(c.value, c.count) for c in sex.top_categories] == [
        (counts.index[0], counts.iloc[0]),
        (counts.index[1], counts.iloc[1]),
    ]
    assert sex.top_categories[0].share == pytest.approx(counts.iloc[0] / 1000)
    assert sex.other_categories == counts.iloc[2]
    approved = profile.column("approved")
    assert approved.kind is ColumnKind.CATEGORICAL
    assert {c.value for c in approved.top_categories} == {"True", "False"}
    assert sum(c.count for c in approved.top_categories) == 1000


def test_timestamps_have_a_range(log):
    timestamp = profile_log(log).column("timestamp")
    assert timestamp.kind is ColumnKind.DATETIME
    assert timestamp.minimum == "2024-01-01T00:00:00+00:00"
    assert timestamp.maximum == log["timestamp"].max().isoformat()
    assert timestamp.quantiles == ()


def test_empty_and_infinite_columns():
    frame = pd.DataFrame(
        {"empty": [np.nan, np.nan, np.nan], "inf": [1.0, np.inf, 3.0], "text": [None, None, None]}
    )
    profile = profile_log(frame)
    empty = profile.column("empty")
    assert empty.missing == 3 and empty.distinct == 0 and empty.minimum is None and empty.quantiles == ()
    infinite = profile.column("inf")
    assert infinite.non_finite == 1
    assert (infinite.minimum, infinite.maximum, infinite.mean) == (1.0, 3.0, 2.0)
    text = profile.column("text")
    assert text.missing == 3 and text.top_categories == ()


def test_equal_counts_are_ordered_by_value_so_profiles_are_reproducible():
    frame = pd.DataFrame({"c": ["b", "a", "c", "a", "b", "c"]})
    shown = profile_log(frame).column("c").top_categories
    assert [c.value for c in shown] == ["a", "b", "c"]


def test_profile_is_plain_json_and_round_trips(log):
    profile = profile_log(log)
    assert LogProfile.from_dict(json.loads(canonical_json(profile.to_dict()))) == profile


def test_validation_analysis_observations_combine_the_import_report_and_the_profile(log):
    report = ValidationReport(
        rows_read=1010,
        rows_kept=1000,
        issues=(ValidationIssue("label_domain", "label", 10, (4, 9), "10 labels outside {0, 1}"),),
    )
    analysis = ValidationAnalysis(report=report, profile=profile_log(log))
    observed = {(o.metric, o.scope): o for o in analysis.observations()}
    assert observed[("validation.quarantined_share", "overall")].value == pytest.approx(10 / 1010)
    assert observed[("validation.rows", "overall")].value == 1000
    assert observed[("validation.missing_share", "score")].value == pytest.approx(log["score"].isna().mean())
    assert observed[("validation.missing_share", "sex")].value == pytest.approx(12 / 1000)
    assert ValidationAnalysis.from_dict(json.loads(canonical_json(analysis.to_dict()))) == analysis
