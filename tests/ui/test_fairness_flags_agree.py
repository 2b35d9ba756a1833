"""A group's flags are one answer on the Fairness page (Flags column and impact chart), in the CLI's JSON
and in the PDF: checked on a log whose every group's flags are worked out by hand below."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from review_world import analyst_token
from signoff.cli.main import main
from signoff.domain.fairness import FairnessResult
from signoff.domain.prediction_log import ColumnMapping
from signoff.reporting.audit_report import _group_counts
from signoff.reporting.content import Report, ReportMetadata, Section, Table
from signoff.reporting.pdf import render_pdf
from signoff.services.fairness import analyze_fairness
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.ui.pages.fairness_charts import BELOW, impact_figure
from signoff.ui.pages.fairness_page import fairness_records

# group: (rows, selected). 745 rows; minimum group size 30; groups under 2% (14.9 rows) are excluded.
GROUPS = {"A": (400, 160), "B": (300, 180), "C": (20, 2), "D": (10, 5), None: (15, 3)}
EXPECTED = {
    "A": ["reference", "below four-fifths"],  # the largest group; 0.40 / 0.60 = 0.667
    "B": ["highest selection rate (impact ratio base)"],  # rate 0.60
    "C": ["insufficient data"],  # 20 rows < 30: its ratio 0.1 / 0.6 is not judged
    "D": ["insufficient data", "excluded: under 2% of rows"],
    "Unknown": ["insufficient data", "excluded: unknown value"],
}


def _log(path) -> None:
    rows = []
    for group, (count, selected) in GROUPS.items():
        for i in range(count):
            rows.append({"group": group, "label": i % 2, "prediction": int(i < selected)})
    frame = pd.DataFrame(rows)
    frame["id"] = np.arange(len(frame))
    frame.to_csv(path, index=False)


def test_flags_agree_across_page_chart_cli_json_and_pdf(context, tmp_path, capsys, monkeypatch):
    db = context.db
    add_model_version(db, name="m", version="1")
    _log(tmp_path / "log.csv")
    mapping = ColumnMapping(label="label", prediction="prediction", sensitive=("group",), id="id")
    log = import_log(db, tmp_path / "log.csv", model="m", version="1", mapping=mapping).log
    run = analyze_fairness(db, name="m", version="1", log_id=log.id, n_resamples=0, intersections=False)
    (segment,) = run.result.segments

    page = {r.item.group: r.texts[-1] for r in fairness_records(segment, "selection_rate")}
    assert page == {group: ", ".join(flags) for group, flags in EXPECTED.items()}

    figure = impact_figure(segment)
    red = {
        g
        for g, c in zip(figure["data"][0]["x"], figure["data"][0]["marker"]["color"], strict=True)
        if c == BELOW
    }
    assert red == {g for g, flags in EXPECTED.items() if "below four-fifths" in flags}

    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(db.url))  # an analysis is a change: signed in
    assert main(["--db", db.url, "analyze", "fairness", "m", "1", "--log", str(log.id), "--resamples", "0",
                 "--no-intersections", "--json"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["flags"]["group"] == EXPECTED
    assert "Impact ratios divide by the highest selection rate (B)" in printed["reference_notes"]["group"]

    blocks = _group_counts(FairnessResult.from_dict(run.run.result).segments[0], log.id, "1")
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert {row[0]: row[-1] for row in table.rows} == {g: ", ".join(f) for g, f in EXPECTED.items()}
    report = Report(
        report_id="flags",
        title="Flags",
        metadata=ReportMetadata(title="Flags", author="test", subject="flags"),
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        signoff_version="test",
        bundle_hash=None,
        sections=(Section(1, "Fairness", tuple(blocks)),),
    )
    pdf = tmp_path / "flags.pdf"
    render_pdf(report, pdf)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for flags in EXPECTED.values():
        for flag in flags:
            assert " ".join(flag.split()) in text.replace("- ", "-"), flag
