"""The demo workspace: a real model on real data, with logs, analyses and a policy verdict to look at.

``build_demo_workspace`` works offline from the UCI Adult files shipped in ``resources/demo``: it trains
a logistic regression (version 1) and a gradient boosting model (version 2) on ``adult.data``, registers
them as "Adult income (demo)", attaches each fitted model as a skops file, imports for each version a
reference log (8,000 training rows) and a production log (all of ``adult.test``) through the ordinary
log import, and runs validation, fairness, performance, monitoring, drift, SHAP and the shipped policy
``lending-four-fifths`` through the same use cases a user would. Every step is its own transaction with
its audit events, exactly as if a person had done it; nothing here writes to the database directly.

The decision times in the logs are made up (the census has none): the reference rows are spread evenly
over the first half of 2025 and the production rows over 26 weeks from 5 January 2026, in file order,
so that monitoring has weeks to chart. The same inputs give the same logs, byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff.domain.errors import ConflictError
from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.importers.demo_columns import FEATURES, LABEL, SENSITIVE
from signoff.resources import resource_path
from signoff.services.models import add_model_version, list_model_versions
from signoff.services.work_folders import work_folder
from signoff.storage import Database

if TYPE_CHECKING:
    import pandas as pd


DEMO_MODEL = "Adult income (demo)"
DEMO_POLICY = "lending-four-fifths"
REFERENCE_ROWS = 8000
EXPLAIN_SAMPLE = 500
EXPLAIN_ROWS = ("test-00001", "test-00002", "test-00003")  # local explanations a reviewer can open at once
SEED = 20240101
PREDICTION = "predicted_over_50k"
SCORE = "score"
ID, TIMESTAMP = "application_id", "decided_at"
MAPPING = ColumnMapping(
    label=LABEL,
    prediction=PREDICTION,
    scores=(SCORE,),
    sensitive=SENSITIVE,
    features=FEATURES,
    id=ID,
    timestamp=TIMESTAMP,
)
REFERENCE_PERIOD = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
PRODUCTION_PERIOD = (datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC) + timedelta(weeks=26))
ALREADY_BUILT = (
    "the demo workspace is already in this database: model {model!r} exists (versions {versions}; "
    "an interrupted build leaves the steps it finished). Open it in the app, or build the demo into "
    "another database, e.g. "
    "`signoff --db sqlite:///demo.db demo`"
)

# (fraction done 0..1, what is happening): the same shape as the desktop app's job progress.
DemoProgress = Callable[[float, str], None]


@dataclass(frozen=True)
class _Spec:
    version: str
    algorithm: str
    description: str
    make: Callable[[], Any]


def _logistic_regression() -> Any:
    from sklearn.linear_model import LogisticRegression

    # Newton's method does not care that capital gains run to 99,999 while "married" is 0 or 1, so the
    # model needs no scaler in front and stays a bare linear model (exact LinearSHAP).
    return LogisticRegression(solver="newton-cholesky", max_iter=100)


def _gradient_boosting() -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, random_state=SEED)


_TRAINED_ON = (
    "Trained on UCI Adult adult.data (32,561 people) to predict an income over $50K from age, years of "
    "education, capital gain, capital loss, hours per week and being married. Demo workspace."
)
SPECS = (
    _Spec(
        "1",
        "scikit-learn LogisticRegression",
        f"Logistic regression. {_TRAINED_ON}",
        _logistic_regression,
    ),
    _Spec(
        "2",
        "scikit-learn GradientBoostingClassifier",
        f"Gradient boosting, 100 trees of depth 3. {_TRAINED_ON}",
        _gradient_boosting,
    ),
)


@dataclass(frozen=True)
class DemoLog:
    id: int
    role: str
    rows: int
    evidence_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "rows": self.rows, "evidence_sha256": self.evidence_sha256}


@dataclass(frozen=True)
class DemoVersion:
    version: str
    model_version_id: int
    algorithm: str
    model_file: dict[str, Any]  # path, sha256, size of the attached skops file
    logs: tuple[DemoLog, ...]
    analyses: tuple[tuple[str, int], ...]  # (kind, analysis run id), in the order they were run
    policy_status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model_version_id": self.model_version_id,
            "algorithm": self.algorithm,
            "model_file": dict(self.model_file),
            "logs": [log.to_dict() for log in self.logs],
            "analyses": [{"kind": kind, "id": run_id} for kind, run_id in self.analyses],
            "policy_status": self.policy_status,
        }


@dataclass(frozen=True)
class DemoSummary:
    model: str
    policy: str
    versions: tuple[DemoVersion, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "policy": self.policy,
            "versions": [v.to_dict() for v in self.versions],
            "seconds": round(self.seconds, 2),
        }


class _Steps:
    """Progress as a fraction of the work, each step weighted by roughly how long it takes."""

    def __init__(self, progress: DemoProgress | None, total: float) -> None:
        self._progress, self._total, self._done = progress, total, 0.0

    def start(self, message: str, weight: float) -> None:
        if self._progress is not None:
            self._progress(self._done / self._total, message)
        self._done += weight

    def finish(self, message: str) -> None:
        if self._progress is not None:
            self._progress(1.0, message)


def _spread(period: tuple[datetime, datetime], rows: int) -> list[str]:
    """``rows`` whole-second times spread evenly over ``period``, in order, as ISO 8601 UTC text."""
    import numpy as np

    start, end = period
    seconds = np.floor(np.arange(rows) * ((end - start).total_seconds() / rows)).astype("int64")
    return [(start + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ") for s in seconds]


def _log_frame(
    data: pd.DataFrame, model: Any, *, ids: list[str], period: tuple[datetime, datetime]
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    score = model.predict_proba(data[list(FEATURES)])[:, list(model.classes_).index(1)]
    frame = pd.DataFrame({ID: ids, TIMESTAMP: _spread(period, len(data))})
    for column in (*FEATURES, *SENSITIVE, LABEL):
        frame[column] = data[column].to_numpy()
    frame[PREDICTION] = (score >= 0.5).astype("int64")
    frame[SCORE] = np.round(score, 6)
    return frame


def _refuse_if_built(db: Database) -> None:
    existing = list_model_versions(db, name=DEMO_MODEL)
    if existing:
        versions = ", ".join(v.version for v in existing)
        raise ConflictError(ALREADY_BUILT.format(model=DEMO_MODEL, versions=versions))


def build_demo_workspace(
    db: Database, *, actor: str | None = None, progress: DemoProgress | None = None
) -> DemoSummary:
    """Build the demo workspace into ``db``; ``ConflictError`` (nothing written) if it is already there.

    Each step is an ordinary use case with its own transaction and audit events; a step that fails
    (or a cancelled progress callback) leaves the steps before it in place.
    """
    began = time.monotonic()
    _refuse_if_built(db)
    # The heavy imports (pandas, scipy, scikit-learn, shap) only once we know there is work to do.
    import skops.io as sio

    from signoff.importers.demo_data import TEST, TRAIN, read_adult
    from signoff.importers.policy_file import load_policy
    from signoff.services.drift import analyze_drift, analyze_validation
    from signoff.services.explain import explain_model_version
    from signoff.services.fairness import analyze_fairness, analyze_monitoring, analyze_performance
    from signoff.services.logs import import_log
    from signoff.services.model_artifacts import attach_model_file
    from signoff.services.policy import check_policy
    from signoff.services.registry_import import import_model_card

    policy, _ = load_policy(DEMO_POLICY)  # a broken shipped policy should stop us before anything is written
    fairness_settings = policy.settings.get("fairness", {})
    seed = int(fairness_settings.get("seed", SEED))
    resamples = int(fairness_settings.get("bootstrap_resamples", 1000))
    per_version = 1 + 1 + 2 + 0.5 + 1.5 + 1.5 + 0.3 + 0.5 + 1 + 0.7
    steps = _Steps(progress, 2 + 1 + 3 + len(SPECS) * per_version)

    steps.start("Reading the UCI Adult data", 2)
    train, test = read_adult(TRAIN), read_adult(TEST)
    reference_rows = train.sample(n=REFERENCE_ROWS, random_state=SEED).sort_index()
    models = {}
    for spec, weight in zip(SPECS, (1, 3), strict=True):
        steps.start(f"Training version {spec.version}: {spec.algorithm}", weight)
        models[spec.version] = spec.make().fit(train[list(FEATURES)], train[LABEL])

    built: list[DemoVersion] = []
    with work_folder("demo") as folder:
        work = Path(folder)
        for spec in SPECS:
            v = spec.version
            model = models[v]
            steps.start(f"Version {v}: registering the model and attaching its file", 1)
            model_version = add_model_version(
                db, name=DEMO_MODEL, version=v, description=spec.description, actor=actor
            )
            model_path = work / f"adult-income-v{v}.skops"
            sio.dump(model, model_path)
            attached = attach_model_file(db, name=DEMO_MODEL, version=v, path=model_path, actor=actor)
            # The model card fills the inventory record (intended and out-of-scope uses, training data).
            import_model_card(
                db, resource_path("demo", "model-card.md"), model=DEMO_MODEL, version=v, actor=actor
            )

            logs: dict[LogRole, DemoLog] = {}
            for role, data, ids, period, weight in (
                (
                    LogRole.REFERENCE,
                    reference_rows,
                    [f"train-{i + 1:05d}" for i in reference_rows.index],
                    REFERENCE_PERIOD,
                    1,
                ),
                (
                    LogRole.PRODUCTION,
                    test,
                    [f"test-{i + 1:05d}" for i in range(len(test))],
                    PRODUCTION_PERIOD,
                    2,
                ),
            ):
                steps.start(f"Version {v}: importing the {role} log ({len(data):,} rows)", weight)
                path = work / f"adult-income-v{v}-{role}.csv"
                _log_frame(data, model, ids=ids, period=period).to_csv(path, index=False)
                stored = import_log(
                    db, path, model=DEMO_MODEL, version=v, mapping=MAPPING, role=role, actor=actor
                ).log
                logs[role] = DemoLog(stored.id, str(role), stored.rows, stored.evidence_sha256)
            reference, production = logs[LogRole.REFERENCE], logs[LogRole.PRODUCTION]

            analyses: list[tuple[str, int]] = []
            steps.start(f"Version {v}: validating both logs", 0.5)
            for log in (reference, production):
                run = analyze_validation(db, name=DEMO_MODEL, version=v, log_id=log.id, actor=actor).run
                analyses.append((run.kind, run.id))
            steps.start(f"Version {v}: fairness by sex, race and age group, and their pairs", 1.5)
            fairness = analyze_fairness(
                db,
                name=DEMO_MODEL,
                version=v,
                log_id=production.id,
                intersections=2,
                reference=dict(policy.reference_groups),
                min_group_size=policy.min_group_size,
                n_resamples=resamples,
                seed=seed,
                actor=actor,
            ).run
            analyses.append((fairness.kind, fairness.id))
            steps.start(f"Version {v}: performance overall and per group", 1.5)
            performance = analyze_performance(
                db,
                name=DEMO_MODEL,
                version=v,
                log_id=production.id,
                intersections=2,
                min_group_size=policy.min_group_size,
                n_resamples=resamples,
                seed=seed,
                actor=actor,
            ).run
            analyses.append((performance.kind, performance.id))
            steps.start(f"Version {v}: weekly monitoring of the approval rate", 0.3)
            monitoring = analyze_monitoring(
                db, name=DEMO_MODEL, version=v, log_id=production.id, frequency="week", actor=actor
            ).run
            analyses.append((monitoring.kind, monitoring.id))
            steps.start(f"Version {v}: drift of production against the reference log", 0.5)
            drift = analyze_drift(
                db,
                name=DEMO_MODEL,
                version=v,
                reference_log_id=reference.id,
                current_log_id=production.id,
                bins=int(policy.settings.get("drift", {}).get("bins", 10)),
                actor=actor,
            ).run
            analyses.append((drift.kind, drift.id))
            steps.start(f"Version {v}: SHAP explanations of {EXPLAIN_SAMPLE} production rows", 1)
            explained = explain_model_version(
                db,
                name=DEMO_MODEL,
                version=v,
                log_id=production.id,
                reference_log_id=reference.id,
                sample_size=EXPLAIN_SAMPLE,
                rows=EXPLAIN_ROWS,
                seed=seed,
                actor=actor,
            ).run
            analyses.append((explained.kind, explained.id))
            steps.start(f"Version {v}: checking the policy {DEMO_POLICY}", 0.7)
            checked = check_policy(db, name=DEMO_MODEL, version=v, policy_file=DEMO_POLICY, actor=actor)
            analyses.append((checked.run.kind, checked.run.id))

            built.append(
                DemoVersion(
                    version=v,
                    model_version_id=model_version.id,
                    algorithm=spec.algorithm,
                    model_file=attached,
                    logs=(reference, production),
                    analyses=tuple(analyses),
                    policy_status=checked.evaluation.status.value,
                )
            )
    steps.finish("Demo workspace ready")
    return DemoSummary(DEMO_MODEL, DEMO_POLICY, tuple(built), time.monotonic() - began)
