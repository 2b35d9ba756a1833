"""Properties of the log importer over generated logs (hypothesis).

1. Any valid log, written as CSV or Parquet, comes back from canonicalise + read_canonical_log with
   exactly its values, and both formats give the same canonical bytes.
2. Invalid values injected at random rows are quarantined exactly at those rows (the injection is the
   oracle), however many and wherever they are.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logfiles import write_parquet

from signoff.domain.prediction_log import ColumnMapping
from signoff.importers.log_columns import NULL_TOKENS
from signoff.importers.prediction_log import LogReadOptions, canonicalise_log, read_canonical_log

MAPPING = ColumnMapping(
    id="id", label="label", prediction="pred", scores=("score",), sensitive=("group",), features=("x", "k")
)

# Text that a CSV writer must quote (delimiters, quotes, line breaks) and letters outside ASCII.
_text = st.text(alphabet=st.sampled_from(list("abcXYZ éëŁł李,;|\"'\n")), min_size=1, max_size=12).filter(
    lambda s: s not in NULL_TOKENS and s.strip() == s and s.strip() != ""
)


@st.composite
def logs(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=40))
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    ids = draw(st.lists(_text, min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "id": ids,
            "label": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
            "pred": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
            "score": draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)),
            "group": pd.Series(draw(st.lists(st.none() | _text, min_size=n, max_size=n)), dtype=object),
            "x": draw(st.lists(finite, min_size=n, max_size=n)),
            "k": draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)),
        }
    )


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    # repr-precision floats, so the text holds exactly the double
    frame.to_csv(path, index=False, float_format=None, lineterminator="\n")
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=logs())
def test_valid_logs_round_trip_unchanged_from_csv_and_parquet(frame: pd.DataFrame):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        from_csv = canonicalise_log(_csv(folder / "log.csv", frame), MAPPING, work_dir=folder / "a")
        from_parquet = canonicalise_log(
            write_parquet(folder / "log.parquet", frame), MAPPING, work_dir=folder / "b"
        )
        assert from_csv.sha256 == from_parquet.sha256
        back = read_canonical_log(from_csv.parquet_path)
        assert back["source_row"].tolist() == list(range(1, len(frame) + 1))
        for column in ("id", "label", "pred", "score", "x", "k"):
            assert back[column].tolist() == frame[column].tolist(), column
        assert [None if pd.isna(g) else g for g in back["group"]] == frame["group"].tolist()


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=60),
    data=st.data(),
)
def test_injected_invalid_rows_are_exactly_the_quarantined_rows(n: int, data: st.DataObject):
    bad_rows = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1), label="bad rows")
    kinds = data.draw(
        st.lists(
            st.sampled_from(["nan", "inf", "big", "text", "nopred", "badpred"]),
            min_size=len(bad_rows),
            max_size=len(bad_rows),
        ),
        label="kinds",
    )
    rng = np.random.default_rng(n)
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "label": rng.integers(0, 2, n).astype(str).astype(object),
            "pred": rng.integers(0, 2, n).astype(str).astype(object),
            "score": np.round(rng.random(n), 4).astype(str).astype(object),
            "group": np.array(["a", "b"], dtype=object)[rng.integers(0, 2, n)],
            "x": rng.normal(size=n).round(3),
            "k": rng.integers(0, 9, n),
        }
    )
    frame.loc[0, "label"], frame.loc[0, "pred"] = "0", "0"  # both classes always present
    frame.loc[n - 1, "label"] = "1"
    if 0 in bad_rows:
        bad_rows = bad_rows - {0}
    replacement = {
        "nan": ("score", "NaN"),
        "inf": ("score", "inf"),
        "big": ("score", "1.01"),
        "text": ("score", "abc"),
        "nopred": ("pred", ""),  # an empty label is an unlabelled row, kept; an empty prediction is invalid
        "badpred": ("pred", "2"),
    }
    for row, kind in zip(sorted(bad_rows), kinds, strict=False):
        column, value = replacement[kind]
        if row == n - 1 and column == "label":
            column, value = "score", "-3"
        frame.loc[row, column] = value
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = canonicalise_log(
            _csv(folder / "log.csv", frame),
            MAPPING,
            work_dir=folder / "work",
            options=LogReadOptions(quarantine_invalid=True),
        )
        expected = sorted(r + 1 for r in bad_rows)
        assert result.validation.rows_quarantined == len(expected)
        assert result.rows == n - len(expected)
        if expected:
            assert read_canonical_log(result.quarantine_path)["source_row"].tolist() == expected
        else:
            assert result.quarantine_path is None
        kept = read_canonical_log(result.parquet_path)["source_row"].tolist()
        assert kept == [r for r in range(1, n + 1) if r not in expected]
