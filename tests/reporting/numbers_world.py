"""A small workspace whose report cites a comparison, a validation and a drift run, for the offline
recomputation of those numbers (``test_report_numbers_more.py``). Built through the services only.

The shadow log holds both versions' decisions and scores for the same 160 rows (paired, by one log):
the champion approves rows 0-79 of each sex, the challenger withdraws 8 of the women's approvals and
its score ranks the rows slightly differently, so every AUC, McNemar and DeLong number is non-trivial.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.services.compare import compare_versions
from signoff.services.drift import analyze_drift, analyze_validation
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.policy import check_policy
from signoff.services.report import export_report
from signoff.storage import open_database

NAME, CHAMPION, CHALLENGER = "credit", "1", "2"
POLICY = """format: signoff-policy/1
name: numbers
title: Rules on the comparison, the validation and the drift
min_group_size: 30
required_analyses: [validation, drift]
rules:
  - id: stable-columns
    metric: drift.psi
    scope: "*"
    operator: "<="
    threshold: 0.2
  - id: complete-income
    metric: validation.missing_share
    scope: income
    operator: "<="
    threshold: 0.05
  - id: no-worse-selection
    metric: compare.selection_rate_difference
    scope: "*"
    operator: ">="
    threshold: -0.2
    on: ci_low
"""


@dataclass(frozen=True)
class NumbersWorld:
    report: Path
    shadow: pd.DataFrame  # the comparison's rows, as written
    reference: pd.DataFrame  # the drift's windows, as written
    current: pd.DataFrame


def shadow_log() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for sex, n in (("Female", 70), ("Male", 90)):
        for i in range(n):
            label = int(rng.random() < 0.5)
            s1 = float(np.clip(0.35 * label + rng.random() * 0.65, 0, 1).round(2))
            s2 = float(np.clip(0.3 * label + rng.random() * 0.7, 0, 1).round(2))
            p1 = int(s1 >= 0.5)
            p2 = 0 if sex == "Female" and i < 8 else int(s2 >= 0.5)
            rows.append(
                {"id": f"{sex[0]}{i}", "y": label, "p1": p1, "p2": p2, "s1": s1, "s2": s2, "sex": sex}
            )
    return pd.DataFrame(rows)


def drift_log(seed: int, shift: float, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
            "sex": rng.choice(["Female", "Male"], n, p=[0.5 - shift / 2, 0.5 + shift / 2]),
            "income": (rng.normal(1000 + 300 * shift, 200, n)).round(0),
            "tenure": rng.integers(0, 20 + int(10 * shift), n),
        }
    )


def build_numbers_world(folder: Path) -> NumbersWorld:
    shadow, reference, current = shadow_log(), drift_log(1, 0.0, 150), drift_log(2, 0.4, 120)
    reference.loc[3, "income"] = np.nan  # a missing value for the validation to count
    for frame, name in ((shadow, "shadow"), (reference, "reference"), (current, "current")):
        frame.to_csv(folder / f"{name}.csv", index=False)
    out = folder / "report.pdf"
    with open_database(f"sqlite:///{folder / 'signoff.db'}") as db:
        add_model_version(db, name=NAME, version=CHAMPION)
        add_model_version(db, name=NAME, version=CHALLENGER)
        mapping = ColumnMapping(
            label="y", prediction="p2", scores=("s2",), features=("p1", "s1"), sensitive=("sex",), id="id"
        )
        log = import_log(db, folder / "shadow.csv", model=NAME, version=CHALLENGER, mapping=mapping).log
        compare_versions(
            db, name=NAME, champion=CHAMPION, challenger=CHALLENGER, log_ids=[log.id],
            prediction_columns=("p1", "p2"), score_columns=("s1", "s2"), n_resamples=200,
        )  # fmt: skip
        drift_mapping = ColumnMapping(
            label="y", prediction="p", sensitive=("sex",), features=("income", "tenure"), id="id"
        )
        logs = [
            import_log(
                db, folder / f"{name}.csv", model=NAME, version=CHALLENGER, mapping=drift_mapping, role=role
            ).log
            for name, role in (("reference", LogRole.REFERENCE), ("current", LogRole.PRODUCTION))
        ]
        analyze_validation(db, name=NAME, version=CHALLENGER, log_id=logs[0].id)
        analyze_drift(
            db, name=NAME, version=CHALLENGER, reference_log_id=logs[0].id, current_log_id=logs[1].id
        )
        (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
        check_policy(
            db,
            name=NAME,
            version=CHALLENGER,
            policy_file=folder / "policy.yaml",
            log_ids=[log.id, *(x.id for x in logs)],
        )
        export_report(db, name=NAME, version=CHALLENGER, out=out, actor="tester")
    return NumbersWorld(out, shadow, reference, current)
