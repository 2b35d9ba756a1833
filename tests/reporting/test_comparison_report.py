"""The audit report of a challenger whose evidence holds a comparison with its champion: the section is
there, after the usual ones, with numbers reasoned from the log; read back with poppler's pdftotext.

The log (one log, both versions' decisions): 100 women and 100 men. The champion approves 50 of each;
the challenger withdraws 10 of the women's approvals and changes nothing else, so the selection rate
falls by 0.100 for women, 0.000 for men and 0.050 overall, with 10 women newly declined.
"""

from __future__ import annotations

import subprocess

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.compare import compare_versions
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.report import export_report
from signoff.storage import open_database


def _log(path) -> None:
    lines = ["id,y,p1,p2,sex"]
    for sex in ("Female", "Male"):
        for i in range(100):
            p1 = 1 if i < 50 else 0
            p2 = 0 if sex == "Female" and i < 10 else p1
            lines.append(f"{sex[0]}{i},{1 if i % 3 else 0},{p1},{p2},{sex}")
    path.write_text("\n".join(lines) + "\n")


def test_report_has_the_comparison_section_with_hand_reasoned_numbers(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'signoff.db'}")
    try:
        add_model_version(db, name="credit", version="1")
        add_model_version(db, name="credit", version="2")
        _log(tmp_path / "shadow.csv")
        mapping = ColumnMapping(label="y", prediction="p2", features=("p1",), sensitive=("sex",), id="id")
        log = import_log(db, tmp_path / "shadow.csv", model="credit", version="2", mapping=mapping).log
        compare_versions(
            db, name="credit", champion="1", challenger="2", log_ids=[log.id],
            prediction_columns=("p1", "p2"), n_resamples=200,
        )  # fmt: skip
        out = tmp_path / "report.pdf"
        export_report(db, name="credit", version="2", out=out, actor="tester")
    finally:
        db.close()
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    section = text[text.rindex("14 Champion vs challenger") :]
    assert "credit v1 (champion) vs v2 (challenger)" in section
    assert "Rows compared" in section and "200" in section
    overall = next(line for line in section.splitlines() if line.strip().startswith("selection_rate"))
    assert "0.500" in overall and "0.450" in overall and "-0.050" in overall
    female = next(
        line for line in section.splitlines() if line.strip().startswith("Female") and "-0.100" in line
    )
    assert "+0 / -10" in female
    male = next(line for line in section.splitlines() if line.strip().startswith("Male") and "+0.000" in line)
    assert "+0 / -0" in male
    assert "Holm over the" in section
