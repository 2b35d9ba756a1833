"""A real credit team's export, imported as it is: the importer reads it as a person reading the file would.

Every expectation is written down by hand from the file's text (``tests/team_export.py``): the first
decision was on 3 April 2026 at 07:45, ``Approved`` means ``Repaid``, and ``Female``/``female`` differ
only in case. Nothing here is compared with the importer's own earlier output.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from signoff.cli.main import SETTING_FLAGS
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import ColumnMapping, LogRejectedError
from signoff.importers.column_guess import propose_mapping
from signoff.importers.prediction_log import LogReadOptions, canonicalise_log, read_canonical_log
from signoff.importers.timestamp_formats import EPOCH_MILLISECONDS
from team_export import FIRST_TIME, SECOND_TIME, write_team_export

MAPPING = ColumnMapping(
    id="Application_ID",
    timestamp="Decision Date",
    label="Actual_Outcome",
    prediction="Model_Decision",
    scores=("Model_Score",),
    sensitive=("Gender", "Ethnicity"),
    features=("Age", "Annual Income", "Loan_Amount", "CreditScore"),
)
MEANING = (("Approved", "Repaid"), ("Declined", "Defaulted"))


def _import(path: Path, tmp_path: Path, **changes):
    mapping = dataclasses.replace(
        MAPPING, **{"prediction_map": MEANING, "positive_label": "Repaid", **changes}
    )
    return canonicalise_log(path, mapping, work_dir=tmp_path / "work")


def test_the_team_export_imports_as_a_person_reads_it(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    assert export.frame["Decision Date"].iloc[:2].tolist() == ["03/04/2026 07:45", "20/04/2026 03:02"]

    result = _import(export.path, tmp_path)

    frame = read_canonical_log(result.parquet_path)
    assert frame["Decision Date"].iloc[0].to_pydatetime() == datetime(2026, 4, 3, 7, 45, tzinfo=UTC)
    assert frame["Decision Date"].iloc[1].to_pydatetime() == datetime(2026, 4, 20, 3, 2, tzinfo=UTC)
    assert result.mapping.timestamp_format == "%d/%m/%Y %H:%M"
    assert any("day first: '20/04/2026 03:02'" in note for note in result.validation.notes)
    # The prediction speaks the label's words now; the mapping says so.
    written = export.frame["Model_Decision"].map(dict(MEANING))
    assert frame["Model_Decision"].tolist() == written.tolist()
    assert result.mapping.prediction_map == MEANING and result.mapping.positive_label == "Repaid"
    assert result.validation.label_domain == ("Defaulted", "Repaid")
    # Unlabelled rows are kept and counted, not refused.
    assert result.rows == 400 and result.validation.rows_unlabelled == 40
    assert int(frame["Actual_Outcome"].isna().sum()) == 40
    # The spelling is a warning with both counts, never merged.
    females = int((export.frame["Gender"] == "Female").sum())
    lower = int((export.frame["Gender"] == "female").sum())
    (warning,) = result.validation.warnings
    assert warning.check == "category_spelling" and warning.column == "Gender"
    assert f"Gender: 'Female' ({females:,}) and 'female' ({lower:,}) differ only in case" in warning.message
    assert warning.count == lower
    assert sorted(frame["Gender"].unique()) == ["Female", "Male", "female"]


def test_the_category_map_merges_the_spellings_and_is_recorded(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    result = _import(export.path, tmp_path, category_map=(("Gender", "female", "Female"),))
    frame = read_canonical_log(result.parquet_path)
    assert sorted(frame["Gender"].unique()) == ["Female", "Male"]
    assert int((frame["Gender"] == "Female").sum()) == int(
        export.frame["Gender"].str.lower().eq("female").sum()
    )
    assert result.validation.warnings == ()
    assert "Gender: 'female' counted as 'Female'" in result.mapping.interpretations()


@pytest.mark.parametrize(
    ("dates", "spelling", "expected_format", "warning"),
    [
        ("month_first", "space", "%m/%d/%Y %H:%M", "differ only in surrounding space"),
        ("epoch_ms", "unicode", EPOCH_MILLISECONDS, "differ only in Unicode normalisation"),
    ],
)
def test_variants_month_first_and_epoch_milliseconds(tmp_path, dates, spelling, expected_format, warning):
    export = write_team_export(tmp_path / "variant.csv", dates=dates, spelling=spelling, seed=11)
    result = _import(export.path, tmp_path)
    frame = read_canonical_log(result.parquet_path)
    assert frame["Decision Date"].iloc[0].to_pydatetime() == FIRST_TIME
    assert frame["Decision Date"].iloc[1].to_pydatetime() == SECOND_TIME
    assert result.mapping.timestamp_format == expected_format
    (found,) = result.validation.warnings
    assert found.column == export.spelling_column and warning in found.message
    odd = int((export.frame[export.spelling_column] == export.odd_spelling).sum())
    assert found.count == odd and f"{export.odd_spelling!r} ({odd:,})" in found.message


def test_only_ambiguous_dates_are_refused_until_the_format_is_stated(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    frame = export.frame.copy()
    frame["Decision Date"] = ["03/04/2026 07:45", "04/03/2026 10:00"] * 200  # no day above 12
    frame.to_csv(export.path, index=False)
    with pytest.raises(InputError) as caught:
        _import(export.path, tmp_path)
    message = str(caught.value)
    # Below the CLI the setting is named by its concept; the CLI names its flag.
    assert "reads both day first and month first" in message and "(date format)" in message
    assert "(--date-format)" in caught.value.text_naming(SETTING_FLAGS)
    assert caught.value.column == "Decision Date"
    assert not (tmp_path / "work").exists() or not list((tmp_path / "work").iterdir())

    stated = _import(export.path, tmp_path, timestamp_format="%m/%d/%Y %H:%M")
    first = read_canonical_log(stated.parquet_path)["Decision Date"].iloc[0].to_pydatetime()
    assert first == datetime(2026, 3, 4, 7, 45, tzinfo=UTC)  # month first, as stated


def test_errors_read_like_a_colleagues_note(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    frame = export.frame.copy()
    frame.loc[4, "Decision Date"] = "31/02/2026 09:00"  # no 31st of February
    frame.to_csv(export.path, index=False)
    with pytest.raises(LogRejectedError) as caught:
        canonicalise_log(export.path, MAPPING, work_dir=tmp_path / "work")  # no prediction map
    lines = str(caught.value).splitlines()
    assert lines[1] == (
        "- row 1, column 'Model_Decision': 'Declined' is not one of the label classes (and 399 more rows: "
        "2, 3, 4, 5, 6, ...). The predictions ('Approved', 'Declined') use other words than the labels "
        "('Defaulted', 'Repaid'): say which prediction means which label (prediction map: Approved=<label> "
        "Declined=<label>)."
    )
    assert "(--prediction-map Approved=<label> Declined=<label>)." in caught.value.text_naming(SETTING_FLAGS)
    assert lines[2].startswith(
        "- row 5, column 'Decision Date': '31/02/2026 09:00' is not a timestamp in the form %d/%m/%Y %H:%M."
    )
    assert "state the date format if the column is written another way (date format: e.g." in lines[2]


def test_a_favourable_label_that_is_not_a_label_is_refused(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    with pytest.raises(InputError, match=r"'Approved' is not one of the label values 'Defaulted', 'Repaid'"):
        _import(export.path, tmp_path, positive_label="Approved")


def test_the_guess_proposes_what_a_person_would_map(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    proposal = propose_mapping(export.path)
    guess = proposal.guess
    assert (guess.id, guess.timestamp) == ("Application_ID", "Decision Date")
    assert (guess.label, guess.prediction, guess.scores) == (
        "Actual_Outcome",
        "Model_Decision",
        ("Model_Score",),
    )
    assert {"Gender", "Ethnicity"} <= set(guess.sensitive)
    assert "CreditScore" in guess.features and "Model_Score" not in guess.features
    assert proposal.timestamp_format == "%d/%m/%Y %H:%M"
    assert proposal.prediction_map_needed
    assert proposal.prediction_values == ("Approved", "Declined")
    # The preview is the importer's reading: a Parquet file named .pq is Parquet, not CSV.
    parquet = tmp_path / "credit.pq"
    pd.read_csv(export.path, dtype=str, keep_default_na=False).to_parquet(parquet)
    assert propose_mapping(parquet).preview["Decision Date"].iloc[0] == "03/04/2026 07:45"


def test_every_role_clash_is_named_at_once(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    mapping = dataclasses.replace(MAPPING, id="Age", timestamp="CreditScore")
    with pytest.raises(InputError) as caught:
        canonicalise_log(export.path, mapping, work_dir=tmp_path / "work")
    message = str(caught.value)
    assert (
        "columns are mapped to two roles: 'Age' as id and as feature; 'CreditScore' as timestamp" in message
    )


def test_merging_spellings_writes_the_merges_into_the_mapping(tmp_path: Path):
    export = write_team_export(tmp_path / "credit.csv")
    mapping = dataclasses.replace(MAPPING, prediction_map=MEANING, positive_label="Repaid")
    result = canonicalise_log(
        export.path, mapping, work_dir=tmp_path / "work", options=LogReadOptions(merge_spellings=True)
    )
    assert result.mapping.category_map == (("Gender", "female", "Female"),)
    assert result.validation.warnings == ()
    frame = read_canonical_log(result.parquet_path)
    assert int((frame["Gender"] == "Female").sum()) == int(
        export.frame["Gender"].str.lower().eq("female").sum()
    )
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [result.parquet_path.name]  # no leftovers
