"""A corpus of bad prediction-log files: each must fail with the right error, naming the file (and the
row and column where they can be known), and leave nothing behind in the work folder.

Every file is generated here, so the expected row and column are known by construction.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from logfiles import MAPPING, arrow_table, csv_text, valid_frame, write_parquet

from signoff.cli.main import SETTING_FLAGS
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import ColumnMapping, LogRejectedError
from signoff.importers.prediction_log import LogReadOptions, canonicalise_log

HEADER = "id,ts,label,pred,score,group,x,n"
STRICT = LogReadOptions()


def good_line(i: int, **change: str) -> str:
    values = {
        "id": f"r{i}",
        "ts": f"2024-03-01T{i % 24:02d}:00:00Z",
        "label": str(i % 2),
        "pred": str((i // 2) % 2),
        "score": "0.25",
        "group": "a",
        "x": "1.5",
        "n": "7",
    }
    values.update(change)
    return ",".join(values[c] for c in HEADER.split(","))


def csv_with(bad: dict[int, dict[str, str]], rows: int = 8) -> bytes:
    """A valid CSV of ``rows`` data rows, with the given fields of the given (1-based) rows replaced."""
    lines = [HEADER] + [good_line(i, **bad.get(i, {})) for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    content: Callable[[Path], None] | bytes | None  # None: do not create the path
    error: type[InputError]
    row: int | None = None
    column: str | None = None
    fragment: str = ""
    mapping: ColumnMapping = MAPPING
    options: LogReadOptions = STRICT
    checks: tuple[tuple[str, str, tuple[int, ...]], ...] = ()  # (check, column, rows) for rejections


def _truncated_parquet(path: Path) -> None:
    write_parquet(path, valid_frame(50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _nested_parquet(path: Path) -> None:
    frame = valid_frame(5)
    table = arrow_table(frame)
    table = table.set_column(table.schema.get_field_index("group"), "group", pa.array([[1, 2]] * 5))
    pq.write_table(table, path)


def _empty_parquet(path: Path) -> None:
    write_parquet(path, valid_frame(5).iloc[:0])


def _huge_field(column: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        header = HEADER + ",notes"
        lines = [header]
        for i in range(1, 5):
            line = good_line(i) + ",ok"
            if i == 2:
                big = "z" * 10_000_000
                line = good_line(i, group=big) + ",ok" if column == "group" else good_line(i) + "," + big
            lines.append(line)
        path.write_text("\n".join(lines) + "\n")

    return build


def _binary_junk(path: Path) -> None:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _high_bytes(path: Path) -> None:
    path.write_bytes(bytes(np.random.default_rng(2).integers(0x80, 0x100, 4096, dtype=np.uint8)))


def _jsonl(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _record(i: int, **change: object) -> str:
    record: dict[str, object] = dict(zip(HEADER.split(","), good_line(i).split(","), strict=True))
    record.update(change)
    return json.dumps(record, ensure_ascii=False)


_free_text = "\n".join(
    [HEADER] + [good_line(i, label=f"customer {i} said it was fine") for i in range(1, 151)]
).encode()
_text_vs_numbers = csv_with({i: {"label": "yes" if i % 2 else "no"} for i in range(1, 9)})

CASES = [
    Case("empty file", "empty.csv", b"", InputError, fragment="empty"),
    Case("only blank lines", "blank.csv", b"\n\n   \n", InputError, fragment="empty"),
    Case("header only", "header.csv", (HEADER + "\n").encode(), InputError, fragment="no data rows"),
    Case(
        "ragged row (short)",
        "short.csv",
        csv_with({}).replace(good_line(3).encode(), good_line(3).rsplit(",", 2)[0].encode()),
        InputError,
        row=3,
        fragment="6 fields but the header has 8",
    ),
    Case(
        "ragged row (long)",
        "long.csv",
        csv_with({2: {"n": "7,extra"}}),
        InputError,
        row=2,
        fragment="9 fields",
    ),
    Case(
        "Latin-1 bytes read as UTF-8",
        "latin.csv",
        "\n".join([HEADER] + [good_line(i, group="Zoë" if i == 4 else "a") for i in range(1, 7)]).encode(
            "latin-1"
        ),
        InputError,
        row=4,
        column="group",
        fragment="latin-1",
    ),
    Case(
        "Latin-1 header read as UTF-8",
        "latin-header.csv",
        (HEADER.replace("group", "grüppe") + "\n" + good_line(1) + "\n").encode("latin-1"),
        InputError,
        fragment="header line is not valid",
    ),
    Case("binary junk", "junk.csv", _binary_junk, InputError, fragment="binary"),
    Case("high bytes, no text", "high.csv", _high_bytes, InputError, fragment="header line is not valid"),
    Case("gzip named .csv", "zipped.csv", gzip.compress(csv_with({}), mtime=0), InputError, fragment="gzip"),
    Case("UTF-16 text", "utf16.csv", csv_with({}).decode().encode("utf-16"), InputError, fragment="UTF-16"),
    Case(
        "label of free text",
        "freetext.csv",
        _free_text,
        InputError,
        row=1,
        column="label",
        fragment="free text",
    ),
    Case(
        "text labels, numeric predictions",
        "textlabel.csv",
        _text_vs_numbers,
        InputError,
        row=1,
        column="label",
        fragment="prediction column holds numbers",
    ),
    Case(
        "NaN scores",
        "nan.csv",
        csv_with({2: {"score": "NaN"}, 5: {"score": "nan"}}),
        LogRejectedError,
        row=2,
        column="score",
        fragment="(set invalid rows aside)",  # the CLI writes it as --quarantine-invalid
        checks=(("missing", "score", (2, 5)),),
    ),
    Case(
        "infinite score",
        "inf.csv",
        csv_with({3: {"score": "inf"}, 4: {"score": "-Infinity"}}),
        LogRejectedError,
        row=3,
        column="score",
        checks=(("non_finite", "score", (3, 4)),),
    ),
    Case(
        "score outside [0, 1]",
        "range.csv",
        csv_with({1: {"score": "1.5"}, 6: {"score": "-0.1"}}),
        LogRejectedError,
        row=1,
        column="score",
        checks=(("score_range", "score", (1, 6)),),
    ),
    Case(
        "score not a number",
        "scoretext.csv",
        csv_with({7: {"score": "high"}}),
        LogRejectedError,
        row=7,
        column="score",
        fragment="'high'",
        checks=(("invalid_number", "score", (7,)),),
    ),
    Case(
        "missing mapped column",
        "nocol.csv",
        csv_with({}),
        InputError,
        column="outcome",
        fragment="'label'",
        mapping=replace(MAPPING, label="outcome"),
    ),
    Case(
        "misspelt column",
        "typo.csv",
        csv_with({}),
        InputError,
        column="grup",
        fragment="did you mean 'group'",
        mapping=replace(MAPPING, sensitive=("grup",)),
    ),
    Case(
        "10 MB field in a mapped column",
        "huge.csv",
        _huge_field("group"),
        InputError,
        row=2,
        column="group",
        fragment="10,000,000",
    ),
    Case(
        "10 MB field in another column",
        "huge-notes.csv",
        _huge_field("notes"),
        InputError,
        row=2,
        column="notes",
        fragment="10,000,000",
    ),
    Case(
        "2 MB field",
        "long-field.csv",
        csv_with({5: {"x": "9" * 2_000_000}}),
        InputError,
        row=5,
        column="x",
        fragment="2,000,000 bytes",
    ),
    Case("truncated Parquet", "cut.parquet", _truncated_parquet, InputError, fragment="truncated"),
    Case(
        "Parquet with a nested column",
        "nested.parquet",
        _nested_parquet,
        InputError,
        column="group",
        fragment="list",
    ),
    Case("Parquet without rows", "norows.parquet", _empty_parquet, InputError, fragment="no rows"),
    Case("CSV named .parquet", "fake.parquet", csv_with({}), InputError, fragment="not Parquet"),
    Case("path that does not exist", "missing.csv", None, InputError, fragment="does not exist"),
    Case("a directory", "folder.csv", lambda p: p.mkdir(), InputError, fragment="folder"),
    Case("unsupported extension", "log.xlsx", csv_with({}), InputError, fragment="not supported"),
    Case("plain JSON", "log.json", b'[{"id": 1}]', InputError, fragment=".jsonl"),
    Case(
        "JSON Lines with a broken line",
        "broken.jsonl",
        _jsonl([_record(1), _record(2), '{"id": "r3", "ts":']),
        InputError,
        row=3,
        fragment="not valid JSON",
    ),
    Case(
        "JSON Lines with a non-object line",
        "array.jsonl",
        _jsonl([_record(1), "[1, 2]", _record(3)]),
        InputError,
        row=2,
        fragment="not an object",
    ),
    Case(
        "JSON Lines without a mapped field",
        "nofield.jsonl",
        _jsonl([_record(i) for i in range(1, 4)]),
        InputError,
        column="outcome",
        fragment="no field named 'outcome'",
        mapping=replace(MAPPING, label="outcome"),
    ),
    Case(
        "JSON Lines nested past Python's recursion limit",
        "deep.jsonl",
        _jsonl([_record(1), '{"id": "r2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"]),
        InputError,
        row=2,
        fragment="more than 32 levels deep",
    ),
    Case(
        "JSON Lines nested 40 levels",
        "deep40.jsonl",
        _jsonl([_record(1), _record(2), '{"id": "r3", "x": ' + "[" * 40 + "]" * 40 + "}"]),
        InputError,
        row=3,
        fragment="flatten it",
    ),
    Case(
        "JSON Lines in Latin-1 read as UTF-8",
        "latin.jsonl",
        _jsonl([_record(1), _record(2, group="Zoë")]).decode().encode("latin-1"),
        InputError,
        row=2,
        fragment="latin-1",
    ),
    Case(
        "duplicate header names",
        "dupheader.csv",
        csv_with({}).replace(b"x,n\n", b"group,n\n", 1),
        InputError,
        column="group",
        fragment="more than once",
    ),
    Case(
        "duplicate ids",
        "dupid.csv",
        csv_with({5: {"id": "r2"}, 7: {"id": "r2"}}),
        LogRejectedError,
        row=5,
        column="id",
        checks=(("duplicate_id", "id", (5, 7)),),
    ),
    Case(
        "unparseable timestamp",
        "ts.csv",
        csv_with({4: {"ts": "yesterday"}, 8: {"ts": "2024-13-45"}}),
        LogRejectedError,
        row=4,
        column="ts",
        checks=(("invalid_timestamp", "ts", (4, 8)),),
    ),
    Case(
        "missing prediction",
        "nopred.csv",
        csv_with({6: {"pred": ""}}),
        LogRejectedError,
        row=6,
        column="pred",
        checks=(("missing", "pred", (6,)),),
    ),
    Case(
        "prediction outside the label classes",
        "domain.csv",
        csv_with({3: {"pred": "2"}}),
        LogRejectedError,
        row=3,
        column="pred",
        checks=(("prediction_domain", "pred", (3,)),),
    ),
    Case(
        "quote never closed",
        "quote.csv",
        csv_with({}).replace(b"r6,", b'"r6,'),
        InputError,
        row=6,
        fragment="never closed",
    ),
    Case(
        "a column in two roles",
        "roles.csv",
        csv_with({}),
        InputError,
        column="x",
        fragment="one role",
        mapping=replace(MAPPING, scores=("x",)),
    ),
    Case(
        "unknown encoding",
        "enc.csv",
        csv_with({}),
        InputError,
        fragment="unknown text encoding",
        options=LogReadOptions(encoding="klingon-8"),
    ),
    Case(
        "wrong delimiter given",
        "delim.csv",
        csv_with({}),
        InputError,
        column="id",
        fragment="'id,ts,label",
        options=LogReadOptions(delimiter=";"),
    ),
    Case(
        "every row invalid, quarantine mode",
        "allbad.csv",
        csv_with({i: {"score": "2"} for i in range(1, 9)}),
        LogRejectedError,
        row=1,
        column="score",
        fragment="none of its 8 rows",
        options=LogReadOptions(quarantine_invalid=True),
        checks=(("score_range", "score", tuple(range(1, 9))),),
    ),
]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_a_located_message(case: Case, tmp_path: Path):
    path = tmp_path / case.filename
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif case.content is not None:
        case.content(path)
    work_dir = tmp_path / "work"

    with pytest.raises(InputError) as caught:
        canonicalise_log(path, case.mapping, work_dir=work_dir, options=case.options)

    error = caught.value
    assert type(error) is case.error, str(error)
    message = str(error)
    assert str(path) in message
    if case.error is LogRejectedError:  # a head line, then one line per problem
        assert all(line.startswith("- row ") for line in message.splitlines()[1:]), message
    else:
        assert "\n" not in message  # one paragraph
    assert error.file == str(path)
    assert error.row == case.row, message
    assert error.column == case.column, message
    assert case.fragment.lower() in message.lower(), message
    if case.row is not None:
        assert f"row {case.row}" in message
    if case.column is not None:
        assert repr(case.column) in message
    assert not work_dir.exists() or list(work_dir.iterdir()) == []
    if case.checks:
        report = error.report  # type: ignore[attr-defined]
        found = {(i.check, i.column): i for i in report.issues}
        for check, column, rows in case.checks:
            issue = found.pop((check, column))
            assert issue.count == len(rows)
            assert issue.rows == rows
        assert found == {}, found  # no other check fired
        assert report.rows_read == 8


def test_a_rejection_lists_the_first_bad_rows_and_the_way_out(tmp_path: Path):
    bad = {i: {"score": "7"} for i in range(2, 60, 2)}
    path = tmp_path / "many.csv"
    path.write_bytes(csv_with(bad, rows=60))
    with pytest.raises(LogRejectedError) as caught:
        canonicalise_log(path, MAPPING, work_dir=tmp_path / "work")
    message = str(caught.value)
    assert "29 of its 60 rows are invalid" in message
    # One line per problem: the first row, the column, the value, the other rows, the way out.
    assert (
        "\n- row 2, column 'score': '7' is outside [0, 1] (and 28 more rows: 4, 6, 8, 10, 12, ...)" in message
    )
    assert "(set invalid rows aside)" in message and "31 valid rows" in message
    assert "(--quarantine-invalid)" in caught.value.text_naming(SETTING_FLAGS)
    (issue,) = caught.value.report.issues
    assert issue.rows == tuple(range(2, 42, 2))  # the first 20


def test_csv_text_helper_writes_what_the_cases_assume():
    # Guard for the corpus: the ragged-row case relies on good_line's layout.
    assert csv_text(valid_frame(2)).splitlines()[0] == "id,ts,label,pred,score,group,x,n"
    assert good_line(3).startswith("r3,") and good_line(3).endswith(",7")


def test_probabilities_mapped_as_predictions_get_a_hint(tmp_path: Path):
    path = tmp_path / "probs.csv"
    path.write_bytes(csv_with({i: {"pred": f"0.{i}3"} for i in range(1, 9)}))
    with pytest.raises(LogRejectedError) as caught:
        canonicalise_log(path, MAPPING, work_dir=tmp_path / "work")
    assert "look like probabilities" in str(caught.value)
    assert "'0.13' is not one of the label classes (and 7 more rows" in str(caught.value)
