"""A small real workspace for the exported report, built only through the services.

The prediction log is made so that its fairness table can be computed by hand (selection rate =
predicted positives / rows of the group; impact ratio = rate / the highest included group's rate):

    group     rows  predicted 1  selection rate  impact ratio
    Female      40           12          0.300         0.600
    Male        50           25          0.500         1.000
    Unknown      9            3          0.333   (Unknown: left out of the ratio)
    Other        1            1          1.000   (1% of rows, under the 2% share: excluded)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from review_world import PASSWORDS, add_people
from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.services import reviews
from signoff.services.fairness import analyze_fairness, analyze_performance
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.storage import open_database

NAME, VERSION = "credit-risk", "4"
GROUPS = {  # group -> (rows, predicted positives)
    "Female": (40, 12),
    "Male": (50, 25),
    "": (9, 3),  # missing: the Unknown group
    "Other": (1, 1),
}
EXPECTED = {  # group -> (n, selection rate, impact ratio or None)
    "Female": (40, "0.300", "0.600"),
    "Male": (50, "0.500", "1.000"),
    "Unknown": (9, "0.333", None),
    "Other": (1, "1.000", None),
}
FINDING = "Few applicants under 21 in the validation data"
RESOLUTION = "Accepted: the product is not offered under 21"


@dataclass(frozen=True)
class ReportWorld:
    url: str
    model_version_id: int
    log_id: int
    review_id: int


def write_log(path: Path) -> Path:
    lines = ["id,y,p,score,sex,income"]
    row = 0
    for group, (rows, positives) in GROUPS.items():
        for i in range(rows):
            row += 1
            predicted = 1 if i < positives else 0
            label = predicted if i % 5 else 1 - predicted  # every fifth row is wrong
            score = 0.8 if predicted else 0.2
            lines.append(f"r{row:03d},{label},{predicted},{score},{group},{1000 + 37 * row % 900}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_report_world(folder: Path) -> ReportWorld:
    url = f"sqlite:///{folder / 'report.db'}"
    with open_database(url) as db:
        add_people(db, names=("root", "alice", "bob", "carol"))
        version = add_model_version(
            db, name=NAME, version=VERSION, description="Credit default", actor="alice"
        )
        imported = import_log(
            db,
            write_log(folder / "validation.csv"),
            model=NAME,
            version=VERSION,
            mapping=ColumnMapping(
                label="y",
                prediction="p",
                scores=("score",),
                sensitive=("sex",),
                features=("income",),
                id="id",
            ),
            role=LogRole.VALIDATION,
            actor="alice",
        )
        log_id = imported.log.id
        analyze_fairness(db, name=NAME, version=VERSION, log_id=log_id, n_resamples=200, actor="alice")
        analyze_performance(db, name=NAME, version=VERSION, log_id=log_id, n_resamples=200, actor="alice")
        opened = reviews.open_review(db, "alice", model_version_id=version.id, title="release 4")
        review_id = opened.review.id
        reviews.add_finding(db, "alice", review_id, type="limitation", severity="medium", title=FINDING)
        reviews.update_finding(db, "carol", review_id, 1, status="accepted", resolution=RESOLUTION)
        reviews.submit(db, "alice", review_id)
        reviews.sign(db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
        reviews.sign(db, review_id, username="carol", password=PASSWORDS["carol"], meaning="approved")
    return ReportWorld(url, version.id, log_id, review_id)


def pdf_text(path: Path, layout: bool = True) -> str:
    """The PDF's text as poppler's pdftotext reads it (an extractor independent of Signoff's pypdf)."""
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout
