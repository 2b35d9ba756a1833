"""`signoff document ...` through the CLI entry point in-process (real parsing, handlers and exit codes)."""

from __future__ import annotations

import json

from docx import Document

from review_world import analyst_token
from signoff.cli.main import main
from signoff.domain.prediction_log import ColumnMapping
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.storage import open_database


def _cli(capsys, db, *args):
    code = main(["--db", db, "document", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ll144_missing_and_annex_iv_from_the_command_line(capsys, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    log = tmp_path / "log.csv"
    # s: 40 F (10 selected), 60 M (30 selected); r: 50 A (20), 50 B (20)
    rows = ["s,r,y,p"]  # names that say neither sex nor race
    rows += [f"F,{'A' if i % 2 else 'B'},{int(i < 10)},{int(i < 10)}" for i in range(40)]
    rows += [f"M,{'A' if i % 2 else 'B'},{int(i < 30)},{int(i < 30)}" for i in range(60)]
    log.write_text("\n".join(rows) + "\n")
    with open_database(url) as db:
        add_model_version(db, name="screen", version="3")
        mapping = ColumnMapping(label="y", prediction="p", sensitive=("s", "r"))
        log_id = import_log(db, log, model="screen", version="3", mapping=mapping).log.id
    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(url))  # the audit summary is recorded: signed in

    code, _, err = _cli(capsys, url, "ll144", "screen", "3", "--log", str(log_id), "--json")
    assert code == 2 and "cannot tell which sensitive attribute is sex" in err
    code, out, err = _cli(
        capsys, url, "ll144", "screen", "3", "--log", str(log_id), "--sex", "s", "--race", "r",
        "--distribution-date", "2026-12-01", "--json", "--out", str(tmp_path / "ll144.md"),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    sex = {r["group"]: r for r in summary["tables"][0]["rows"]}
    assert sex["F"]["selection_rate"] == 0.25 and sex["M"]["selection_rate"] == 0.5
    assert sex["F"]["impact_ratio"] == 0.5 and summary["distribution_date"] == "2026-12-01"
    assert "| F | 40 | 0\\.250 | 0\\.500 |" in (tmp_path / "ll144.md").read_text(encoding="utf-8")

    code, out, err = _cli(capsys, url, "missing", "screen", "3", "--json")
    assert code == 0, err
    gaps = {g["clause"]: g["missing"] for g in json.loads(out)}
    assert "ll144-audit" not in gaps and gaps["ll144-scope"] == ["inventory.nyc_ll144_aedt"]
    code, _, err = _cli(capsys, url, "annex-iv", "screen", "3", "--out", str(tmp_path / "a.odt"))
    assert code == 2 and "'a.odt' has none of these endings" in err and not (tmp_path / "a.odt").exists()
    code, out, err = _cli(capsys, url, "annex-iv", "screen", "3", "--out", str(tmp_path / "a.docx"))
    assert code == 0 and f"wrote {tmp_path / 'a.docx'}" in out, err
    headings = [p.text for p in Document(str(tmp_path / "a.docx")).paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "1 General description" and "9 Post-market monitoring" in headings
    code, out, err = _cli(capsys, url, "annex-iv", "screen", "3", "--out", str(tmp_path / "a.pdf"))
    assert code == 0 and (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF"), err
