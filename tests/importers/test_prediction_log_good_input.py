"""Valid prediction logs in every format and encoding become the same canonical Parquet.

The frames built in ``logfiles`` are the oracle: what comes back from ``read_canonical_log`` is compared
with them, and counts in reports with counts pandas computes on the same frame.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from logfiles import MAPPING, arrow_table, csv_text, valid_frame, write_csv, write_jsonl, write_parquet

from signoff.domain.prediction_log import ColumnMapping, LogRejectedError, ValidationReport
from signoff.importers.log_formats import CSV_BLOCK_BYTES
from signoff.importers.log_writing import ROW_GROUP_ROWS
from signoff.importers.prediction_log import (
    CanonicalLog,
    LogReadOptions,
    canonicalise_log,
    read_canonical_log,
)


def canon(path: Path, mapping: ColumnMapping = MAPPING, **options) -> CanonicalLog:
    return canonicalise_log(path, mapping, work_dir=path.parent / "work", options=LogReadOptions(**options))


def assert_same_log(result: CanonicalLog, frame: pd.DataFrame) -> None:
    """The canonical log holds exactly the frame's values, in mapping order, plus source_row."""
    back = read_canonical_log(result.parquet_path)
    assert list(back.columns) == [*MAPPING.mapped_columns(), "source_row"]
    assert back["source_row"].tolist() == list(range(1, len(frame) + 1))
    assert back["id"].tolist() == frame["id"].tolist()
    assert back["ts"].tolist() == frame["ts"].tolist()
    assert back["label"].tolist() == frame["label"].tolist()
    assert back["pred"].tolist() == frame["pred"].tolist()
    assert back["score"].tolist() == frame["score"].tolist()
    assert back["x"].tolist() == frame["x"].tolist()
    assert back["n"].tolist() == frame["n"].tolist()
    expected_groups = [None if pd.isna(g) else g for g in frame["group"]]
    assert [None if pd.isna(g) else g for g in back["group"]] == expected_groups


@pytest.fixture
def frame() -> pd.DataFrame:
    return valid_frame(40)


def test_csv_parquet_and_json_lines_give_the_same_evidence(tmp_path: Path, frame: pd.DataFrame):
    results = {
        "csv": canon(write_csv(tmp_path / "log.csv", frame)),
        "parquet": canon(write_parquet(tmp_path / "log.parquet", frame)),
        "jsonl": canon(write_jsonl(tmp_path / "log.jsonl", frame)),
        "ndjson": canon(write_jsonl(tmp_path / "log.ndjson", frame)),
    }
    for result in results.values():
        assert_same_log(result, frame)
        assert result.rows == 40
        assert result.validation.ok
        assert result.validation.rows_read == result.validation.rows_kept == 40
    assert len({r.sha256 for r in results.values()}) == 1


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _repeated_unmapped_header(frame: pd.DataFrame) -> bytes:
    return csv_text(frame.assign(a=1, b=2)).replace(",a,b\n", ",extra,extra\n", 1).encode()


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("bom.csv", lambda p, f: write_csv(p, f, bom=True)),
        ("semicolon.csv", lambda p, f: write_csv(p, f, sep=";")),  # with decimal commas
        ("tabs.tsv", lambda p, f: write_csv(p, f, sep="\t")),
        ("tabs.txt", lambda p, f: write_csv(p, f, sep="\t")),
        ("pipes.csv", lambda p, f: write_csv(p, f, sep="|")),
        ("crlf.csv", lambda p, f: _bytes(p, csv_text(f).replace("\n", "\r\n").encode())),
        ("blank-first.csv", lambda p, f: _bytes(p, b"\n\n" + csv_text(f).encode())),
        ("unmapped-repeats.csv", lambda p, f: _bytes(p, _repeated_unmapped_header(f))),
    ],
)
def test_csv_dialects_are_sniffed_and_give_the_same_evidence(
    tmp_path: Path, frame: pd.DataFrame, name, write
):
    plain = canon(write_csv(tmp_path / "plain.csv", frame))
    variant = canon(write(tmp_path / name, frame))
    assert_same_log(variant, frame)
    assert variant.sha256 == plain.sha256
    assert variant.source_sha256 != plain.source_sha256


def test_a_semicolon_file_reads_decimal_commas(tmp_path: Path, frame: pd.DataFrame):
    path = write_csv(tmp_path / "eu.csv", frame, sep=";")
    assert "0," in path.read_text()  # the oracle file really uses decimal commas
    assert_same_log(canon(path), frame)


def test_latin1_file_read_as_latin1_matches_the_utf8_file(tmp_path: Path):
    frame = valid_frame(20)
    frame["group"] = np.where(np.arange(20) % 2, "Zoë", "Renée")
    utf8 = canon(write_csv(tmp_path / "utf8.csv", frame))
    latin = canon(write_csv(tmp_path / "latin.csv", frame, encoding="latin-1"), encoding="latin-1")
    assert read_canonical_log(latin.parquet_path)["group"].tolist()[:2] == ["Renée", "Zoë"]
    assert latin.sha256 == utf8.sha256
    # The same Latin-1 file read as JSON Lines, too.
    jsonl = tmp_path / "latin.jsonl"
    write_jsonl(jsonl, frame)
    jsonl.write_bytes(jsonl.read_text(encoding="utf-8").encode("latin-1"))
    assert canon(jsonl, encoding="latin-1").sha256 == utf8.sha256


def test_names_outside_latin1_survive(tmp_path: Path):
    frame = valid_frame(8)
    frame["group"] = ["Zoë Łukasz", "Ñúñez", "Ødegård", "李", "Zoë Łukasz", "a", "b", None]
    result = canon(write_csv(tmp_path / "names.csv", frame))
    groups = read_canonical_log(result.parquet_path)["group"].tolist()
    assert groups[:7] == ["Zoë Łukasz", "Ñúñez", "Ødegård", "李", "Zoë Łukasz", "a", "b"]
    assert pd.isna(groups[7])


def test_same_bytes_give_byte_identical_parquet(tmp_path: Path):
    frame = valid_frame(300)
    path = write_csv(tmp_path / "log.csv", frame)
    first = canonicalise_log(path, MAPPING, work_dir=tmp_path / "one")
    second = canonicalise_log(path, MAPPING, work_dir=tmp_path / "two")
    assert first.parquet_path.read_bytes() == second.parquet_path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.parquet_path.read_bytes()).hexdigest()
    assert first.parquet_path.name == f"{first.sha256}.parquet"
    assert first.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.source_name == "log.csv"
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [first.parquet_path.name]


def test_canonical_parquet_has_fixed_types_and_no_statistics(tmp_path: Path, frame: pd.DataFrame):
    result = canon(write_csv(tmp_path / "log.csv", frame))
    schema = pq.read_schema(result.parquet_path)
    assert schema.names == [*MAPPING.mapped_columns(), "source_row"]
    assert schema.field("id").type == pa.string()
    assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert schema.field("label").type == pa.int64()
    assert schema.field("pred").type == pa.int64()
    assert schema.field("score").type == pa.float64()
    assert schema.field("group").type == pa.string()
    assert schema.field("x").type == pa.float64()
    assert schema.field("n").type == pa.int64()
    assert schema.field("source_row").type == pa.int64()
    metadata = pq.ParquetFile(result.parquet_path).metadata
    column = metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert not column.is_stats_set


def test_read_canonical_log_from_bytes_equals_from_path(tmp_path: Path, frame: pd.DataFrame):
    result = canon(write_csv(tmp_path / "log.csv", frame))
    by_path = read_canonical_log(result.parquet_path)
    by_bytes = read_canonical_log(result.parquet_path.read_bytes())
    pd.testing.assert_frame_equal(by_path, by_bytes)


def test_period_is_the_first_and_last_timestamp_of_the_kept_rows(tmp_path: Path):
    frame = valid_frame(30).sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.loc[4, "score"] = 3.0  # quarantined: its timestamp must not count
    result = canon(write_csv(tmp_path / "log.csv", frame), quarantine_invalid=True)
    kept = frame.drop(index=4)
    assert result.period_start == kept["ts"].min().to_pydatetime()
    assert result.period_end == kept["ts"].max().to_pydatetime()
    assert result.period_start.tzinfo is not None and result.period_start.utcoffset().total_seconds() == 0


def test_no_timestamp_column_means_no_period(tmp_path: Path, frame: pd.DataFrame):
    result = canon(write_csv(tmp_path / "log.csv", frame), replace(MAPPING, timestamp=None))
    assert result.period_start is None and result.period_end is None


def test_timestamps_with_offsets_are_stored_in_utc_and_naive_ones_noted(tmp_path: Path):
    text = (
        "id,ts,label,pred\n"
        "a,2024-05-01T12:00:00+02:00,0,0\n"
        "b,2024-05-01 11:30:00,1,1\n"
        "c,2024-05-01T09:15:00.250Z,1,0\n"
        "d,2024-05-02,0,1\n"
    )
    path = tmp_path / "tz.csv"
    path.write_text(text)
    result = canon(path, ColumnMapping(label="label", prediction="pred", id="id", timestamp="ts"))
    back = read_canonical_log(result.parquet_path)
    expected = pd.to_datetime(
        ["2024-05-01T10:00:00Z", "2024-05-01T11:30:00Z", "2024-05-01T09:15:00.250Z", "2024-05-02T00:00:00Z"],
        format="ISO8601",
    )
    assert back["ts"].tolist() == expected.tolist()
    assert result.period_start == datetime(2024, 5, 1, 9, 15, 0, 250000, tzinfo=UTC)
    assert any("read as UTC" in note for note in result.validation.notes)


def test_quarantine_keeps_valid_rows_and_records_the_rest(tmp_path: Path):
    frame = valid_frame(200, seed=5).astype({"score": object, "label": object, "pred": object, "id": object})
    rng = np.random.default_rng(9)
    bad_score = rng.choice(200, 15, replace=False)
    frame.loc[bad_score[:5], "score"] = "NaN"
    frame.loc[bad_score[5:10], "score"] = 1.25
    frame.loc[bad_score[10:], "score"] = "oops"
    frame.loc[[3, 77], "label"] = ""
    frame.loc[[50, 120], "pred"] = 5
    frame.loc[[90, 140], "id"] = frame.loc[10, "id"]
    path = tmp_path / "mixed.csv"
    path.write_text(csv_text(frame))

    result = canon(path, quarantine_invalid=True)

    # Oracle: the invalid rows, worked out with pandas from the frame itself (0-based -> 1-based rows).
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    score = pd.to_numeric(raw["score"], errors="coerce")
    bad = (
        score.isna()
        | (score < 0)
        | (score > 1)
        | ~raw["pred"].isin(["0", "1"])
        | raw["id"].duplicated(keep="first")
    )
    expected_rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())]
    assert len(expected_rows) == 21 - int((raw["label"].eq("") & ~bad).sum())
    unlabelled = int(raw["label"].eq("").sum())

    report = result.validation
    assert report.rows_read == 200
    assert report.rows_kept == 200 - len(expected_rows) == result.rows
    assert report.rows_quarantined == len(expected_rows)
    counts = {(i.check, i.column): i.count for i in report.issues}
    assert counts == {
        ("missing", "score"): 5,
        ("invalid_number", "score"): 5,
        ("score_range", "score"): 5,
        ("prediction_domain", "pred"): 2,
        ("duplicate_id", "id"): 2,
    }
    kept = read_canonical_log(result.parquet_path)
    assert sorted(set(range(1, 201)) - set(kept["source_row"])) == expected_rows
    quarantined = read_canonical_log(result.quarantine_path)
    assert quarantined["source_row"].tolist() == expected_rows
    assert result.quarantine_sha256 == hashlib.sha256(result.quarantine_path.read_bytes()).hexdigest()
    reasons = dict(zip(quarantined["source_row"], quarantined["reason"], strict=True))
    assert reasons[91] == f"id: '{frame.loc[10, 'id']}' repeats the id of row 11"
    assert reasons[51] == "pred: '5' is not one of the label classes"
    assert 4 not in reasons  # an empty label is a row whose outcome is not known yet: kept
    assert report.rows_unlabelled == unlabelled == 2
    assert reasons[int(bad_score[12]) + 1] == "score: 'oops' is not a number"
    assert reasons[int(bad_score[7]) + 1] == "score: '1.25' is outside [0, 1]"
    # The quarantine file keeps the label and prediction as given, since they may be unusable.
    assert quarantined.loc[quarantined["source_row"] == 51, "pred"].tolist() == ["5"]


def test_a_row_with_several_problems_gets_all_its_reasons(tmp_path: Path):
    path = tmp_path / "multi.csv"
    path.write_text("id,ts,label,pred,score\na,2024-01-01,0,1,0.5\na,someday,1,7,2\nb,2024-01-02,1,1,0.1\n")
    mapping = ColumnMapping(label="label", prediction="pred", scores=("score",), id="id", timestamp="ts")
    result = canon(path, mapping, quarantine_invalid=True)
    quarantined = read_canonical_log(result.quarantine_path)
    assert quarantined["reason"].tolist() == [
        "ts: 'someday' is not an ISO 8601 timestamp; score: '2' is outside [0, 1]; "
        "pred: '7' is not one of the label classes; id: 'a' repeats the id of row 1"
    ]


def test_missing_sensitive_values_are_kept_as_null_not_invalid(tmp_path: Path):
    frame = valid_frame(10)
    frame["group"] = ["a", None, "b", None, "a", "", "b", "a", None, "b"]
    result = canon(write_csv(tmp_path / "log.csv", frame))
    assert result.validation.ok and result.rows == 10
    back = read_canonical_log(result.parquet_path)
    assert back["group"].isna().tolist() == [False, True, False, True, False, True, False, False, True, False]


@pytest.mark.parametrize(
    ("labels", "predictions", "task", "domain", "arrow_type"),
    [
        (["0", "1"], ["1", "0"], "binary", ("0", "1"), pa.int64()),
        (["0", "0"], ["1", "0"], "binary", ("0", "1"), pa.int64()),  # one class seen: still 0/1
        (["yes", "no"], ["no", "no"], "binary", ("no", "yes"), pa.string()),
        (["True", "false"], ["true", "FALSE"], "binary", ("false", "true"), pa.bool_()),
        (["cat", "dog", "bird"], ["dog", "dog", "cat"], "multiclass", ("bird", "cat", "dog"), pa.string()),
        (["1", "2", "3.0"], ["3", "2", "1"], "multiclass", ("1", "2", "3"), pa.int64()),
        (["1.5", "2.25", "3"], ["1.4", "2", "3.5"], "regression", (), pa.float64()),
    ],
)
def test_the_task_and_label_classes_follow_from_the_label(
    tmp_path, labels, predictions, task, domain, arrow_type
):
    path = tmp_path / "task.csv"
    rows = [f"{i},{y},{p}" for i, (y, p) in enumerate(zip(labels * 4, predictions * 4, strict=True))]
    path.write_text("id,label,pred\n" + "\n".join(rows) + "\n")
    result = canon(path, ColumnMapping(label="label", prediction="pred", id="id"))
    assert result.validation.task == task
    assert result.validation.label_domain == domain
    assert pq.read_schema(result.parquet_path).field("label").type == arrow_type
    assert result.rows == len(rows)


def test_many_numeric_label_values_make_a_regression_log(tmp_path: Path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"y": rng.integers(0, 500, 300), "p": rng.normal(250, 50, 300).round(3)})
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    result = canon(path, ColumnMapping(label="y", prediction="p"))
    assert result.validation.task == "regression"
    back = read_canonical_log(result.parquet_path)
    assert back["y"].tolist() == frame["y"].astype(float).tolist()
    assert back["p"].tolist() == frame["p"].tolist()


def test_the_task_can_be_named(tmp_path: Path):
    path = tmp_path / "counts.csv"
    path.write_text("y,p\n" + "\n".join(f"{i % 5},{(i * 7) % 5}.5" for i in range(50)) + "\n")
    result = canon(path, ColumnMapping(label="y", prediction="p"), task="regression")
    assert result.validation.task == "regression"
    with pytest.raises(LogRejectedError) as caught:  # as classes, 0.5-style predictions match no class
        canon(path, ColumnMapping(label="y", prediction="p"))
    assert caught.value.report.task == "multiclass"


def test_duplicate_ids_in_a_long_file_are_found_across_blocks(tmp_path: Path):
    frame = valid_frame(120_000, seed=1)
    frame.loc[119_990, "id"] = frame.loc[7, "id"]
    path = write_csv(tmp_path / "long.csv", frame)
    assert path.stat().st_size > CSV_BLOCK_BYTES  # more than one CSV block
    with pytest.raises(LogRejectedError) as caught:
        canon(path)
    (issue,) = caught.value.report.issues
    assert (issue.check, issue.rows) == ("duplicate_id", (119_991,))


def test_long_log_is_written_in_fixed_row_groups(tmp_path: Path):
    frame = valid_frame(ROW_GROUP_ROWS + 1000, seed=2)
    path = write_parquet(tmp_path / "long.parquet", frame)
    result = canon(path)
    metadata = pq.ParquetFile(result.parquet_path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [ROW_GROUP_ROWS, 1000]
    back = read_canonical_log(result.parquet_path)
    assert back["source_row"].tolist() == list(range(1, len(frame) + 1))
    assert back["id"].iloc[-1] == frame["id"].iloc[-1]


def test_a_feature_mixing_numbers_and_text_is_text_with_a_note(tmp_path: Path):
    frame = valid_frame(30)
    frame["x"] = frame["x"].astype(object)
    frame.loc[25, "x"] = "n/a-ish"
    result = canon(write_csv(tmp_path / "mixed.csv", frame))
    assert pq.read_schema(result.parquet_path).field("x").type == pa.string()
    assert any("feature 'x'" in note and "row 26" in note for note in result.validation.notes)
    back = read_canonical_log(result.parquet_path)
    assert back["x"].iloc[25] == "n/a-ish"


def test_a_sensitive_attribute_may_also_be_a_feature(tmp_path: Path, frame: pd.DataFrame):
    mapping = replace(MAPPING, sensitive=("group", "n"))
    result = canon(write_csv(tmp_path / "log.csv", frame), mapping)
    assert pq.read_schema(result.parquet_path).field("n").type == pa.int64()  # the feature's type wins


def test_parquet_dictionary_and_large_string_columns_are_read(tmp_path: Path, frame: pd.DataFrame):
    table = arrow_table(frame)
    table = table.set_column(
        table.schema.get_field_index("group"), "group", table["group"].dictionary_encode()
    )
    table = table.set_column(table.schema.get_field_index("id"), "id", table["id"].cast(pa.large_string()))
    pq.write_table(table, tmp_path / "dict.parquet")
    plain = canon(write_csv(tmp_path / "log.csv", frame))
    assert canon(tmp_path / "dict.parquet").sha256 == plain.sha256


def test_parquet_nan_score_is_invalid(tmp_path: Path, frame: pd.DataFrame):
    frame.loc[3, "score"] = np.nan
    frame.loc[9, "score"] = np.inf
    with pytest.raises(LogRejectedError) as caught:
        canon(write_parquet(tmp_path / "nan.parquet", frame))
    (issue,) = caught.value.report.issues
    assert (issue.check, issue.column, issue.rows) == ("non_finite", "score", (4, 10))


def test_progress_reports_bytes_up_to_the_total(tmp_path: Path):
    path = write_csv(tmp_path / "log.csv", valid_frame(2000))
    calls: list[tuple[int, int]] = []
    canonicalise_log(path, MAPPING, work_dir=tmp_path / "work", progress=lambda d, t: calls.append((d, t)))
    size = path.stat().st_size
    assert calls[-1] == (size, size)
    assert all(total == size for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)


def test_an_exception_from_progress_cancels_and_leaves_nothing(tmp_path: Path):
    path = write_csv(tmp_path / "log.csv", valid_frame(100))

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        canonicalise_log(path, MAPPING, work_dir=tmp_path / "work", progress=cancel)
    assert not (tmp_path / "work").exists()


def test_the_work_folder_keeps_other_files(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "other.txt").write_text("keep me")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label,pred\n1,0,1\n2,1\n")
    with pytest.raises(Exception, match="row 2"):
        canonicalise_log(bad, ColumnMapping(label="label", prediction="pred"), work_dir=work)
    assert [p.name for p in work.iterdir()] == ["other.txt"]


def test_report_round_trips_through_json(tmp_path: Path):
    path = tmp_path / "q.csv"
    path.write_text("id,label,pred\na,0,1\nb,1,9\nc,1,1\n")
    result = canon(path, ColumnMapping(label="label", prediction="pred", id="id"), quarantine_invalid=True)
    report = result.validation
    assert ValidationReport.from_dict(report.to_dict()) == report
    assert report.to_dict()["rows_quarantined"] == 1


@pytest.mark.parametrize(
    ("twist", "replans"),
    [
        ("nothing", False),
        ("a label class first seen in the second batch", True),
        ("a fractional value in an integer feature, late", True),
        ("text in a numeric feature, late", True),
        ("a repeated id", True),
    ],
)
def test_one_pass_and_two_passes_give_the_same_bytes(tmp_path: Path, monkeypatch, twist: str, replans: bool):
    """The one-pass plan assumes from the first batch; when a later batch contradicts it, the import
    starts again with two passes. Either way the evidence must be the same bytes."""
    from signoff.importers import prediction_log as module
    from signoff.importers.log_formats import PARQUET_BATCH_ROWS

    n = PARQUET_BATCH_ROWS + 500
    late = n - 100  # in the second Parquet batch
    frame = valid_frame(n, seed=8).astype({"n": object, "x": object})
    if twist.startswith("a label class"):
        frame.loc[late, "label"] = 2
        frame.loc[5, "pred"] = 2  # valid only once class 2 is known
    elif twist.startswith("a fractional"):
        frame.loc[late, "n"] = 3.5
    elif twist.startswith("text"):
        frame.loc[late, "x"] = "unknown"
    elif twist == "a repeated id":
        frame.loc[late, "id"] = frame.loc[3, "id"]
    frame = frame.astype({"n": str, "x": str})  # as text, exactly as a CSV would hold them
    path = write_parquet(tmp_path / "log.parquet", frame)

    opened = []
    real_open = module.open_log_source
    monkeypatch.setattr(module, "open_log_source", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    options = LogReadOptions(quarantine_invalid=True)
    planned = canonicalise_log(path, MAPPING, work_dir=tmp_path / "planned", options=options)
    # One more opening reads the timestamp column to decide the form its values are written in.
    assert len(opened) == (3 if replans else 2)

    (tmp_path / "two").mkdir()
    forced = module._Import(
        path, MAPPING, tmp_path / "two", options, module._Progress(None), single_pass=False
    ).run()
    assert planned.sha256 == forced.sha256
    assert planned.quarantine_sha256 == forced.quarantine_sha256
    assert planned.validation == forced.validation
    assert planned.rows == n - (1 if twist == "a repeated id" else 0)


def test_parquet_native_types_bool_labels_and_float_labels_with_nan(tmp_path: Path):
    table = pa.table(
        {
            "y": pa.array([True, False, True, None]),
            "p": pa.array([True, True, False, False]),
            "when": pa.array([0, 1, 2, 3], pa.timestamp("s", tz="Europe/Paris")),
            "age": pa.array([31, 45, None, 28], pa.int32()),
            "d": pa.array([1.5, 2.5, 3.5, 4.5], pa.float32()),
        }
    )
    pq.write_table(table, tmp_path / "native.parquet")
    mapping = ColumnMapping(label="y", prediction="p", timestamp="when", sensitive=("age",), features=("d",))
    result = canon(tmp_path / "native.parquet", mapping)  # the missing label in row 4: unlabelled, kept
    assert result.validation.issues == () and result.validation.rows_unlabelled == 1
    schema = pq.read_schema(result.parquet_path)
    assert schema.field("y").type == pa.bool_() and schema.field("p").type == pa.bool_()
    assert schema.field("when").type == pa.timestamp("us", tz="UTC")
    assert schema.field("age").type == pa.string()  # a sensitive attribute is a group name
    assert schema.field("d").type == pa.float64()
    back = read_canonical_log(result.parquet_path)
    assert back["y"].tolist() == [True, False, True, None]
    assert back["age"].tolist()[:2] == ["31", "45"] and pd.isna(back["age"].iloc[2])
    assert result.period_start == datetime(1970, 1, 1, tzinfo=UTC)
    assert result.validation.label_domain == ("false", "true")

    floats = pa.table({"y": pa.array([0.0, 1.0, float("nan"), 1.0]), "p": pa.array([0, 1, 1, 1])})
    pq.write_table(floats, tmp_path / "floats.parquet")
    result = canon(
        tmp_path / "floats.parquet", ColumnMapping(label="y", prediction="p"), quarantine_invalid=True
    )
    assert result.validation.task == "binary"  # NaN is a missing label, not a fractional class
    assert result.validation.issues == () and result.validation.rows_unlabelled == 1
    assert read_canonical_log(result.parquet_path)["y"].tolist()[:2] == [0, 1]
    assert pd.isna(read_canonical_log(result.parquet_path)["y"].iloc[2])


def test_a_literal_quote_inside_an_unquoted_value_is_kept(tmp_path: Path):
    path = tmp_path / "inch.csv"
    path.write_text('id,label,pred,desc\na,0,1,24" monitor\nb,1,1,plain\n')
    result = canon(path, ColumnMapping(label="label", prediction="pred", id="id", features=("desc",)))
    assert read_canonical_log(result.parquet_path)["desc"].tolist() == ['24" monitor', "plain"]
