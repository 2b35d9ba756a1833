"""A small real world for the analysis pages: model version ``credit`` v1 with a scikit-learn gradient
boosting model attached as a skops file, and two prediction logs imported through the real log import:
a reference log (the training rows) and a production log over eight weeks whose ``f0`` moves
up as time goes on (half a standard deviation on average), so drift and monitoring both see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.ensemble import GradientBoostingClassifier

from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.services.logs import import_log
from signoff.services.model_artifacts import attach_model_file
from signoff.services.models import add_model_version

FEATURES = ("f0", "f1", "f2")
MAPPING = ColumnMapping(
    label="label",
    prediction="prediction",
    sensitive=("sex",),
    features=FEATURES,
    id="id",
    timestamp="ts",
)


def make_log(seed: int, rows: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=list(FEATURES))
    frame["f0"] += shift * 2 * np.arange(rows) / rows  # moves further over time: mean shift = shift
    frame["sex"] = rng.choice(["Female", "Male"], size=rows)
    frame["label"] = (frame["f0"] + frame["f1"] * (frame["sex"] == "Female") > 0).astype(int)
    frame["prediction"] = frame["label"]
    frame["id"] = [f"{seed}-{i}" for i in range(rows)]
    start = pd.Timestamp("2026-09-07T00:00:00Z")
    moments = start + pd.to_timedelta(np.linspace(0, 55, rows).round(), unit="D")
    frame["ts"] = moments.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame


@dataclass(frozen=True)
class AnalysisWorld:
    model: GradientBoostingClassifier
    reference: pd.DataFrame
    production: pd.DataFrame
    reference_log_id: int
    production_log_id: int


def build_world(db, folder: Path, *, name: str = "credit", version: str = "1") -> AnalysisWorld:
    model_version = add_model_version(db, name=name, version=version, actor="tester")
    reference = make_log(1, 800)
    production = make_log(2, 400, shift=0.5)
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0)
    model.fit(reference[list(FEATURES)], reference["label"])
    sio.dump(model, folder / "model.skops")
    attach_model_file(db, name=name, version=version, path=folder / "model.skops", actor="tester")
    ids = {}
    for role, frame in ((LogRole.REFERENCE, reference), (LogRole.PRODUCTION, production)):
        path = folder / f"{role.value}.csv"
        frame[list(MAPPING.mapped_columns())].to_csv(path, index=False)
        ids[role] = import_log(
            db, path, model=name, version=version, mapping=MAPPING, role=role, actor="tester"
        ).log.id
    assert model_version.id
    return AnalysisWorld(model, reference, production, ids[LogRole.REFERENCE], ids[LogRole.PRODUCTION])


def wait_for_chart(qtbot, chart) -> None:
    """Until plotly has drawn into ``chart`` and the compositor has shown the frame, so that a
    screenshot taken next has the chart in it."""
    drawn: list[int] = []

    def check() -> bool:
        chart.page().runJavaScript("document.querySelectorAll('.main-svg').length", 0, drawn.append)
        return bool(drawn) and drawn[-1] > 0

    qtbot.waitUntil(check, timeout=20000)
    qtbot.wait(1200)
