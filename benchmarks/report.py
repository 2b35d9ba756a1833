"""Benchmark: build and render a ~30-page audit report; the issue's target is under 2 s.

Evidence: 3 prediction logs, 3 sensitive attributes with every pairwise intersection and the triple one,
performance per segment, drift on 20 columns, a policy evaluated on all of it, 200 audit events. SHAP results and signatures are not
yet domain types on main, so their sections print "not available" and cost nothing here.
Run: PYTHONPATH=app .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from signoff import __version__
from signoff.domain.audit import chain_event, verify_chain
from signoff.domain.drift import ColumnDrift, ColumnType, DriftResult, DriftVerdict
from signoff.domain.observations import Observation
from signoff.domain.policy import Operator, Policy, Rule, evaluate_policy
from signoff.domain.prediction_log import (
    ColumnMapping,
    LogRole,
    PredictionLog,
    ValidationIssue,
    ValidationReport,
)
from signoff.domain.registry import ModelVersion
from signoff.reporting.audit_report import AuditReportInput, build_audit_report
from signoff.reporting.pdf import render_pdf
from signoff.reporting.verify import read_report

TARGET_SECONDS = 2.0
T0 = datetime(2026, 11, 1, tzinfo=UTC)
ATTRIBUTES = {
    "sex": ("Female", "Male", "Unknown"),
    "race": ("White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Unknown"),
    "age_group": ("<25", "25-39", "40-54", "55+"),
}
FAIRNESS_METRICS = ("impact_ratio", "selection_rate", "true_positive_rate", "false_positive_rate")


def evidence() -> AuditReportInput:
    rng = random.Random(20261122)
    observations: list[Observation] = []

    def observe(metric: str, scope: str) -> None:
        value = rng.uniform(0.55, 1.0)
        width = rng.uniform(0.01, 0.08)
        n = rng.randint(20, 20_000)
        observations.append(
            Observation(metric, scope, value, value - width, min(value + width, 1.2), n, n < 30)
        )

    names = list(ATTRIBUTES)
    groupings = [(a,) for a in names] + list(itertools.combinations(names, 2)) + [tuple(names)]
    for grouping in groupings:
        for groups in itertools.product(*(ATTRIBUTES[a] for a in grouping)):
            scope = "&".join(f"{a}={g}" for a, g in zip(grouping, groups, strict=True))
            for metric in FAIRNESS_METRICS:
                observe(f"fairness.{metric}", scope)
        observe("fairness.demographic_parity_difference", "&".join(grouping))
    observe("performance.roc_auc", "overall")
    observe("performance.accuracy", "overall")
    for attribute, groups in ATTRIBUTES.items():
        for group in groups:
            observe("performance.roc_auc", f"{attribute}={group}")
    drift = DriftResult(
        columns=tuple(
            ColumnDrift(
                column=f"feature_{c:02d}",
                type=ColumnType.NUMERIC,
                verdict=DriftVerdict.DRIFTED if c % 7 == 0 else DriftVerdict.STABLE,
                reference_rows=1_000_000,
                current_rows=1_000_000,
                reference_missing=c,
                current_missing=2 * c,
                psi=rng.uniform(0, 0.3),
                jensen_shannon=rng.uniform(0, 0.2),
                ks_statistic=rng.uniform(0, 0.1),
                ks_p_value=rng.uniform(0, 1),
                wasserstein_normalised=rng.uniform(0, 0.2),
            )
            for c in range(20)
        ),
        reference_rows=1_000_000,
        current_rows=1_000_000,
    )
    observations += drift.observations()
    policy = Policy(
        name="benchmark",
        version="0" * 64,
        rules=(
            Rule("IR", "fairness.impact_ratio", ("sex=*", "race=*", "age_group=*"), Operator.GE, 0.8),
            Rule("TPR", "fairness.true_positive_rate", ("sex=*",), Operator.GE, 0.6),
            Rule("PSI", "drift.psi", ("*",), Operator.LT, 0.2),
        ),
    )

    mapping = ColumnMapping(
        label="y", prediction="p", scores=("s",), sensitive=tuple(names), features=("f",) * 20
    )
    logs = tuple(
        PredictionLog(
            id=i + 1,
            model_version_id=1,
            role=role,
            source_name=f"log_{role.value}.parquet",
            source_sha256=f"{i:x}" * 64,
            evidence_sha256=f"{i + 3:x}" * 64,
            rows=1_000_000,
            mapping=mapping,
            validation=ValidationReport(
                rows_read=1_000_017,
                rows_kept=1_000_000,
                issues=(ValidationIssue("missing", "f", 17, tuple(range(1, 18)), "f is empty"),),
            ),
            period_start=T0 - timedelta(days=30 * (i + 1)),
            period_end=T0 - timedelta(days=30 * i),
        )
        for i, role in enumerate(LogRole)
    )
    events, previous = [], None
    for i in range(200):
        previous = chain_event(
            previous,
            occurred_at=T0 + timedelta(minutes=i),
            actor="Zoë Łukasz Ñúñez",
            action="analysis.run",
            entity="model_version:1",
            payload={"i": i},
        )
        events.append(previous)
    return AuditReportInput(
        model_version=ModelVersion(id=1, name="adult-income", version="4", source="mlflow"),
        generated_at=T0,
        signoff_version=__version__,
        bundle_hash="a" * 64,
        review_status="approved",
        prediction_logs=logs,
        observations=tuple(observations),
        analyses_run=("performance", "fairness", "drift"),
        audit_events=tuple(events),
        chain_verdict=verify_chain(events),
        policy_evaluation=evaluate_policy(policy, observations, (), today=T0.date()),
        drift=drift,
        drift_logs=(1, 3),
    )


def main() -> None:
    data = evidence()
    timings, cpu = [], []
    with TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        render_pdf(build_audit_report(data), path)  # first run also loads the fonts (once per process)
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            render_pdf(build_audit_report(data), path)
            timings.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        size = path.stat().st_size
        result = read_report(path)
        from pypdf import PdfReader

        pages = len(PdfReader(path).pages)
    best, median = min(timings), statistics.median(timings)
    print(
        f"observations: {len(data.observations)}, logs: {len(data.prediction_logs)}, events: {len(data.audit_events)}"
    )
    print(f"pages: {pages}, size: {size / 1024:.0f} KiB, verifies: {result.ok}")
    print(
        f"build + render (s): best {best:.2f}, median {median:.2f}, CPU median {statistics.median(cpu):.2f}"
        f" | target < {TARGET_SECONDS:.1f}"
    )
    print("within target" if median < TARGET_SECONDS else "OVER TARGET")


if __name__ == "__main__":
    main()
