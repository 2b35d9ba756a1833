"""A hand-built known case for the audit report: every number here is what the PDF must print."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.audit import chain_event, verify_chain
from signoff.domain.drift import ColumnDrift, ColumnType, DriftResult, DriftVerdict
from signoff.domain.observations import Observation
from signoff.domain.policy import JudgedOn, Operator, Policy, PolicyEvaluation, Rule, Waiver, evaluate_policy
from signoff.domain.prediction_log import (
    ColumnMapping,
    LogRole,
    PredictionLog,
    ValidationIssue,
    ValidationReport,
)
from signoff.domain.profiles import CategoryCount, ColumnKind, ColumnProfile, LogProfile
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import ALIAS_MOVED, RegistryChange, SnapshotInfo
from signoff.domain.registry_snapshot import (
    ArtifactFile,
    DatasetInput,
    EvaluationResult,
    ModelCard,
    ModelVersionRecord,
    RunLineage,
)
from signoff.reporting.audit_report import AuditReportInput

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUNDLE = "b" * 8 + "0123456789abcdef" * 3 + "c" * 8


def model_version() -> ModelVersion:
    return ModelVersion(
        id=7,
        name="credit-risk",
        version="3",
        description="Gradient-boosted credit default model",
        source="mlflow",
        created_at=T0,
        attributes={
            "tracking_uri": "http://mlflow.internal:5000",
            "run_id": "4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a",
            "owner": "Zoë Łukasz Ñúñez",
            "intended_use": "Pre-screening of consumer credit applications",
            "out_of_scope_uses": ["employment decisions", "insurance pricing"],
            "risk_rating": "high",
            "status": "candidate",
            "git_commit": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "team": "Retail risk",
        },
    )


def prediction_logs(count: int = 2) -> tuple[PredictionLog, ...]:
    mapping = ColumnMapping(
        label="default",
        prediction="pred",
        scores=("score",),
        sensitive=("sex", "race"),
        features=("age", "income"),
    )
    logs = []
    for i in range(count):
        issues = (
            (
                ValidationIssue("missing", "income", 12, (3, 17, 44), "income is empty"),
                ValidationIssue("label_domain", "default", 2, (101, 202), "label 'maybe' is not 0 or 1"),
            )
            if i == 0
            else ()
        )
        logs.append(
            PredictionLog(
                id=11 + i,
                model_version_id=7,
                role=(LogRole.VALIDATION, LogRole.PRODUCTION, LogRole.REFERENCE)[i % 3],
                source_name=f"scores_2026_q{i + 1}.csv",
                source_sha256=f"{i + 1:x}" * 64,
                evidence_sha256=f"{i + 10:x}" * 64,
                rows=48_828 - 14 * (i == 0),
                mapping=mapping,
                validation=ValidationReport(
                    rows_read=48_828, rows_kept=48_828 - 14 * (i == 0), issues=issues, label_domain=("0", "1")
                ),
                quarantine_sha256=("e" * 64) if i == 0 else None,
                period_start=T0 - timedelta(days=90 * (i + 1)),
                period_end=T0 - timedelta(days=90 * i),
                imported_at=T0 + timedelta(hours=i),
                imported_by="Ørjan Åsmund Þórsdóttir",
            )
        )
    return tuple(logs)


FAIRNESS = (
    # metric, scope, value, ci_low, ci_high, n, insufficient
    ("fairness.impact_ratio", "sex=Female", 0.712, 0.655, 0.771, 16_192, False),
    ("fairness.impact_ratio", "sex=Male", 1.0, 1.0, 1.0, 32_650, False),
    ("fairness.impact_ratio", "sex=Unknown", 0.934, 0.612, 1.204, 12, True),
    ("fairness.selection_rate", "sex=Female", 0.1094, 0.1046, 0.1142, 16_192, False),
    ("fairness.demographic_parity_difference", "sex", 0.0442, 0.0381, 0.0503, 16_192, False),
    ("fairness.impact_ratio", "race=White", 1.0, 1.0, 1.0, 41_762, False),
    ("fairness.impact_ratio", "race=Black", 0.683, 0.622, 0.741, 4_685, False),
    ("fairness.impact_ratio", "sex=Female&race=White", 0.745, 0.69, 0.80, 13_027, False),
    ("fairness.impact_ratio", "sex=Female&race=Black", 0.421, 0.35, 0.49, 2_308, False),
    ("fairness.impact_ratio", "sex=Male&race=White", 1.0, 1.0, 1.0, 28_735, False),
    ("fairness.impact_ratio", "sex=Male&race=Black", 0.806, 0.74, 0.87, 2_377, False),
)
PERFORMANCE = (
    ("performance.roc_auc", "overall", 0.8612, 0.8571, 0.8653, 48_814, False),
    ("performance.accuracy", "overall", 0.8433, 0.8401, 0.8465, 48_814, False),
    ("performance.roc_auc", "sex=Female", 0.8744, 0.8662, 0.8826, 16_192, False),
    ("performance.roc_auc", "sex=Male", 0.8529, 0.8478, 0.8580, 32_650, False),
)
DRIFT = (
    ("drift.psi", "age", 0.0312, None, None, 48_814, False),
    ("drift.psi", "income", 0.2671, None, None, 48_814, False),
)


def observations(rows) -> tuple[Observation, ...]:
    return tuple(
        Observation(metric=m, scope=s, value=v, ci_low=lo, ci_high=hi, n=n, insufficient=ins, detail="")
        for m, s, v, lo, hi, n, ins in rows
    )


def audit_events(count: int = 6):
    events, previous = [], None
    actions = (
        "model.added",
        "log.imported",
        "log.imported",
        "analysis.run",
        "review.submitted",
        "review.signed",
    )
    for i in range(count):
        previous = chain_event(
            previous,
            occurred_at=T0 + timedelta(minutes=7 * i),
            actor=("Zoë Łukasz Ñúñez", "Dvořák Čapek")[i % 2],
            action=actions[i % len(actions)],
            entity="model_version:7",
            payload={"step": i},
        )
        events.append(previous)
    return tuple(events)


def analysis_runs() -> tuple[AnalysisRun, ...]:
    log_hash = prediction_logs()[0].evidence_sha256
    return tuple(
        AnalysisRun(
            id=run_id,
            kind=kind,
            model_version_id=7,
            inputs={"log": log_hash},
            parameters={"bootstrap": 1000, "seed": 7},
            engine_version=f"signoff.analysis.{kind} 0.1.0",
            result={"rows": 48_814},
            result_sha256=f"{run_id:x}" * 64,
            created_at=T0 + timedelta(hours=3),
            created_by="Zoë Łukasz Ñúñez",
        )
        for run_id, kind in ((21, "performance"), (22, "fairness"), (23, "shap"))
    )


POLICY = Policy(
    name="credit-fairness",
    version="f" * 64,
    rules=(
        Rule("IR-sex", "fairness.impact_ratio", ("sex=*",), Operator.GE, 0.8),
        Rule("IR-race", "fairness.impact_ratio", ("race=*",), Operator.GE, 0.8),
        Rule("AUC", "performance.roc_auc", ("overall",), Operator.GE, 0.75, on=JudgedOn.CI_LOW),
    ),
    min_group_size=30,
    required_analyses=("fairness", "performance", "explain"),
)
WAIVERS = (
    Waiver(
        rule_id="IR-race",
        scope="race=Black",
        justification="Remediation plan RP-12 agreed with the model owner",
        granted_by="Ørjan Åsmund Þórsdóttir",
        until=date(2026, 12, 31),
        created_at=T0 + timedelta(hours=5),
        id=1,
    ),
)


def policy_evaluation() -> PolicyEvaluation:
    return evaluate_policy(POLICY, observations(FAIRNESS + PERFORMANCE), WAIVERS, today=date(2026, 11, 21))


def drift_result() -> DriftResult:
    common = dict(type=ColumnType.NUMERIC, reference_rows=48_828, current_rows=48_814)
    return DriftResult(
        columns=(
            ColumnDrift(
                column="age",
                verdict=DriftVerdict.STABLE,
                reference_missing=0,
                current_missing=0,
                psi=0.0312,
                jensen_shannon=0.0441,
                ks_statistic=0.0213,
                ks_p_value=0.2104,
                wasserstein_normalised=0.0307,
                **common,
            ),
            ColumnDrift(
                column="income",
                verdict=DriftVerdict.DRIFTED,
                reference_missing=12,
                current_missing=40,
                psi=0.2671,
                jensen_shannon=0.1822,
                ks_statistic=0.1106,
                ks_p_value=1e-9,
                wasserstein_normalised=0.2519,
                **common,
            ),
        ),
        reference_rows=48_828,
        current_rows=48_814,
    )


def column_profile() -> LogProfile:
    return LogProfile(
        rows=48_814,
        columns=(
            ColumnProfile(
                name="age",
                kind=ColumnKind.NUMERIC,
                dtype="int64",
                rows=48_814,
                missing=0,
                distinct=73,
                minimum=17.0,
                maximum=90.0,
                mean=38.6436,
                std=13.7105,
                quantiles=((0.25, 28.0), (0.5, 37.0), (0.75, 48.0)),
            ),
            ColumnProfile(
                name="sex",
                kind=ColumnKind.CATEGORICAL,
                dtype="string",
                rows=48_814,
                missing=12,
                distinct=2,
                top_categories=(
                    CategoryCount("Male", 32_650, 0.6689),
                    CategoryCount("Female", 16_152, 0.3309),
                ),
            ),
        ),
    )


TRAIN_DIGEST = "d41d8cd9"
ARTIFACT_SHA = "3" * 64
SNAPSHOT_SHA = "5" * 64


def registry_record() -> ModelVersionRecord:
    return ModelVersionRecord(
        name="credit-risk",
        version="3",
        status="READY",
        stage="Staging",
        created_at=T0 - timedelta(days=2),
        created_by="Dvořák Čapek",
        source_uri="models:/m-0a1b2c3d",
        run=RunLineage(
            run_id="4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a",
            experiment_name="credit/gbm",
            user="Zoë Łukasz Ñúñez",
            status="FINISHED",
            tags={"mlflow.source.git.commit": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"},
            datasets=(
                DatasetInput(
                    name="adult-train", digest=TRAIN_DIGEST, context="training", source="s3://d/train"
                ),
            ),
        ),
        artifacts=(ArtifactFile(path="model/model.skops", size=1_234_567, sha256=ARTIFACT_SHA),),
        card=ModelCard(
            summary="Predicts default within 12 months",
            intended_uses="Pre-screening only; a person decides",
            risk_rating="high",
            limitations="Not validated for applicants under 21",
            evaluation_results=(EvaluationResult(metric="roc_auc", value=0.8591, dataset="holdout-2026"),),
        ),
    )


def snapshots() -> tuple[SnapshotInfo, ...]:
    return tuple(
        SnapshotInfo(
            id=i + 1,
            source_kind="mlflow",
            source_uri="http://mlflow.internal:5000",
            taken_at=T0 + timedelta(days=i),
            content_sha256=SNAPSHOT_SHA if i else "4" * 64,
            models=3,
            versions=9,
            changes=i,
            imported_at=T0 + timedelta(days=i, minutes=1),
            imported_by="Dvořák Čapek",
        )
        for i in range(2)
    )


def registry_history() -> tuple[RegistryChange, ...]:
    return (
        RegistryChange(
            kind=ALIAS_MOVED,
            model="credit-risk",
            version=None,
            subject="champion",
            before="2",
            after="3",
            seen_after=T0,
            seen_by=T0 + timedelta(days=1),
        ),
    )


def known_case(**overrides) -> AuditReportInput:
    events = audit_events()
    values = dict(
        model_version=model_version(),
        generated_at=T0 + timedelta(days=1),
        signoff_version="0.1.0",
        exported_by="Dvořák Čapek",
        bundle_hash=BUNDLE,
        review_status="in review",
        prediction_logs=prediction_logs(),
        observations=observations(FAIRNESS + PERFORMANCE + DRIFT),
        analysis_runs=analysis_runs(),
        analyses_run=("drift",),
        audit_events=events,
        chain_verdict=verify_chain(events),
        policy_evaluation=policy_evaluation(),
        waivers=WAIVERS,
        column_profiles={11: column_profile()},
        drift=drift_result(),
        drift_logs=(11, 12),
        registry_record=registry_record(),
        snapshots=snapshots(),
        registry_history=registry_history(),
    )
    values.update(overrides)
    return AuditReportInput(**values)


def explanation():
    """A SHAP result written by hand: two features, one group gap, one local row that adds up."""
    from signoff.domain.explanation import (
        Additivity,
        DirectionBin,
        ExplainerKind,
        Explanation,
        ExplanationSettings,
        FeatureContribution,
        FeatureDirection,
        FeatureImportance,
        GroupImportance,
        ImportanceGap,
        LocalExplanation,
    )

    settings = ExplanationSettings(
        explainer=ExplainerKind.TREE,
        method="shap.TreeExplainer (interventional)",
        output_space="log-odds",
        model_class="sklearn.ensemble.GradientBoostingClassifier",
        features=("income", "age"),
        rows_available=5000,
        sample_size=1000,
        background_size=200,
        background_source="reference log 13",
        seed=7,
        bootstrap_resamples=500,
        confidence=0.95,
        min_group_size=30,
        shap_version="0.46.0",
        estimate=None,
    )
    return Explanation(
        settings=settings,
        base_value=-1.25,
        global_importance=(
            FeatureImportance("income", 0.4321, 0.401, 0.466),
            FeatureImportance("age", 0.1234, 0.110, 0.139),
        ),
        directions=(
            FeatureDirection("income", (DirectionBin(0, 1, 10, -0.2), DirectionBin(1, 2, 10, 0.3)), -0.62),
            FeatureDirection("age", (), 0.02),
        ),
        segments=(
            GroupImportance("sex", "Female", 480, (FeatureImportance("income", 0.5102, 0.47, 0.55),)),
            GroupImportance("sex", "Male", 520, (FeatureImportance("income", 0.3604, 0.33, 0.39),)),
        ),
        gaps=(
            ImportanceGap(
                "sex", "income", "Female", "Male", 0.5102, 0.3604, 0.1498, 0.0911, 0.2087, 480, 520
            ),
        ),
        local=(
            LocalExplanation(
                "applicant-17",
                -1.25,
                (FeatureContribution("income", 18500.0, 0.8125), FeatureContribution("age", 23.0, -0.0625)),
                -0.5,
                0.0000012,
            ),
        ),
        additivity=Additivity(max_error=0.0000012, tolerance=0.001, rows_checked=1000, basis="float64 sum"),
    )
