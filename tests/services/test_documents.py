"""Regulators' documents from real evidence: the LL144 numbers against a hand-computed table, Annex IV
statements with their evidence, the "what is missing" list, and the PDF / Markdown read back."""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
from datetime import date
from fractions import Fraction

import pytest

from signoff.domain.errors import InputError
from signoff.domain.prediction_log import ColumnMapping
from signoff.services import documents, inventory
from signoff.services.logs import import_log
from signoff.services.models import add_model_version

# (sex, race) -> (individuals, selected), written by hand; "" is a missing sex.
CELLS = {
    ("Male", "White"): (60, 30),
    ("Male", "Black"): (30, 12),
    ("Female", "White"): (50, 20),
    ("Female", "Black"): (40, 10),
    ("Female", "Asian"): (15, 9),
    ("Male", "Other"): (3, 2),  # 1.5% of 200: excluded from the ratios, count shown
    ("", "White"): (2, 1),  # unknown sex
}
# Worked out by hand from CELLS (rates as fractions, impact ratio = rate / highest included rate).
SEX = {"Male": (93, Fraction(44, 93)), "Female": (105, Fraction(39, 105))}
SEX_RATIOS = {"Male": Fraction(1), "Female": Fraction(39, 105) / Fraction(44, 93)}  # 0.78506
RACE = {"White": (112, Fraction(51, 112)), "Black": (70, Fraction(22, 70)), "Asian": (15, Fraction(9, 15))}
RACE_RATIOS = {
    "White": Fraction(51, 112) / Fraction(3, 5),
    "Black": Fraction(22, 70) / Fraction(3, 5),
    "Asian": 1,
}


@pytest.fixture
def hiring(db, tmp_path):
    add_model_version(db, name="hiring", version="1")
    path = tmp_path / "decisions.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "sex", "race", "hired", "selected"])
        row = 0
        for (sex, race), (n, selected) in CELLS.items():
            for i in range(n):
                row += 1
                writer.writerow([row, sex, race, int(i < selected), int(i < selected)])
    mapping = ColumnMapping(label="hired", prediction="selected", sensitive=("sex", "race"), id="id")
    return import_log(db, path, model="hiring", version="1", mapping=mapping).log


def _close(value, expected):
    return value == pytest.approx(float(expected), abs=1e-12)


def test_ll144_rates_and_ratios_match_the_hand_computed_table(db, hiring, tmp_path):
    summary = documents.ll144_summary(
        db, "hiring", "1", log_id=hiring.id, distribution_date=date(2026, 12, 7), actor="hr-analyst"
    )
    by_sex, by_race, crossed = summary.tables
    assert by_sex.unknown_count == 2 and by_race.unknown_count == 0 and crossed.unknown_count == 2
    sex_rows = {r.group: r for r in by_sex.rows}
    assert set(sex_rows) == {"Male", "Female"}
    for group, (count, rate) in SEX.items():
        row = sex_rows[group]
        assert (
            row.count == count
            and _close(row.selection_rate, rate)
            and _close(row.impact_ratio, SEX_RATIOS[group])
        )
    race_rows = {r.group: r for r in by_race.rows}
    for group, (count, rate) in RACE.items():
        row = race_rows[group]
        assert (
            row.count == count
            and _close(row.selection_rate, rate)
            and _close(row.impact_ratio, RACE_RATIOS[group])
        )
    other = race_rows["Other"]
    assert (other.count, other.excluded, other.impact_ratio) == (3, True, None)
    cross = {r.group: r for r in crossed.rows}
    highest = Fraction(9, 15)  # Female & Asian; "Male & Other" (1.5%) is excluded
    for (sex, race), (n, selected) in CELLS.items():
        if not sex:
            continue
        row = cross[f"{sex} & {race}"]
        assert row.count == n and _close(row.selection_rate, Fraction(selected, n))
        if (sex, race) == ("Male", "Other"):
            assert row.excluded and row.impact_ratio is None
        else:
            assert _close(row.impact_ratio, Fraction(selected, n) / highest)
    assert summary.audit_date == date.today() and summary.valid_until.year == summary.audit_date.year + 1
    assert summary.distribution_date == date(2026, 12, 7)
    (shown,) = inventory.show_inventory(db, "hiring").ll144_audits
    assert (shown["run_id"], shown["valid_until"], shown["valid"]) == (
        summary.run_id,
        summary.valid_until.isoformat(),
        True,
    )
    # The same summary again reuses the stored analysis run instead of computing a new one.
    again = documents.ll144_summary(db, "hiring", "1", log_id=hiring.id)
    assert again.run_id == summary.run_id

    out = documents.export_ll144(summary, tmp_path / "ll144.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Impact ratio" in text and "0.785" in text and "excluded (under 2%)" in text
    assert f"fairness analysis run {summary.run_id}" in " ".join(text.split())
    assert "Individuals with an unknown sex: 2" in text


def test_ll144_refuses_a_log_whose_attributes_or_scores_it_cannot_use(db, hiring):
    with pytest.raises(InputError, match="no sensitive attribute 'gender'; its attributes: sex, race"):
        documents.ll144_summary(db, "hiring", "1", log_id=hiring.id, sex="gender")
    with pytest.raises(
        InputError, match="a scoring audit needs exactly one score column in log 1; it maps 0"
    ):
        documents.ll144_summary(db, "hiring", "1", log_id=hiring.id, scoring=True)
    with pytest.raises(InputError, match="'sex' cannot hold both sex and race/ethnicity"):
        documents.ll144_summary(db, "hiring", "1", log_id=hiring.id, sex="sex", race="sex")
    assert documents.ll144_attributes(("applicant_sex", "Ethnicity", "age")) == {
        "sex": "applicant_sex",
        "race": "Ethnicity",
    }
    # Two candidates, or none: a person chooses.
    assert documents.ll144_attributes(("sex", "gender", "r")) == {"sex": None, "race": None}


def test_annex_iv_states_what_is_recorded_with_its_evidence_and_lists_the_rest(db, hiring, tmp_path):
    inventory.set_fields(
        db,
        "hiring",
        {"purpose": "Shortlist applicants <b>fast</b>", "intended_use": "HR screening"},
        actor="ann",
    )
    documents.ll144_summary(db, "hiring", "1", log_id=hiring.id)
    answers = {
        a.clause.id: a for a in documents.clause_answers(db, "hiring", "1", framework="eu-ai-act-annex-iv")
    }
    purpose = answers["annex-iv-1a"]
    assert [s.artefact for s in purpose.statements] == [
        "model.identity",
        "inventory.purpose",
        "inventory.intended_use",
    ]
    assert purpose.missing == ("inventory.vendor", "inventory.owner")
    assert purpose.statements[1].evidence == (purpose.statements[1].evidence[0],)
    assert purpose.statements[1].evidence[0].startswith("inventory record of hiring, revision 1 (ann,")
    fairness = next(s for s in answers["annex-iv-2g"].statements if s.artefact == "analysis.fairness")
    assert fairness.evidence[0].startswith("analysis run 1, result sha256 ")
    assert not answers["annex-iv-9"].recorded and not answers["annex-iv-7"].recorded
    gaps = {g.clause.id: g.missing for g in documents.missing(db, "hiring", "1")}
    assert "ll144-audit" not in gaps  # the summary just produced answers it
    assert gaps["sr11-7-tiering"] == ("risk.tier", "calendar.next_due")

    md = documents.export_annex_iv(db, "hiring", "1", out=tmp_path / "annex.md").read_text(encoding="utf-8")
    assert "Shortlist applicants &lt;b&gt;fast&lt;/b&gt;" in md  # plain text, never markup
    assert "not recorded: inventory" in md.replace("\\", "")
    pdf = documents.export_annex_iv(db, "hiring", "1", out=tmp_path / "annex.pdf")
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "Shortlist applicants <b>fast</b>" in text and "1(a) Intended purpose" in text
    with pytest.raises(InputError, match=r"as \.pdf, \.md, \.docx"):
        documents.export_annex_iv(db, "hiring", "1", out=tmp_path / "annex.odt")
    payload = json.loads(json.dumps([a.to_dict() for a in answers.values()]))
    assert payload[0]["clause"] == "annex-iv-1a"


def test_a_scoring_audit_matches_the_hand_computed_scoring_rates(db, tmp_path):
    # Median of the ten scores: (0.5 + 0.6) / 2 = 0.55; five score above it.
    rows = [
        ("M", "A", 0.9), ("M", "A", 0.8), ("M", "B", 0.3), ("M", "B", 0.7), ("F", "A", 0.6),
        ("F", "A", 0.2), ("F", "B", 0.1), ("F", "B", 0.4), ("", "A", 0.95), ("F", "C", 0.5),
    ]  # fmt: skip
    path = tmp_path / "scores.csv"
    path.write_text("sex,race,y,p,score\n" + "".join(f"{s},{r},1,1,{v}\n" for s, r, v in rows))
    add_model_version(db, name="ranker", version="1")
    mapping = ColumnMapping(label="y", prediction="p", scores=("score",), sensitive=("sex", "race"))
    log = import_log(db, path, model="ranker", version="1", mapping=mapping).log
    summary = documents.ll144_summary(db, "ranker", "1", log_id=log.id, scoring=True)
    by_sex, by_race, crossed = (
        {r.group: (r.count, r.selection_rate, r.impact_ratio) for r in t.rows} for t in summary.tables
    )
    assert by_sex == {"M": (4, 0.75, 1.0), "F": (5, 0.2, pytest.approx(0.2 / 0.75))}
    assert by_race == {"A": (5, 0.8, 1.0), "B": (4, 0.25, pytest.approx(0.3125)), "C": (1, 0.0, 0.0)}
    assert crossed == {
        "M & A": (2, 1.0, 1.0),
        "M & B": (2, 0.5, 0.5),
        "F & A": (2, 0.5, 0.5),
        "F & B": (2, 0.0, 0.0),
        "F & C": (1, 0.0, 0.0),
    }
    assert [t.unknown_count for t in summary.tables] == [1, 0, 1]
    data = summary.to_dict()
    assert data["basis"] == "scoring" and data["tables"][0]["rows"][0]["scoring_rate"] is not None
    with db.transaction(write=False) as uow:
        assert uow.analysis_runs.get(summary.run_id).kind == "ll144_scoring"


def _markdown_items(markdown: str) -> list[tuple[str, str]]:
    """(kind, plain text) of each heading, paragraph and table row of the Markdown form, unescaped."""

    def plain(text: str) -> str:
        return " ".join(html.unescape(re.sub(r"\\(.)", r"\1", text)).split())

    items = []
    for line in markdown.splitlines():
        if not line.strip() or re.fullmatch(r"\|(---\|)+", line):
            continue
        if heading := re.fullmatch(r"#+ (.*)", line):
            items.append(("heading", plain(heading.group(1))))
        elif line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            items.append(("row", " | ".join(plain(c) for c in cells)))
        elif pair := re.fullmatch(r"- \*\*(.*?)\*\*: (.*)", line):
            items.append(("paragraph", plain(f"{pair.group(1)}: {pair.group(2)}")))
        elif callout := re.fullmatch(r"> \*\*(.*?)\*\* (.*)", line):
            items.append(("paragraph", plain(f"{callout.group(1)} {callout.group(2)}")))
        else:
            items.append(("paragraph", plain(re.sub(r"^\*\*?(.*?)\*\*?$", r"\1", line))))
    return items


def _docx_items(path) -> list[tuple[str, str]]:
    from docx import Document
    from docx.table import Table

    items = []
    for block in Document(str(path)).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                items.append(("row", " | ".join(" ".join(c.text.split()) for c in row.cells)))
        elif block.style.name.startswith(("Heading", "Title")):
            items.append(("heading", " ".join(block.text.split())))
        else:
            items.append(("paragraph", " ".join(block.text.split())))
    return items


def test_annex_iv_docx_says_what_the_markdown_says_and_keeps_user_text_verbatim(db, hiring, tmp_path):
    from docx import Document

    purpose = "Shortlist <b>fast</b> & fair; not a *hiring* decision [yet]"
    inventory.set_fields(db, "hiring", {"purpose": purpose, "limitations": "a\tb &amp; c"}, actor="ann")
    markdown = documents.export_annex_iv(db, "hiring", "1", out=tmp_path / "annex.md")
    written = documents.export_annex_iv(db, "hiring", "1", out=tmp_path / "annex.docx")
    expected = _markdown_items(markdown.read_text(encoding="utf-8"))
    found = _docx_items(written)
    # The generation time differs by the seconds between the two exports; everything else is identical.
    generated = re.compile(r"^Report ANNEX-IV-\w+, generated .*$")
    assert [generated.sub("generated", t) for _, t in found] == [
        generated.sub("generated", t) for _, t in expected
    ]
    assert [k for k, _ in found] == [k for k, _ in expected]
    assert ("heading", "1(a) Intended purpose, provider, version") in found and len(found) > 40

    document = Document(str(written))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert purpose in cells and "a\tb &amp; c" in cells  # exactly as typed: no markup, no entities
    assert document.core_properties.title == "Annex IV technical documentation hiring v1"
    statements = document.tables[0]
    assert [c.text for c in statements.rows[0].cells] == ["Statement", "Recorded", "Evidence"]
