"""The compliance audit report: thirteen sections built from domain objects by pure functions.

``build_audit_report(evidence)`` turns an ``AuditReportInput`` into a ``Report`` content model, one
function per section, in the order of the issue (cover ... appendix). Each section states the
conventions behind its numbers on the page. A section whose inputs are absent says "not run"; one
whose domain type Signoff does not yet hand to the report says "not available in this report"; no
section ever disappears, so a reader can tell "nothing was found" from "nothing was looked at".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from signoff.domain import fairness_flags
from signoff.domain.analysis_requests import DEFAULT_MIN_GROUP_SHARE
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.audit import AuditEvent, ChainVerdict, actor_label, format_utc
from signoff.domain.canonical import canonical_hash
from signoff.domain.comparison import ComparisonResult
from signoff.domain.decision import Condition
from signoff.domain.drift import ColumnDrift, DriftResult, DriftVerdict
from signoff.domain.explanation import Explanation
from signoff.domain.fairness import FairnessResult, SegmentResult
from signoff.domain.fairness_flags import group_flags, impact_ratio_base, reference_note
from signoff.domain.inventory import LABELS
from signoff.domain.observations import Observation
from signoff.domain.palette import Tone
from signoff.domain.performance import PerformanceResult
from signoff.domain.policy import PolicyEvaluation, RuleStatus, RuleVerdict, Waiver
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.profiles import ColumnKind, LogProfile
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import RegistryChange, SnapshotInfo
from signoff.domain.registry_snapshot import ModelVersionRecord
from signoff.domain.review import FindingStatus, Review, ReviewState
from signoff.reporting.comparison_section import comparison_section
from signoff.reporting.content import (
    BarChart,
    Block,
    Callout,
    Heading,
    HeatMap,
    KeyValues,
    Paragraph,
    Report,
    ReportMetadata,
    Section,
    Status,
    Table,
)

FOUR_FIFTHS = 0.8
NOT_RECORDED = "not recorded"
DIGITS = 3  # printed precision; report.json keeps full precision

IMPACT_RATIO_CONVENTION = (
    "impact ratio = group selection rate / highest group's selection rate (NYC LL144 / EEOC four-fifths); "
    "a ratio below 0.8 falls under the four-fifths line."
)
DIFFERENCE_CONVENTION = (
    "Differences and ratios named *_difference / *_ratio follow Fairlearn: between groups, max - min and "
    "min / max of the group metric. Metrics named aif360.* follow AIF360: unprivileged minus (or over) "
    "privileged, signed."
)
INTERVAL_CONVENTION = (
    "Intervals are 95% bootstrap confidence intervals resampled from the per-cell confusion counts "
    '(multinomial), as recorded with each result; "–" where none was computed.'
)
INSUFFICIENT_CONVENTION = (
    "Groups smaller than the policy's minimum group size are reported as insufficient data, never as pass "
    'or fail. Missing sensitive values form an explicit group "Unknown" and are counted.'
)

# Registry identifiers shown on the cover when the import recorded them (other attributes go to section 3).
REGISTRY_IDENTIFIERS = (
    ("tracking_uri", "Tracking URI"),
    ("registry_uri", "Registry URI"),
    ("source_uri", "Source URI"),
    ("model_id", "Logged model ID"),
    ("run_id", "Run ID"),
    ("model_package_arn", "Model package ARN"),
    ("model_card_arn", "Model card ARN"),
    ("repo_id", "Repository"),
    ("revision", "Revision"),
)
INVENTORY_FIELDS = (
    ("owner", "Owner"),
    ("intended_use", "Intended use"),
    ("out_of_scope_uses", "Out-of-scope uses"),
    ("risk_rating", "Risk rating"),
    ("status", "Status"),
    ("distribution_date", "Distribution date (NYC LL144)"),
)
LINEAGE_FIELDS = (
    ("run_id", "Source run"),
    ("code_version", "Code version"),
    ("git_commit", "Code version (git commit)"),
    ("training_dataset", "Training dataset"),
    ("training_dataset_digest", "Training dataset digest"),
    ("evaluation_dataset", "Evaluation dataset"),
    ("evaluation_dataset_digest", "Evaluation dataset digest"),
    ("artifact_sha256", "Model artifact SHA-256"),
)


@dataclass(frozen=True)
class AuditReportInput:
    """Everything an audit report cites, gathered by the report service for one model version.

    ``observations`` are the analysis results in the shape the policy judges them (``domain/observations``);
    sections 6, 7 and 9 print them, with the stored ``analysis_runs`` they came from. The policy
    evaluation and waivers (section 2, 10), column profiles (5) and the drift result (9) are printed in
    full. ``fairness_results`` (section 7's per-group counts) and ``explanations`` (section 8) are the
    stored results with the id of the log they read (None when unknown); ``review`` gives sections 2,
    10 and 11 their findings and signatures, judged current or stale against ``bundle_hash``.
    """

    model_version: ModelVersion
    generated_at: datetime  # pass the evidence bundle's time to make re-exports byte-identical
    signoff_version: str
    exported_by: str = ""
    bundle_hash: str | None = None
    review_status: str | None = None  # None: the model version has no review yet
    report_id: str | None = None  # derived from the evidence when not given
    prediction_logs: tuple[PredictionLog, ...] = ()
    observations: tuple[Observation, ...] = ()
    analysis_runs: tuple[AnalysisRun, ...] = ()  # the runs the observations came from, cited by hash
    analyses_run: tuple[str, ...] = ()  # analyses run without a stored run (e.g. ("drift",))
    audit_events: tuple[AuditEvent, ...] = ()
    chain_verdict: ChainVerdict | None = None
    policy_evaluation: PolicyEvaluation | None = None
    waivers: tuple[Waiver, ...] = ()  # every waiver on record for this model version
    column_profiles: Mapping[int, LogProfile] = field(default_factory=dict)  # prediction log id -> profile
    drift: DriftResult | None = None
    drift_logs: tuple[int, int] | None = None  # (reference log id, current log id) of ``drift``
    registry_record: ModelVersionRecord | None = None  # the version as the latest registry import read it
    snapshots: tuple[SnapshotInfo, ...] = ()  # the registry imports that saw this model
    registry_history: tuple[RegistryChange, ...] = ()  # alias, stage and tag changes between imports
    fairness_results: tuple[tuple[int | None, FairnessResult], ...] = ()  # (log id, result)
    performance_results: tuple[tuple[int | None, PerformanceResult], ...] = ()  # (log id, result)
    explanations: tuple[tuple[int | None, Explanation], ...] = ()  # (log id, SHAP result)
    review: Review | None = None  # the review the report is bound to (findings, signatures)
    comparisons: tuple[tuple[str, ComparisonResult], ...] = ()  # ("v1 (champion) vs v2", result)
    # The inventory record as the bound review's evidence bundle holds it (values, stage history, tier).
    inventory: Mapping[str, Any] | None = None
    conditions: tuple[Condition, ...] = ()  # obligations set by its approval with conditions


def build_audit_report(evidence: AuditReportInput) -> Report:
    model = evidence.model_version
    report_id = evidence.report_id or derive_report_id(evidence)
    sections = (
        _cover(evidence, report_id),
        _summary(evidence),
        _inventory(evidence),
        _lineage(evidence),
        _data(evidence),
        _performance(evidence),
        _fairness(evidence),
        _explainability(evidence),
        _drift_and_monitoring(evidence),
        _findings_and_waivers(evidence),
        _signature_manifest(evidence),
        _audit_trail(evidence),
        _appendix(),
    )
    if evidence.fairness_results:  # after the regulatory mapping, so the usual sections keep their numbers
        sections += (_fairness_appendix(evidence, FAIRNESS_APPENDIX_NUMBER),)
    if evidence.comparisons:  # after the appendix, so that the numbers of the usual sections never move
        sections += (comparison_section(len(sections) + 1, evidence.comparisons),)
    return Report(
        report_id=report_id,
        title="Model audit report",
        subtitle=f"{model.name} version {model.version}",
        metadata=ReportMetadata(
            title=f"Audit report: {model.name} v{model.version}",
            author=evidence.exported_by or "Signoff",
            subject=f"Compliance audit of model {model.name} version {model.version} ({report_id})",
            keywords=("Signoff", "model audit", model.name, f"v{model.version}", report_id),
        ),
        generated_at=evidence.generated_at,
        signoff_version=evidence.signoff_version,
        bundle_hash=evidence.bundle_hash,
        sections=sections,
        payload=_payload(evidence),
        watermark="" if is_approved(evidence) else DRAFT_NOTICE,
    )


FAIRNESS_APPENDIX_NUMBER = 14
DRAFT_NOTICE = "DRAFT — NOT APPROVED"
APPROVED_STATES = frozenset({ReviewState.APPROVED, ReviewState.APPROVED_WITH_CONDITIONS})


def is_approved(evidence: AuditReportInput) -> bool:
    """The version is approved on this evidence: its review is decided approved and no signature is stale."""
    review = evidence.review
    return (
        review is not None
        and review.state in APPROVED_STATES
        and all(_signature_current(evidence, s) for s in review.signatures)
    )


def derive_report_id(evidence: AuditReportInput) -> str:
    """A stable ID from what the report is about and when: the same evidence gives the same ID."""
    model = evidence.model_version
    basis = {
        "model": model.name,
        "version": model.version,
        "bundle_hash": evidence.bundle_hash,
        "generated_at": format_utc(evidence.generated_at),
    }
    return "RPT-" + canonical_hash(basis)[:16]


# --------------------------------------------------------------------------------------------- format


def fmt_number(value: float | int | None, digits: int = DIGITS) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def fmt_interval(low: float | None, high: float | None, digits: int = DIGITS) -> str:
    if low is None or high is None:
        return "–"
    return f"[{fmt_number(low, digits)}, {fmt_number(high, digits)}]"


def fmt_time(moment: datetime | None) -> str:
    if moment is None:
        return NOT_RECORDED
    if moment.tzinfo is None:  # stored times are UTC; a naive one is taken as such
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _not_available(what: str) -> Callout:
    return Callout(Status.NOT_AVAILABLE, f"{what}: not available in this report.")


def _not_run(what: str) -> Callout:
    return Callout(Status.NOT_RUN, f"{what}: not run for this model version.")


def _observations(evidence: AuditReportInput, analysis: str) -> list[Observation]:
    return [o for o in evidence.observations if o.metric.split(".", 1)[0] == analysis]


# Analysis-run kinds named differently from the observation prefix of the same analysis.
_KIND_TO_ANALYSIS = {"shap": "explain", "explanation": "explain", "explainability": "explain"}


def _analysis_of(kind: str) -> str:
    return _KIND_TO_ANALYSIS.get(kind, kind)


def _runs(evidence: AuditReportInput, analysis: str) -> list[AnalysisRun]:
    return [r for r in evidence.analysis_runs if _analysis_of(r.kind) == analysis]


def _ran(evidence: AuditReportInput, analysis: str) -> bool:
    return (
        analysis in evidence.analyses_run
        or bool(_runs(evidence, analysis))
        or bool(_observations(evidence, analysis))
    )


def _provenance(evidence: AuditReportInput, analysis: str) -> list[Block]:
    """Which stored runs a section's numbers come from (details in section 4)."""
    runs = _runs(evidence, analysis)
    if not runs:
        return []
    cited = "; ".join(f"run {r.id} ({r.engine_version or 'engine not recorded'})" for r in runs)
    return [Paragraph(f"Computed by {cited}; inputs and parameters in section 4.", style="note")]


def _short(metric: str) -> str:
    """``fairness.impact_ratio`` -> ``impact_ratio`` (the section already names the analysis)."""
    return metric.split(".", 1)[1] if "." in metric else metric


def _observation_rows(
    observations: Iterable[Observation], *, scope_title: str = "Scope", group_labels: bool = False
) -> Table:
    """Results as a table; the Data and Detail columns appear only when some result fills them."""
    observed = list(observations)
    with_data = any(o.insufficient for o in observed)
    with_detail = any(o.detail for o in observed)
    rows = []
    for o in observed:
        row = [
            _short(o.metric),
            _group_of(o.scope) if group_labels else o.scope,
            fmt_number(o.value),
            fmt_interval(o.ci_low, o.ci_high),
            fmt_number(o.n),
        ]
        if with_data:
            row.append("insufficient data" if o.insufficient else "")
        if with_detail:
            row.append(o.detail)
        rows.append(tuple(row))
    columns = ["Metric", scope_title, "Value", "95% interval", "n"]
    align = ["left", "left", "right", "right", "right"]
    if with_data:
        columns.append("Data")
        align.append("left")
    if with_detail:
        columns.append("Detail")
        align.append("left")
    return Table(columns=tuple(columns), rows=tuple(rows), align=tuple(align))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- sections


def _cover(evidence: AuditReportInput, report_id: str) -> Section:
    model = evidence.model_version
    identifiers = [
        (label, str(model.attributes[key]))
        for key, label in REGISTRY_IDENTIFIERS
        if model.attributes.get(key) not in (None, "")
    ]
    items = [
        ("Model", model.name),
        ("Version", model.version),
        ("Registry source", model.source),
        *identifiers,
        ("Report ID", report_id),
        ("Generated (UTC)", fmt_time(evidence.generated_at)),
        ("Signoff version", evidence.signoff_version),
        ("Evidence bundle hash", evidence.bundle_hash or "none: this report is not bound to a review"),
        ("Review status", evidence.review_status or "no review"),
        ("Exported by", evidence.exported_by or NOT_RECORDED),
    ]
    blocks: list[Block] = [
        KeyValues(tuple(items)),
        Paragraph(
            "The machine-readable content of this report is attached to the PDF as report.json, with the "
            "count tables behind its figures, the manifest of every attachment's SHA-256 and the "
            "certificates that check its signatures; report.json's SHA-256 is printed above. `signoff "
            "verify FILE.pdf --offline` checks all of it without Signoff's database and derives every "
            "number again from the count tables; with the database at hand, `signoff verify FILE.pdf` "
            "also compares the report with the records. All times are UTC.",
            style="note",
        ),
    ]
    return Section(1, "Cover", tuple(blocks))


def _summary(evidence: AuditReportInput) -> Section:
    blocks: list[Block] = [Heading("Policy verdict per rule"), *_policy_blocks(evidence.policy_evaluation)]
    blocks.append(Heading("Results recorded"))
    analyses = ("validation", "performance", "fairness", "explain", "drift", "monitoring")
    rows = []
    for analysis in analyses:
        observed = _observations(evidence, analysis)
        insufficient = sum(1 for o in observed if o.insufficient)
        state = "run" if _ran(evidence, analysis) else "not run"
        rows.append((analysis, state, fmt_number(len(observed)), fmt_number(insufficient)))
    blocks.append(
        Table(
            columns=("Analysis", "State", "Results", "Insufficient data"),
            rows=tuple(rows),
            align=("left", "left", "right", "right"),
            caption="Analyses and the number of results each recorded",
        )
    )
    below = [
        o
        for o in _observations(evidence, "fairness")
        if o.metric == "fairness.impact_ratio"
        and not o.insufficient
        and o.value is not None
        and o.value < FOUR_FIFTHS
    ]
    if below and evidence.policy_evaluation is None:
        blocks.append(
            Table(
                columns=("Group", "Impact ratio", "95% interval", "n"),
                rows=tuple(
                    (o.scope, fmt_number(o.value), fmt_interval(o.ci_low, o.ci_high), fmt_number(o.n))
                    for o in below
                ),
                align=("left", "right", "right", "right"),
                caption="Groups below the four-fifths line (impact ratio < 0.8)",
                note="Whether a group below the line fails depends on the policy's rules; see section 7.",
            )
        )
    blocks += [Heading("Open findings"), *_open_findings(evidence)]
    return Section(2, "Summary", tuple(blocks), new_page=True)


def _open_findings(evidence: AuditReportInput) -> list[Block]:
    review = evidence.review
    if review is None:
        return [_not_run("Review (findings)")]
    still_open = [f for f in review.findings if f.status is FindingStatus.OPEN]
    if not still_open:
        return [
            Callout(Status.PASS, f"Review {review.id} has no open findings ({len(review.findings)} in all).")
        ]
    return [
        Table(
            columns=("#", "Severity", "Type", "Title", "Author"),
            rows=tuple(
                (str(f.number), f.severity.value, f.type.value.replace("_", " "), f.title, f.author)
                for f in still_open
            ),
            align=("right", "left", "left", "left", "left"),
            widths=(0.3, 0.8, 1.1, 3.2, 1.0),
            caption=f"Open findings of review {review.id} (details and resolutions in section 10)",
        )
    ]


_RULE_STATUS = {
    RuleStatus.PASS: Status.PASS,
    RuleStatus.FAIL: Status.FAIL,
    RuleStatus.WAIVED: Status.WAIVED,
    RuleStatus.INSUFFICIENT_DATA: Status.INSUFFICIENT,
    RuleStatus.MISSING: Status.NOT_RUN,
}
_OVERALL_STATUS = {
    "pass": Status.PASS,
    "fail": Status.FAIL,
    "missing": Status.NOT_RUN,
    "insufficient_data": Status.INSUFFICIENT,
}


def _verdict_label(status: RuleStatus) -> str:
    if status is RuleStatus.MISSING:
        return "– MISSING EVIDENCE"
    return _RULE_STATUS[status].label


def _policy_blocks(evaluation: PolicyEvaluation | None) -> list[Block]:
    if evaluation is None:
        return [_not_run("Policy evaluation")]
    counts = ", ".join(
        f"{evaluation.count(status)} {status.value.replace('_', ' ')}"
        for status in RuleStatus
        if evaluation.count(status)
    )
    overall = Callout(
        _OVERALL_STATUS[evaluation.status.value],
        f"Policy {evaluation.policy_name} (version {evaluation.policy_version[:16]}), evaluated on "
        f"{evaluation.evaluated_on.isoformat()}: {evaluation.status.value.replace('_', ' ')} "
        f"({counts or 'no rules'}). The release gate {'passes' if evaluation.passed else 'does not pass'}.",
    )
    blocks: list[Block] = [
        overall,
        Paragraph(
            "Each rule compares one number of an observation (its value or one end of its interval, as the "
            "rule says) with a threshold. Insufficient data is neither pass nor fail; missing evidence "
            "blocks the release gate; a waived failure stays on the record with who waived it and until when."
        ),
        Table(
            columns=("Rule, metric", "Scope", "Verdict", "Judged", "Threshold", "95% interval", "n"),
            rows=tuple(_verdict_row(v) for v in evaluation.verdicts),
            align=("left", "left", "left", "right", "left", "right", "right"),
            caption="Verdict per rule and scope",
        ),
    ]
    if evaluation.missing_analyses:
        blocks.append(
            Callout(
                Status.NOT_RUN,
                "Analyses the policy requires but the evidence lacks: "
                + ", ".join(evaluation.missing_analyses),
            )
        )
    return blocks


_OPERATOR_SIGN = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def _verdict_row(verdict: RuleVerdict) -> tuple[str, ...]:
    rule = verdict.rule
    if verdict.status is RuleStatus.WAIVED and verdict.waiver is not None:
        why = f"waived until {verdict.waiver.until.isoformat()} by {verdict.waiver.granted_by}"
    elif verdict.status in (RuleStatus.PASS, RuleStatus.FAIL):
        why = ""  # the judged number and the threshold say it
    else:
        why = verdict.reason
    return (
        f"{rule.id}\n{_short(rule.metric)}",
        verdict.scope,
        _verdict_label(verdict.status) + (f"\n{why}" if why else ""),
        fmt_number(verdict.judged) if verdict.judged is not None else "–",
        f"{rule.on.value} {_OPERATOR_SIGN[rule.operator.value]} {rule.threshold:g}",
        fmt_interval(verdict.ci_low, verdict.ci_high),
        fmt_number(verdict.n),
    )


def _inventory(evidence: AuditReportInput) -> Section:
    model = evidence.model_version
    attributes = model.attributes
    card = evidence.registry_record.card if evidence.registry_record is not None else None
    # A field the registry did not set is taken from the model card, when the card states it.
    from_card = {
        "intended_use": card.intended_uses if card is not None else "",
        "risk_rating": card.risk_rating if card is not None else "",
    }
    items = [
        (label, _attribute_text(attributes.get(key) or from_card.get(key) or None))
        for key, label in INVENTORY_FIELDS
    ]
    items.insert(0, ("Description", model.description or NOT_RECORDED))
    recorded = _inventory_of_record(evidence.inventory)
    # "registry" holds each source's raw record, printed as "As the registry records it" below.
    shown = {"registry"} | {key for key, _ in (*INVENTORY_FIELDS, *REGISTRY_IDENTIFIERS, *LINEAGE_FIELDS)}
    others = sorted((k, _attribute_text(v)) for k, v in attributes.items() if k not in shown)
    blocks: list[Block] = [
        *recorded,
        Paragraph(
            "From the registry import and the model card as recorded in Signoff; a field the source did not "
            f'provide reads "{NOT_RECORDED}".'
        ),
        KeyValues(tuple(items)),
    ]
    if others:
        blocks.append(
            Table(
                columns=("Attribute", "Value"),
                rows=tuple(others),
                caption="Other recorded attributes",
                widths=(1, 3),
            )
        )
    blocks += _registry_record_blocks(evidence.registry_record)
    return Section(3, "Inventory record", tuple(blocks), new_page=True)


def _inventory_of_record(inventory: Mapping[str, Any] | None) -> list[Block]:
    """The owner-maintained inventory record (``signoff inventory``), when there is one."""
    if not inventory:
        return []
    values = inventory.get("values", {})
    items = [
        (
            LABELS.get(name, name),
            "yes" if value is True else "no" if value is False else str(value),
        )
        for name, value in values.items()
    ]
    history = inventory.get("stage_history") or []
    if history:
        items.append(("Lifecycle", "; ".join(f"{s['stage']} since {s['since']}" for s in history)))
    if inventory.get("risk_tier") is not None:
        items.append(("Risk tier", str(inventory["risk_tier"])))
    return [
        Paragraph("The inventory of record, as the evidence bundle holds it:"),
        KeyValues(tuple(items) or (("Inventory", NOT_RECORDED),)),
    ]


def _registry_record_blocks(record: ModelVersionRecord | None) -> list[Block]:
    if record is None:
        return [_not_run("Registry import for this model version")]
    status = [
        ("Registry status", record.status or NOT_RECORDED),
        ("Stage", record.stage or NOT_RECORDED),
        ("Approval status", record.approval_status or NOT_RECORDED),
        ("Created (UTC)", fmt_time(record.created_at)),
        ("Created by", record.created_by or NOT_RECORDED),
    ]
    blocks: list[Block] = [KeyValues(tuple(status), caption="As the registry records it")]
    card = record.card
    if card is None:
        blocks.append(Callout(Status.INFO, "The registry holds no model card for this version."))
        return blocks
    blocks.append(
        KeyValues(
            (
                ("Summary", card.summary or NOT_RECORDED),
                ("Intended uses", card.intended_uses or NOT_RECORDED),
                ("Risk rating", card.risk_rating or NOT_RECORDED),
                ("Limitations", card.limitations or NOT_RECORDED),
                ("Ethical considerations", card.ethical_considerations or NOT_RECORDED),
                ("Card source", card.source or NOT_RECORDED),
            ),
            caption="Model card",
        )
    )
    if card.evaluation_results:
        blocks.append(
            Table(
                columns=("Metric", "Value", "Dataset", "Split", "Note"),
                rows=tuple(
                    (
                        r.metric,
                        r.value if isinstance(r.value, str) else fmt_number(r.value),
                        r.dataset,
                        r.split,
                        r.note,
                    )
                    for r in card.evaluation_results
                ),
                align=("left", "right", "left", "left", "left"),
                caption="Evaluation figures reported by the model card (not recomputed by Signoff)",
            )
        )
    return blocks


def _lineage(evidence: AuditReportInput) -> Section:
    model = evidence.model_version
    items = [
        (label, _attribute_text(model.attributes[key]))
        for key, label in LINEAGE_FIELDS
        if model.attributes.get(key) not in (None, "")
    ]
    blocks: list[Block] = [
        KeyValues(tuple(items) if items else (("Source run", NOT_RECORDED),)),
        Heading("Prediction logs as evidence"),
        Table(
            columns=("Log", "Role", "Evidence SHA-256 (canonical Parquet)", "Source file SHA-256"),
            rows=tuple(
                (str(log.id), log.role.value, log.evidence_sha256, log.source_sha256)
                for log in evidence.prediction_logs
            ),
            widths=(0.5, 0.9, 3, 3),
        ),
        Heading("Analysis runs cited"),
        _analysis_runs_table(evidence.analysis_runs),
        *(_parameters_table(run) for run in evidence.analysis_runs if run.parameters),
        *_run_lineage_blocks(evidence.registry_record),
        Heading("Import snapshots and registry history"),
        *_history_blocks(evidence),
    ]
    return Section(4, "Lineage", tuple(blocks))


def _run_lineage_blocks(record: ModelVersionRecord | None) -> list[Block]:
    if record is None:
        return []
    blocks: list[Block] = [Heading("Training run and artifacts (from the registry)")]
    run = record.run
    if run is None:
        blocks.append(Paragraph("The registry names no source run for this version.", style="note"))
    else:
        blocks.append(
            KeyValues(
                (
                    ("Run ID", run.run_id),
                    ("Experiment", run.experiment_name or run.experiment_id or NOT_RECORDED),
                    ("Run by", run.user or NOT_RECORDED),
                    ("Run status", run.status or NOT_RECORDED),
                    ("Code version (git commit)", run.git_commit or NOT_RECORDED),
                    ("Source", run.source_name or NOT_RECORDED),
                    ("Source URI", record.source_uri or NOT_RECORDED),
                )
            )
        )
        if run.datasets:
            blocks.append(
                Table(
                    columns=("Dataset", "Context", "Digest", "Source"),
                    rows=tuple((d.name, d.context or "–", d.digest, d.source or "–") for d in run.datasets),
                    caption="Datasets the run consumed",
                )
            )
    if record.artifacts:
        blocks.append(
            Table(
                columns=("Artifact file", "Bytes", "SHA-256"),
                rows=tuple(
                    (a.path, fmt_number(a.size), a.sha256 or f"not downloaded: {a.note or 'no reason given'}")
                    for a in record.artifacts
                ),
                align=("left", "right", "left"),
                caption="Model artifact files",
            )
        )
    return blocks


def _history_blocks(evidence: AuditReportInput) -> list[Block]:
    if not evidence.snapshots:
        return [_not_run("Registry import")]
    blocks: list[Block] = [
        Table(
            columns=("Snapshot", "Source", "Taken (UTC)", "Content SHA-256", "Imported by"),
            rows=tuple(
                (
                    str(s.id),
                    f"{s.source_kind} {s.source_uri}",
                    fmt_time(s.taken_at),
                    s.content_sha256,
                    s.imported_by,
                )
                for s in evidence.snapshots
            ),
            align=("right", "left", "left", "left", "left"),
            caption="Registry snapshots (each import is kept as evidence)",
        )
    ]
    if evidence.registry_history:
        blocks.append(
            Table(
                columns=("Seen between (UTC)", "Change"),
                rows=tuple(
                    (f"{fmt_time(c.seen_after)} and {fmt_time(c.seen_by)}", c.summary)
                    for c in evidence.registry_history
                ),
                caption="Registry history: changes seen between consecutive imports",
                note="Registries such as MLflow keep no history of aliases, stages or tags; Signoff sees a change "
                "between two imports and cannot say exactly when within that window it happened.",
            )
        )
    else:
        blocks.append(Paragraph("No changes were seen between the registry imports.", style="note"))
    return blocks


def _analysis_runs_table(runs: Sequence[AnalysisRun]) -> Block:
    if not runs:
        return Paragraph("No stored analysis runs are cited by this report.", style="note")
    return Table(
        columns=("Run", "Kind, by, at (UTC)", "Engine", "Inputs (role: SHA-256)", "Result SHA-256"),
        rows=tuple(
            (
                str(run.id),
                f"{run.kind}\n{run.created_by}\n{fmt_time(run.created_at)}",
                run.engine_version or NOT_RECORDED,
                "\n".join(f"{role}: {digest[:16]}" for role, digest in sorted(run.inputs.items())) or "–",
                run.result_sha256[:16],
            )
            for run in runs
        ),
        align=("right", "left", "left", "left", "left"),
        caption="Analysis runs",
        note="Hashes show their first 16 hex digits; report.json holds every run in full, with its result. "
        "Each run's parameters follow in words.",
    )


# What each stored parameter means, in the words an auditor reads; a key not listed is spelt out.
PARAMETER_LABELS = {
    "sensitive": "Sensitive attributes",
    "label": "Label column",
    "prediction": "Prediction column",
    "scores": "Score column",
    "positive_label": "Positive label",
    "reference": "Reference group",
    "intersections": "Intersections of attributes",
    "min_group_size": "Smallest group size reported",
    "excluded_share": "Groups below this share of rows left out",
    "n_resamples": "Bootstrap resamples",
    "seed": "Random seed",
    "bins": "Bins of numeric attributes",
    "task": "Task",
    "timestamp": "Decision time column",
    "frequency": "Monitoring period",
    "sigmas": "Control limits (standard deviations)",
    "thresholds": "Decision thresholds",
    "columns": "Columns",
    "categorical": "Categorical columns",
    "top_categories": "Categories shown per column",
    "champion": "Champion",
}
_REFERENCE_WORDS = {"largest": "the largest group", "most_favoured": "the most favoured group"}


def _in_words(value: Any) -> str:
    """A parameter value as plain words: no Python brackets, quotes or None."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_in_words(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_in_words(v)}" for k, v in sorted(value.items())) if value else "none"
    return str(value)


def _parameters_table(run: AnalysisRun) -> Block:
    items = []
    for key, value in sorted(run.parameters.items()):
        label = PARAMETER_LABELS.get(key, key.replace("_", " ").capitalize())
        shown = _REFERENCE_WORDS.get(value, value) if key == "reference" and isinstance(value, str) else value
        items.append((label, _in_words(shown)))
    return KeyValues(tuple(items), caption=f"Parameters of run {run.id} ({run.kind})")


def _data(evidence: AuditReportInput) -> Section:
    logs = evidence.prediction_logs
    if not logs:
        return Section(5, "Data", (_not_run("Prediction log import"),), new_page=True)
    blocks: list[Block] = [
        Paragraph(
            "Each log was validated on import (types, missing values, label domain, score range, duplicate "
            "ids), canonicalised to Parquet and stored by its SHA-256. Rows that failed validation were "
            "quarantined, never dropped silently: they are counted here and stored with their reasons."
        ),
        Table(
            columns=("Log", "Role", "Source file", "Period (UTC)", "Rows read", "Rows kept", "Quarantined"),
            rows=tuple(
                (
                    str(log.id),
                    log.role.value,
                    log.source_name,
                    _period(log),
                    fmt_number(log.validation.rows_read),
                    fmt_number(log.validation.rows_kept),
                    fmt_number(log.validation.rows_quarantined),
                )
                for log in logs
            ),
            align=("right", "left", "left", "left", "right", "right", "right"),
            caption="Prediction logs",
        ),
    ]
    for log in logs:
        validation = log.validation
        blocks.append(Heading(f"Log {log.id}: {log.source_name} ({log.role.value})"))
        blocks.append(
            KeyValues(
                (
                    ("Evidence SHA-256", log.evidence_sha256),
                    ("Rows", fmt_number(log.rows)),
                    ("Task", validation.task),
                    ("Label domain", ", ".join(validation.label_domain) or NOT_RECORDED),
                    ("Columns", _mapping_text(log)),
                    # How the file's values were read (absent for logs read as they were written).
                    *(
                        (("Read as", "; ".join(log.mapping.interpretations())),)
                        if log.mapping.interpretations()
                        else ()
                    ),
                    *(
                        (
                            (
                                "Unlabelled rows",
                                f"{fmt_number(validation.rows_unlabelled)} (outcome not known yet)",
                            ),
                        )
                        if validation.rows_unlabelled
                        else ()
                    ),
                    *(("Warning", warning.message) for warning in validation.warnings),
                    ("Quarantine SHA-256", log.quarantine_sha256 or "no rows quarantined"),
                    ("Imported", f"{fmt_time(log.imported_at)} by {log.imported_by or NOT_RECORDED}"),
                )
            )
        )
        if validation.issues:
            blocks.append(
                Table(
                    columns=("Check", "Column", "Rows", "First rows", "Message"),
                    rows=tuple(
                        (
                            issue.check,
                            issue.column or "–",
                            fmt_number(issue.count),
                            ", ".join(str(r) for r in issue.rows),
                            issue.message,
                        )
                        for issue in validation.issues
                    ),
                    align=("left", "left", "right", "left", "left"),
                    caption=f"Validation issues in log {log.id}",
                )
            )
        else:
            blocks.append(Callout(Status.PASS, f"Log {log.id}: every validation check passed."))
    blocks.append(Heading("Column profiles"))
    profiled = [(log, evidence.column_profiles[log.id]) for log in logs if log.id in evidence.column_profiles]
    if not profiled:
        blocks.append(_not_run("Column profiling"))
    for log, profile in profiled:
        blocks.append(_profile_table(log, profile))
    return Section(5, "Data", tuple(blocks), new_page=True)


def _profile_table(log: PredictionLog, profile: LogProfile) -> Table:
    rows = []
    for column in profile.columns:
        if column.kind is ColumnKind.NUMERIC:
            summary = (
                f"min {_value_text(column.minimum)}, median {_value_text(_median(column))}, "
                f"max {_value_text(column.maximum)}; mean {fmt_number(column.mean)}, sd {fmt_number(column.std)}"
            )
        else:
            top = ", ".join(f"{c.value} {c.share:.1%}" for c in column.top_categories[:4])
            more = (
                f" (+{fmt_number(column.other_categories)} rows in other categories)"
                if column.other_categories
                else ""
            )
            summary = (top or "–") + more
        rows.append(
            (
                column.name,
                column.kind.value,
                f"{fmt_number(column.missing)} ({column.missing_share:.1%})",
                fmt_number(column.distinct),
                summary,
            )
        )
    return Table(
        columns=("Column", "Kind", "Missing", "Distinct", "Summary"),
        rows=tuple(rows),
        align=("left", "left", "right", "right", "left"),
        caption=f"Column profile of log {log.id} ({fmt_number(profile.rows)} rows kept)",
        note="Missing share of all kept rows; sd is the sample standard deviation (ddof = 1); "
        "category shares are of all rows, missing included.",
    )


def _median(column: Any) -> float | None:
    return next((value for p, value in column.quantiles if p == 0.5), None)


def _value_text(value: float | str | None) -> str:
    if isinstance(value, str):
        return value
    return fmt_number(value)


# Per-group performance columns, in this order when the result has them (binary, then regression).
GROUP_PERFORMANCE = (
    ("accuracy", "Accuracy"),
    ("tpr", "TPR"),
    ("fpr", "FPR"),
    ("ppv", "Precision"),
    ("roc_auc", "ROC AUC"),
    ("brier", "Brier"),
    ("mae", "MAE"),
    ("rmse", "RMSE"),
    ("mean_residual", "Mean residual"),
)


def _metric_cell(group: Any, name: str, separator: str = "\n") -> str:
    value = group.metrics.get(name)
    ci = group.bootstrap.get(name) or group.wilson.get(name) or (None, None)
    if value is None:
        return "n/a"
    return f"{fmt_number(value)}{separator}{fmt_interval(*ci)}" if ci[0] is not None else fmt_number(value)


def _performance_from_results(evidence: AuditReportInput) -> Section:
    results = evidence.performance_results
    sources = [f"log {log_id}" if log_id is not None else "log" for log_id, _ in results]
    blocks: list[Block] = [
        Paragraph(INTERVAL_CONVENTION),
        Paragraph(
            "Rates are of the confusion table (TPR: true positive rate, FPR: false positive rate); ROC AUC and "
            "the Brier score use the score column; intervals of proportions are Wilson intervals when no "
            "bootstrap interval was recorded."
        ),
        *_provenance(evidence, "performance"),
        Heading("Overall"),
    ]
    names = list(dict.fromkeys(name for _, result in results for name in result.overall.metrics))
    blocks.append(
        Table(
            columns=(
                "Metric",
                *(
                    f"{src} ({result.task}, n {fmt_number(result.n_rows)})"
                    for src, (_, result) in zip(sources, results, strict=True)
                ),
            ),
            rows=tuple(
                (name, *(_metric_cell(result.overall, name, " ") for _, result in results)) for name in names
            ),
            align=("left", *(("right",) * len(results))),
            caption="Overall performance, value and 95% interval",
        )
    )
    for source, (_, result) in zip(sources, results, strict=True):
        present = [(k, label) for k, label in GROUP_PERFORMANCE if k in result.overall.metrics][:6]
        singles = [seg for seg in result.segments if len(seg.attributes) == 1]
        for seg in sorted(singles, key=lambda seg: seg.name):
            blocks.append(Heading(f"Per group of {seg.name} ({source})"))
            blocks.append(
                Table(
                    columns=("Group", "n", *(label for _, label in present)),
                    rows=tuple(
                        (
                            g.group + (" (insufficient)" if g.insufficient else ""),
                            fmt_number(g.count),
                            *(_metric_cell(g, k) for k, _ in present),
                        )
                        for g in seg.groups
                    ),
                    align=("left", "right", *(("right",) * len(present))),
                    widths=(1.6, 0.7, *((1.1,) * len(present))),
                    caption=f"Performance by {seg.name} ({source}), value and 95% interval",
                )
            )
        deeper = [seg.name.replace("&", " × ") for seg in result.segments if len(seg.attributes) > 1]
        if deeper:
            blocks.append(
                Paragraph(
                    f"Performance per group of the intersections ({', '.join(deeper)}) on {source} is recorded "
                    "in report.json with the analysis run; section 7 prints their fairness.",
                    style="note",
                )
            )
    return Section(6, "Performance", tuple(blocks), new_page=True)


def _performance(evidence: AuditReportInput) -> Section:
    if evidence.performance_results:
        return _performance_from_results(evidence)
    observed = _observations(evidence, "performance")
    if not observed:
        return Section(6, "Performance", (_not_run("Performance analysis"),), new_page=True)
    overall = [o for o in observed if o.scope == "overall"]
    segments = [o for o in observed if o.scope != "overall"]
    blocks: list[Block] = [Paragraph(INTERVAL_CONVENTION), *_provenance(evidence, "performance")]
    if overall:
        blocks.append(Heading("Overall"))
        blocks.append(_observation_rows(overall))
    if segments:
        blocks.append(Heading("Per segment"))
        blocks.append(_observation_rows(segments, scope_title="Segment"))
        for metric in sorted({o.metric for o in segments}):
            per_metric = [o for o in segments if o.metric == metric]
            if len(per_metric) > 1:
                blocks.append(_metric_chart(f"{_short(metric)} per segment", per_metric, _short(metric)))
    return Section(6, "Performance", tuple(blocks), new_page=True)


def _fairness(evidence: AuditReportInput) -> Section:
    observed = _observations(evidence, "fairness")
    if not observed and not evidence.fairness_results:
        return Section(7, "Fairness", (_not_run("Fairness analysis"),), new_page=True)
    blocks: list[Block] = [
        Paragraph(IMPACT_RATIO_CONVENTION),
        Paragraph(DIFFERENCE_CONVENTION),
        Paragraph(INTERVAL_CONVENTION),
        Paragraph(INSUFFICIENT_CONVENTION),
        *_provenance(evidence, "fairness"),
    ]
    if evidence.fairness_results:
        for number, (log_id, result) in enumerate(evidence.fairness_results, start=1):
            blocks += _fairness_result_blocks(number, log_id, result, FAIRNESS_APPENDIX_NUMBER)
        return Section(7, "Fairness", tuple(blocks), new_page=True)
    by_attribute: dict[str, list[Observation]] = {}
    for o in observed:
        by_attribute.setdefault(_attribute_of(o.scope), []).append(o)
    # Single attributes first, then intersections, each alphabetically: the order a reader expects.
    order = sorted(by_attribute, key=lambda a: (a.count("&"), a))
    for number, attribute in enumerate(order, start=1):
        items = by_attribute[attribute]
        kind = "Intersection" if "&" in attribute else "Attribute"
        blocks.append(Heading(f"7.{number} {kind}: {attribute.replace('&', ' × ')}"))
        blocks.append(_observation_rows(items, scope_title="Group", group_labels=True))
        ratios = [o for o in items if o.metric == "fairness.impact_ratio" and "=" in o.scope]
        if ratios:
            blocks.append(_impact_ratio_chart(attribute, ratios))
        if "&" in attribute and attribute.count("&") == 1:
            heat = _intersection_heat_map(attribute, [o for o in items if "=" in o.scope])
            if heat is not None:
                blocks.append(heat)
    blocks.append(
        _not_available("Per-group counts, selection rates, Unknown counts and excluded small categories")
    )
    return Section(7, "Fairness", tuple(blocks), new_page=True)


# Segment-wide comparisons printed per segment (every comparison, per group too, is in report.json).
SEGMENT_COMPARISONS = (
    ("demographic_parity_difference", "DP diff."),
    ("demographic_parity_ratio", "DP ratio"),
    ("equalized_odds_difference", "EO diff."),
    ("equalized_odds_ratio", "EO ratio"),
    ("statistical_parity_difference", "SPD (AIF360)"),
    ("disparate_impact", "DI (AIF360)"),
)


def _comparison_cell(segment: SegmentResult, name: str) -> str:
    found = [c for c in segment.comparisons if c.name == name and c.group is None]
    if not found:
        return "–"
    c = found[0]
    text = f"{fmt_number(c.value)}\n{fmt_interval(*c.ci)}"
    return text + ("\ninsufficient" if c.insufficient else "")


def _segment_order(segments: Iterable[SegmentResult]) -> list[SegmentResult]:
    return sorted(segments, key=lambda seg: (len(seg.attributes), seg.name))


def _fairness_result_blocks(
    number: int, log_id: int | None, result: FairnessResult, appendix: int
) -> list[Block]:
    """The result's comparisons, then a one-page summary of each attribute (and intersection): its worst
    groups with their flags and intervals, and its chart. The full per-group tables are in the appendix."""
    source = f"log {log_id}" if log_id is not None else "the analysed log"
    segments = _segment_order(result.segments)
    blocks: list[Block] = [
        Heading(
            f"7.{number} Fairness on {source}: {fmt_number(result.n_rows)} rows, positive prediction "
            f"{result.positive_label!r}"
        ),
        Table(
            columns=("Segment", *(label for _, label in SEGMENT_COMPARISONS)),
            rows=tuple(
                (
                    seg.name.replace("&", " × "),
                    *(_comparison_cell(seg, name) for name, _ in SEGMENT_COMPARISONS),
                )
                for seg in segments
            ),
            align=("left", *(("right",) * len(SEGMENT_COMPARISONS))),
            widths=(1.6, *((1.0,) * len(SEGMENT_COMPARISONS))),
            caption=f"Comparisons between the groups of each segment ({source}), value and 95% interval",
            note="DP: demographic parity (selection rate), EO: equalized odds (worse of TPR and FPR), Fairlearn "
            "conventions (difference max - min, ratio min / max); SPD and DI: AIF360, unprivileged vs privileged "
            "pooled. Per-group comparisons are in report.json.",
        ),
    ]
    share = float(result.params.get("excluded_share", DEFAULT_MIN_GROUP_SHARE))
    for seg in segments:
        blocks += _segment_summary(seg, source, share, appendix)
    return blocks


# Groups a summary lists: the lowest impact ratios, where a reader looks first.
WORST_GROUPS = 5


def _segment_summary(seg: SegmentResult, source: str, share: float, appendix: int) -> list[Block]:
    """One attribute on (at most) a page: the verdict in words, the worst groups, the chart."""
    kind = "Intersection" if len(seg.attributes) > 1 else "Attribute"
    name = seg.name.replace("&", " × ")
    flags = group_flags(seg, share)
    groups = {g.group: g for g in seg.groups}
    judged = [
        r
        for r in seg.impact_ratios
        if not r.excluded and r.impact_ratio is not None and not groups[r.group].insufficient
    ]
    below = [r for r in judged if fairness_flags.BELOW_FOUR_FIFTHS in flags.get(r.group, ())]
    if below:
        verdict = Callout(
            Status.FAIL,
            f"{len(below)} of {len(judged)} judged groups below the four-fifths line: "
            + "; ".join(
                f"{_group_text(r.group)} {fmt_number(r.impact_ratio)} {fmt_interval(*r.ci)}" for r in below
            )
            + ".",
        )
    elif judged:
        verdict = Callout(
            Status.PASS, f"No group of the {len(judged)} judged falls below the four-fifths line."
        )
    else:
        verdict = Callout(Status.INSUFFICIENT, "No group is large enough to judge its impact ratio.")
    ranked = sorted(
        (r for r in seg.impact_ratios if not r.excluded and r.impact_ratio is not None),
        key=lambda r: (r.impact_ratio, r.group),
    )[:WORST_GROUPS]
    worst = Table(
        columns=("Group", "n", "Selection rate, Wilson 95%", "Impact ratio, 95%", "Flags"),
        rows=tuple(
            (
                _group_text(r.group),
                fmt_number(r.count),
                f"{fmt_number(r.selection_rate)} {fmt_interval(*groups[r.group].wilson.get('selection_rate', (None, None)))}",
                f"{fmt_number(r.impact_ratio)} {fmt_interval(*r.ci)}",
                ", ".join(flags.get(r.group, ())) or "–",
            )
            for r in ranked
        ),
        align=("left", "right", "right", "right", "left"),
        widths=(1.6, 0.6, 1.5, 1.5, 1.8),
        caption=f"Lowest impact ratios by {name} ({source})",
    )
    facts = KeyValues(
        (
            ("Groups", f"{len(seg.groups)}, of which {len(judged)} judged"),
            ("Unknown (missing value)", f"{fmt_number(seg.unknown_count)} rows"),
            ("Excluded from the impact ratio", ", ".join(_group_text(g) for g in seg.excluded) or "none"),
            ("Reference group", seg.reference or "none large enough"),
            ("Impact ratio base", _group_text(impact_ratio_base(seg) or "none")),
            ("Full table", f"section {appendix}, counts and selection rates by {name} ({source})"),
        )
    )
    blocks: list[Block] = [verdict, facts, worst]
    ratios = [
        Observation(
            "fairness.impact_ratio",
            f"{seg.name}={r.group}",
            r.impact_ratio,
            r.ci[0],
            r.ci[1],
            r.count,
            r.insufficient,
        )
        for r in seg.impact_ratios
        if not r.excluded
    ]
    if ratios and len(seg.attributes) == 1:
        blocks.append(_impact_ratio_chart(seg.name, ratios))
    elif ratios and len(seg.attributes) == 2:
        heat = _intersection_heat_map(seg.name, ratios)
        if heat is not None:
            blocks.append(heat)
    return [Heading(f"{kind}: {name} ({source})", keep=len(blocks)), *blocks]


def _group_text(group: str) -> str:
    return group.replace("&", " & ")


def _fairness_appendix(evidence: AuditReportInput, number: int) -> Section:
    """Every group of every segment: counts, selection rates, impact ratios and tests, in full."""
    blocks: list[Block] = [
        Paragraph(
            "The full per-group tables behind the fairness summaries of section 7, Unknown and excluded groups "
            "included. " + INTERVAL_CONVENTION
        )
    ]
    for log_id, result in evidence.fairness_results:
        source = f"log {log_id}" if log_id is not None else "the analysed log"
        share = float(result.params.get("excluded_share", DEFAULT_MIN_GROUP_SHARE))
        for seg in _segment_order(result.segments):
            kind = "Intersection" if len(seg.attributes) > 1 else "Attribute"
            blocks.append(Heading(f"{kind}: {seg.name.replace('&', ' × ')} ({source})"))
            blocks += _group_counts(seg, log_id, result.positive_label, share)
    return Section(number, FAIRNESS_APPENDIX, tuple(blocks), new_page=True)


FAIRNESS_APPENDIX = "Appendix: fairness tables per group"


def _p_value(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _group_counts(
    segment: SegmentResult,
    log_id: int | None,
    positive_label: str,
    excluded_share: float = DEFAULT_MIN_GROUP_SHARE,
) -> list[Block]:
    """Counts, selection rates and impact ratios of every group of one segment, Unknown and excluded too."""
    ratios = {r.group: r for r in segment.impact_ratios}
    flags = group_flags(segment, excluded_share)
    rows = []
    for group in segment.groups:
        ratio = ratios.get(group.group)
        rate = group.metrics.get("selection_rate")
        wilson = group.wilson.get("selection_rate", (None, None))
        if ratio is not None and ratio.excluded:
            impact, impact_ci = "excluded", ""
        elif ratio is not None:
            impact, impact_ci = fmt_number(ratio.impact_ratio), fmt_interval(*ratio.ci)
        else:
            impact, impact_ci = "–", ""
        notes = flags.get(group.group, ())
        significance = group.significance
        rows.append(
            (
                group.group.replace("&", " & "),
                fmt_number(group.count),
                fmt_number(rate),
                fmt_interval(*wilson),
                impact,
                impact_ci,
                "–"
                if significance is None or group.group == segment.reference
                else _p_value(significance.p_value) + (" F" if significance.test == "fisher_exact" else " z"),
                ", ".join(notes),
            )
        )
    source = f"log {log_id}" if log_id is not None else "the analysed log"
    summary = (
        f"{fmt_number(sum(g.count for g in segment.groups))} rows of {source}; Unknown (missing value): "
        f"{fmt_number(segment.unknown_count)} rows; excluded from the impact ratio as small categories: "
        + (", ".join(segment.excluded) if segment.excluded else "none")
        + f"; reference group: {segment.reference or 'none large enough'}. {reference_note(segment)}"
    )
    return [
        Table(
            columns=(
                "Group",
                "n",
                "Selection rate",
                "Wilson 95%",
                "Impact ratio",
                "95% interval",
                "p vs ref.",
                "Notes",
            ),
            rows=tuple(rows),
            align=("left", "right", "right", "right", "right", "right", "right", "left"),
            widths=(1.65, 0.7, 0.9, 1.2, 0.85, 1.2, 0.85, 1.45),
            caption=f"Counts and selection rates by {segment.name.replace('&', ' × ')} ({source})",
            note=f"Selection rate: share of rows predicted {positive_label!r}. p: two-sided test of the group's "
            "selection rate against the reference group's (z: two-proportion z test, F: Fisher's exact test). "
            "Unknown and small categories (under the exclusion share) take no part in the impact ratio. "
            + summary,
        )
    ]


def _explainability(evidence: AuditReportInput) -> Section:
    blocks: list[Block] = [
        Paragraph(
            "Global importance is the mean absolute SHAP value per feature; per-segment differences compare "
            "it across groups; local explanations show single predictions. The explainer, its background "
            "data, the sample size and the additivity error are stated with the results."
        ),
        *_provenance(evidence, "explain"),
    ]
    if evidence.explanations:
        for log_id, explanation in evidence.explanations:
            blocks += _explanation_blocks(log_id, explanation)
    else:
        blocks.append(
            _not_available("SHAP explanations")
            if _ran(evidence, "explain")
            else _not_run("Explainability (SHAP)")
        )
    return Section(8, "Explainability", tuple(blocks), new_page=True)


LOCAL_ROWS = 3  # local explanations printed; report.json keeps every stored one
LOCAL_FEATURES = 8  # largest contributions printed per local explanation
GAP_ROWS = 12


def _explanation_blocks(log_id: int | None, explanation: Explanation) -> list[Block]:
    settings = explanation.settings
    additivity = explanation.additivity
    source = f"log {log_id}" if log_id is not None else "the analysed log"
    ok = {True: "within tolerance", False: "EXCEEDS tolerance", None: "not checked"}[additivity.ok]
    blocks: list[Block] = [
        Heading(f"SHAP explanation of {source}"),
        KeyValues(
            (
                ("Explainer", f"{settings.explainer.value}: {settings.method}"),
                ("Model", settings.model_class),
                (
                    "Output space",
                    settings.output_space
                    + (f" (class {settings.target_class})" if settings.target_class else ""),
                ),
                (
                    "Sample",
                    f"{fmt_number(settings.sample_size)} of {fmt_number(settings.rows_available)} rows (seed {settings.seed})",
                ),
                (
                    "Background",
                    f"{fmt_number(settings.background_size)} rows from {settings.background_source}"
                    if settings.background_size
                    else f"none needed ({settings.background_source})",
                ),
                ("Base value", fmt_number(explanation.base_value)),
                (
                    "Additivity error",
                    f"max {fmt_number(additivity.max_error, 6)} over {fmt_number(additivity.rows_checked)} rows; "
                    f"tolerance {fmt_number(additivity.tolerance, 6)}: {ok}",
                ),
                (
                    "Intervals",
                    f"{settings.confidence:.0%} bootstrap over rows, {fmt_number(settings.bootstrap_resamples)} resamples",
                ),
                ("SHAP version", settings.shap_version),
            ),
            caption="Explainer and its settings",
        ),
    ]
    directions = {d.feature: d.trend for d in explanation.directions}
    importance = explanation.global_importance
    blocks.append(
        Table(
            columns=("Feature", "Mean |SHAP|", "95% interval", "Direction"),
            rows=tuple(
                (
                    i.feature,
                    fmt_number(i.mean_abs_shap),
                    fmt_interval(i.ci_low, i.ci_high),
                    directions.get(i.feature, "–"),
                )
                for i in importance
            ),
            align=("left", "right", "right", "left"),
            widths=(1.6, 1, 1.4, 2.4),
            caption="Global importance (most important first)",
        )
    )
    if importance:
        blocks.append(
            BarChart(
                title=f"Global importance: mean |SHAP| ({settings.output_space})",
                categories=tuple(i.feature for i in importance),
                values=tuple(i.mean_abs_shap for i in importance),
                error_low=tuple(i.ci_low for i in importance),
                error_high=tuple(i.ci_high for i in importance),
                axis_label=f"mean |SHAP| ({settings.output_space})",
                note="Whiskers: bootstrap interval over rows.",
            )
        )
    blocks.append(Heading("Per-segment differences"))
    if explanation.gaps:
        gaps = explanation.gaps[:GAP_ROWS]
        blocks.append(
            Table(
                columns=(
                    "Segment",
                    "Feature",
                    "Higher for",
                    "Lower for",
                    "Mean |SHAP|",
                    "Difference [95%]",
                    "Clear",
                ),
                rows=tuple(
                    (
                        g.attribute.replace("&", " × "),
                        g.feature,
                        f"{g.group_a} (n {fmt_number(g.n_a)})",
                        f"{g.group_b} (n {fmt_number(g.n_b)})",
                        f"{fmt_number(g.mean_abs_a)} vs {fmt_number(g.mean_abs_b)}",
                        f"{fmt_number(g.difference)} {fmt_interval(g.ci_low, g.ci_high)}",
                        "yes" if g.clear else "no",
                    )
                    for g in gaps
                ),
                align=("left", "left", "left", "left", "right", "right", "left"),
                caption="Where the model relies on a feature more for one group than another (largest first)",
                note="Clear: the interval of the difference excludes zero. "
                + (
                    f"{len(explanation.gaps) - GAP_ROWS} smaller differences are in report.json."
                    if len(explanation.gaps) > GAP_ROWS
                    else ""
                ),
            )
        )
        sentences = explanation.gap_sentences(limit=3)
        if sentences:
            blocks.append(Paragraph(" ".join(sentences)))
    else:
        blocks.append(
            Paragraph(
                "No per-segment differences were computed (no sensitive groups large enough).", style="note"
            )
        )
    blocks.append(Heading("Local explanations"))
    if not explanation.local:
        blocks.append(Paragraph("No single rows were explained.", style="note"))
    for row in explanation.local[:LOCAL_ROWS]:
        top = sorted(row.contributions, key=lambda c: -abs(c.shap))[:LOCAL_FEATURES]
        rest = sum(c.shap for c in row.contributions) - sum(c.shap for c in top)
        rows = [(c.feature, _value_text(c.value), f"{c.shap:+.3f}") for c in top]
        if len(row.contributions) > len(top):
            rows.append((f"{len(row.contributions) - len(top)} other features", "", f"{rest:+.3f}"))
        blocks.append(
            Table(
                columns=("Feature", "Value", "SHAP"),
                rows=tuple(rows),
                align=("left", "right", "right"),
                widths=(2, 1.5, 1),
                caption=f"Row {row.row_id}: base {fmt_number(row.base_value)} + contributions = output "
                f"{fmt_number(row.model_output)} (additivity error {fmt_number(row.additivity_error, 6)})",
            )
        )
    return blocks


def _drift_and_monitoring(evidence: AuditReportInput) -> Section:
    if evidence.drift is not None:
        blocks = _drift_blocks(evidence, evidence.drift)
        monitoring = _observations(evidence, "monitoring")
        blocks.append(Heading("Monitoring"))
        blocks.append(_observation_rows(monitoring) if monitoring else _not_run("Monitoring"))
        return Section(9, "Drift and monitoring", tuple(blocks), new_page=True)
    drift = _observations(evidence, "drift")
    monitoring = _observations(evidence, "monitoring")
    blocks: list[Block] = []
    if drift:
        blocks += [
            Paragraph(
                "Drift compares each column of a log with the reference log; each metric's convention "
                "(PSI bins, KS statistic, ...) is given in the Detail column."
            ),
            *_provenance(evidence, "drift"),
            _observation_rows(drift, scope_title="Column"),
        ]
    else:
        blocks.append(_not_run("Drift analysis"))
    blocks.append(Heading("Monitoring"))
    blocks.append(_observation_rows(monitoring) if monitoring else _not_run("Monitoring"))
    return Section(9, "Drift and monitoring", tuple(blocks), new_page=True)


_DRIFT_LABEL = {
    DriftVerdict.STABLE: "✓ stable",
    DriftVerdict.MODERATE: "⚠ moderate",
    DriftVerdict.DRIFTED: "✗ DRIFTED",
}


# The drift page's colours: green stable, amber moderate, red drifted.
_DRIFT_TONE = {
    DriftVerdict.STABLE: Tone.GOOD,
    DriftVerdict.MODERATE: Tone.WARNING,
    DriftVerdict.DRIFTED: Tone.ALERT,
}


def _drift_blocks(evidence: AuditReportInput, result: DriftResult) -> list[Block]:
    thresholds = result.thresholds
    compared = (
        f"log {evidence.drift_logs[1]} against reference log {evidence.drift_logs[0]}"
        if evidence.drift_logs
        else "the current log against the reference log"
    )
    blocks: list[Block] = [
        Paragraph(
            f"Compares {compared}: {fmt_number(result.current_rows)} current rows against "
            f"{fmt_number(result.reference_rows)} reference rows, {result.bins} bins, epsilon {result.epsilon:g}."
        ),
        *_provenance(evidence, "drift"),
        Paragraph(result.conventions, style="note"),
        KeyValues(
            (
                (
                    "PSI moderate / significant",
                    f"{thresholds.psi_moderate:g} / {thresholds.psi_significant:g}",
                ),
                ("Test alpha (KS, chi-square)", f"{thresholds.p_value:g}"),
                (
                    "Effect size: Wasserstein (normalised) / Jensen-Shannon",
                    f"{thresholds.wasserstein:g} / {thresholds.jensen_shannon:g}",
                ),
            ),
            caption="Thresholds",
        ),
    ]
    drifted = result.drifted_columns()
    blocks.append(
        Callout(Status.FAIL, f"Drifted columns: {', '.join(drifted)}.")
        if drifted
        else Callout(Status.PASS, "No column drifted beyond the thresholds.")
    )
    blocks.append(
        Table(
            columns=(
                "Column",
                "Type",
                "Verdict",
                "PSI",
                "JS",
                "KS (p)",
                "Wasserstein norm.",
                "Chi² (p)",
                "Missing ref / cur",
            ),
            rows=tuple(_drift_row(c) for c in result.columns),
            align=("left", "left", "left", "right", "right", "right", "right", "right", "right"),
            caption="Drift per column",
        )
    )
    with_psi = [c for c in result.columns if c.psi is not None]
    if with_psi:
        blocks.append(
            BarChart(
                title="PSI per column",
                categories=tuple(c.column for c in with_psi),
                values=tuple(c.psi for c in with_psi),
                axis_label="population stability index",
                reference=thresholds.psi_significant,
                reference_label=f"significant {thresholds.psi_significant:g}",
                highlight=tuple(c.verdict is DriftVerdict.DRIFTED for c in with_psi),
                highlight_label="drifted",
                tones=tuple(_DRIFT_TONE[c.verdict] for c in with_psi),
            )
        )
    notes = [f"{c.column}: {note}" for c in result.columns for note in c.notes]
    if notes:
        blocks.append(Paragraph("Notes: " + "; ".join(notes), style="note"))
    return blocks


def _drift_row(column: ColumnDrift) -> tuple[str, ...]:
    def with_p(statistic: float | None, p_value: float | None) -> str:
        if statistic is None:
            return "–"
        return f"{fmt_number(statistic)} ({_p_text(p_value)})"

    return (
        column.column,
        column.type.value,
        _DRIFT_LABEL[column.verdict],
        fmt_number(column.psi),
        fmt_number(column.jensen_shannon),
        with_p(column.ks_statistic, column.ks_p_value),
        fmt_number(column.wasserstein_normalised),
        with_p(column.chi2_statistic, column.chi2_p_value),
        f"{fmt_number(column.reference_missing)} / {fmt_number(column.current_missing)}",
    )


def _p_text(p_value: float | None) -> str:
    if p_value is None:
        return "p n/a"
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def _findings_and_waivers(evidence: AuditReportInput) -> Section:
    blocks: list[Block] = [
        Heading("Findings"),
        *_finding_blocks(evidence),
        Heading("Waivers"),
        *_waiver_blocks(evidence),
    ]
    return Section(10, "Findings and waivers", tuple(blocks), new_page=True)


def _finding_blocks(evidence: AuditReportInput) -> list[Block]:
    review = evidence.review
    if review is None:
        return [_not_run("Review (findings)")]
    if not review.findings:
        return [Paragraph(f"Review {review.id} recorded no findings.")]
    return [
        Table(
            columns=("#", "Type, severity", "Finding", "Author", "Status", "Resolution"),
            rows=tuple(
                (
                    str(f.number),
                    f"{f.type.value.replace('_', ' ')}\n{f.severity.value}",
                    f.title + (f"\n{f.description}" if f.description else ""),
                    f.author + (f"\nowner {f.owner}" if f.owner else ""),
                    f.status.value
                    + (f"\ndue {f.due.isoformat()}" if f.due else "")
                    + (" OVERDUE" if f.is_overdue(evidence.generated_at.date()) else ""),
                    f.resolution or "–",
                )
                for f in review.findings
            ),
            align=("right", "left", "left", "left", "left", "left"),
            widths=(0.3, 1.1, 2.8, 0.9, 0.8, 2.0),
            caption=f"Findings of review {review.id}",
            note="Author: the user who wrote the finding; a resolved or accepted finding states its resolution.",
        )
    ]


def _waiver_blocks(evidence: AuditReportInput) -> list[Block]:
    if not evidence.waivers:
        return [Paragraph("No waivers are on record for this model version.")]
    today = evidence.generated_at.astimezone(UTC).date()
    return [
        Table(
            columns=("Rule", "Scope", "Justification", "Granted by", "Granted (UTC)", "Until", "In force"),
            rows=tuple(
                (
                    w.rule_id,
                    w.scope,
                    w.justification,
                    w.granted_by,
                    fmt_time(w.created_at),
                    w.until.isoformat(),
                    "yes" if w.in_force(today) else "expired",
                )
                for w in evidence.waivers
            ),
            align=("left", "left", "left", "left", "left", "left", "left"),
            caption="Waivers",
            note=f"In force: on the report's date ({today.isoformat()}), the waiver's end date has not passed.",
        )
    ]


def _signature_manifest(evidence: AuditReportInput) -> Section:
    blocks: list[Block] = [
        Paragraph(
            "Each signature records the printed name, role and meaning of the signer, the date and time "
            "(UTC) and the evidence bundle hash it binds; a signature over an older bundle is stale "
            "(21 CFR Part 11 §11.50)."
        ),
        *_signature_blocks(evidence),
    ]
    return Section(11, "Signature manifest", tuple(blocks), new_page=True)


def _signature_current(evidence: AuditReportInput, signature: Any) -> bool:
    """It counts: it binds the current bundle and verifies (the review marks those that do not)."""
    return (
        evidence.bundle_hash is not None
        and signature.bundle_hash == evidence.bundle_hash
        and evidence.review is not None
        and not evidence.review.is_unverified(signature)
    )


def _signature_blocks(evidence: AuditReportInput) -> list[Block]:
    review = evidence.review
    if review is None:
        return [_not_run("Review (signatures)")]
    required = ", ".join(f"{r.count} {r.role.value}" for r in review.requirements) or "none"
    outstanding = ", ".join(f"{r.count} {r.role.value}" for r in review.outstanding()) or "none"
    blocks: list[Block] = [
        KeyValues(
            (
                ("Review", f"{review.id}{f': {review.title}' if review.title else ''}"),
                ("State", review.state.value.replace("_", " ")),
                ("Opened", f"{fmt_time(review.opened_at)} by {review.opened_by}"),
                ("Signatures required", required),
                ("Still to sign", outstanding),
                ("Bundle hash signed now", evidence.bundle_hash or "none"),
            )
        )
    ]
    if not review.signatures:
        blocks.append(Callout(Status.INFO, f"Review {review.id} has no signatures yet."))
        return blocks
    stale = [s for s in review.signatures if not _signature_current(evidence, s)]
    blocks.append(
        Table(
            columns=("Printed name (user)", "Role", "Meaning", "Signed (UTC)", "Bundle hash bound", "Status"),
            rows=tuple(
                (
                    f"{s.printed_name}\n({s.signer})",
                    s.role.value,
                    s.meaning.label,
                    fmt_time(s.signed_at),
                    s.bundle_hash,
                    "current" if _signature_current(evidence, s) else "STALE",
                )
                for s in review.signatures
            ),
            align=("left", "left", "left", "left", "left", "left"),
            widths=(1.4, 0.8, 1.1, 2.0, 2.3, 0.7),
            caption="Electronic signatures",
            note="Each signature is Ed25519 over its manifest (the row above with the review ID), made with "
            "the signer's key unlocked by their password at the time of signing; report.json carries the "
            "signature bytes and the key fingerprint. Stale: signed over a bundle hash other than the current one.",
        )
    )
    # Two separate questions: are the signatures intact (they bind this evidence), and is the model
    # approved (the review's decision). Intact signatures never read as an approval by themselves.
    if stale:
        blocks.append(
            Callout(
                Status.FAIL,
                f"Signatures intact: no. {len(stale)} signature(s) bind an older evidence bundle and no "
                "longer count: " + ", ".join(s.printed_name for s in stale) + ".",
            )
        )
    else:
        blocks.append(
            Callout(Status.INFO, "Signatures intact: every signature binds the current evidence bundle.")
        )
    if is_approved(evidence):
        decision = (
            "approved with conditions" if review.state is ReviewState.APPROVED_WITH_CONDITIONS else "approved"
        )
        blocks.append(Callout(Status.PASS, f"Model approved: yes, {decision} (review {review.id})."))
    else:
        blocks.append(
            Callout(
                Status.FAIL,
                f"Model approved: no. Review {review.id} is {review.state.value.replace('_', ' ')}"
                + ("; some signatures are stale" if stale else "")
                + ". This report is a draft.",
            )
        )
    if evidence.conditions:
        today = evidence.generated_at.date()
        blocks.append(
            Table(
                columns=("#", "Condition", "Owner", "Due", "Status"),
                rows=tuple(
                    (
                        str(c.id),
                        c.terms.text,
                        c.terms.owner,
                        c.terms.due.isoformat(),
                        c.status.value.replace("_", " ") + (" (OVERDUE)" if c.is_overdue(today) else ""),
                    )
                    for c in evidence.conditions
                ),
                align=("right", "left", "left", "left", "left"),
                widths=(0.4, 3.4, 1.1, 1.0, 1.4),
                caption="Conditions of the approval (obligations)",
                note="Each condition was signed with the approval; overdue ones are past their due date "
                "and not closed.",
            )
        )
    return blocks


def _audit_trail(evidence: AuditReportInput) -> Section:
    blocks: list[Block] = [
        Paragraph(
            "Every change in Signoff is an event in an append-only hash chain: each event's SHA-256 covers "
            "its content and the previous event's hash, so altering, removing or reordering any event "
            "breaks every later hash."
        )
    ]
    verdict = evidence.chain_verdict
    if verdict is None:
        blocks.append(_not_run("Audit chain verification"))
    elif verdict.ok:
        blocks.append(
            Callout(
                Status.PASS,
                f"Audit chain verified: {fmt_number(verdict.events_checked)} events, every hash and link fits.",
            )
        )
    else:
        blocks.append(
            Callout(
                Status.FAIL,
                f"Audit chain broken at event {verdict.first_bad_sequence}: {verdict.reason} "
                f"({fmt_number(verdict.events_checked)} events checked).",
            )
        )
    if verdict is not None:
        blocks.append(KeyValues((("Chain head hash", verdict.head_hash),)))
    events = evidence.audit_events
    if events:
        blocks.append(
            Table(
                columns=("#", "Time (UTC)", "Actor", "Action", "Entity", "Hash"),
                rows=tuple(
                    (
                        str(e.sequence),
                        fmt_time(e.occurred_at),
                        actor_label(e),
                        e.action,
                        e.entity,
                        e.hash[:16],
                    )
                    for e in events
                ),
                align=("right", "left", "left", "left", "left", "left"),
                caption="Audit events for this model version",
                note="Hash: the first 16 hex digits of each event's SHA-256; report.json holds them in full.",
            )
        )
    else:
        blocks.append(Paragraph("No audit events were given for this model version.", style="note"))
    return Section(12, "Audit trail", tuple(blocks), new_page=True)


APPENDIX_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "1 Cover",
        "1(a) intended purpose, provider, version",
        "MEASURE 2.8 (accountability)",
        "Model inventory",
        "Date of the bias audit",
    ),
    (
        "2 Summary",
        "2(g) validation and testing results; 5 risk management",
        "MEASURE 2.3, 2.11, 2.13",
        "Outcomes analysis; effective challenge",
        "Summary of results",
    ),
    (
        "3 Inventory record",
        "1(a)-(c) general description; 3 capabilities and limitations",
        "MEASURE 2.8",
        "Model inventory; roles and responsibilities",
        "AEDT distribution date",
    ),
    (
        "4 Lineage",
        "2(a), 2(b) development and design; 2(d) data provenance; 6 lifecycle changes",
        "MEASURE 2.1 (test sets and tools documented)",
        "Model development: data and documentation",
        "Source and explanation of the data",
    ),
    (
        "5 Data",
        "2(d) data requirements and preparation; 3 input data",
        "MEASURE 2.1",
        "Process verification; data quality",
        "Source of the data; number of individuals assessed",
    ),
    (
        "6 Performance",
        "2(g) accuracy metrics; 3 accuracy for specific groups; 4 appropriateness of metrics",
        "MEASURE 2.3, 2.5",
        "Conceptual soundness; outcomes analysis (back-testing)",
        "–",
    ),
    (
        "7 Fairness",
        "2(g) discriminatory impacts; 3 accuracy for specific groups",
        "MEASURE 2.11",
        "Outcomes analysis",
        "Selection or scoring rates, impact ratios per category and intersection, "
        "Unknown count, excluded categories",
    ),
    (
        "8 Explainability",
        "2(b) design choices; 3 interpretation of outputs",
        "MEASURE 2.9",
        "Conceptual soundness",
        "–",
    ),
    (
        "9 Drift and monitoring",
        "9 post-market monitoring; 3 foreseeable unintended outcomes",
        "MEASURE 2.4",
        "Ongoing monitoring",
        "–",
    ),
    (
        "10 Findings and waivers",
        "5 risk management system",
        "MEASURE 2.13",
        "Effective challenge; issue tracking",
        "–",
    ),
    (
        "11 Signature manifest",
        "2(g) test reports dated and signed by the responsible persons",
        "MEASURE 2.8",
        "Governance: approval, roles and responsibilities",
        "Independent auditor (when one signed)",
    ),
    (
        "12 Audit trail",
        "6 changes through the lifecycle",
        "MEASURE 2.8",
        "Documentation; internal audit",
        "–",
    ),
)


def _appendix() -> Section:
    blocks: list[Block] = [
        Paragraph(
            "Where each section of this report provides evidence for common regulatory frameworks: EU AI Act "
            "Annex IV (technical documentation, item numbers), NIST AI RMF 1.0 MEASURE 2.x subcategories, US "
            "bank model-risk guidance (SR 26-2 / SR 11-7 elements) and NYC Local Law 144 bias-audit fields "
            "(6 RCNY §5-301 ff.). The mapping is an aid for the reader, not a legal opinion."
        ),
        Table(
            columns=("Section", "EU AI Act Annex IV", "NIST AI RMF", "SR 26-2 / SR 11-7", "NYC LL144"),
            rows=APPENDIX_ROWS,
            widths=(1.1, 2.2, 1.3, 1.6, 1.8),
            caption="Section-to-framework mapping",
        ),
    ]
    return Section(13, "Appendix: regulatory mapping", tuple(blocks), new_page=True)


# ------------------------------------------------------------------------------------------- helpers


def _attribute_text(value: Any) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or NOT_RECORDED
    return str(value)


def _period(log: PredictionLog) -> str:
    if log.period_start is None and log.period_end is None:
        return NOT_RECORDED
    start = log.period_start.astimezone(UTC).strftime("%Y-%m-%d") if log.period_start else "?"
    end = log.period_end.astimezone(UTC).strftime("%Y-%m-%d") if log.period_end else "?"
    return f"{start} to {end}"


def _mapping_text(log: PredictionLog) -> str:
    mapping = log.mapping
    parts = [f"label {mapping.label}", f"prediction {mapping.prediction}"]
    if mapping.scores:
        parts.append("scores " + ", ".join(mapping.scores))
    if mapping.sensitive:
        parts.append("sensitive " + ", ".join(mapping.sensitive))
    if mapping.features:
        parts.append(f"{len(mapping.features)} features")
    return "; ".join(parts)


def _scope_parts(scope: str) -> list[tuple[str, str | None]]:
    """(attribute, group) pairs of a scope, in either spelling of an intersection group:
    ``sex=Female&race=Black`` (policy scopes) or ``sex&race=Female&Black`` (the fairness engine's)."""
    if scope.count("=") == 1:
        left, right = scope.split("=", 1)
        names, values = left.split("&"), right.split("&")
        if len(names) == len(values):
            return list(zip(names, values, strict=True))
    return [
        (part.split("=", 1)[0], part.split("=", 1)[1] if "=" in part else None) for part in scope.split("&")
    ]


def _attribute_of(scope: str) -> str:
    """``sex=Female`` -> ``sex``; ``sex=Female&race=Black`` or ``sex&race=Female&Black`` -> ``sex&race``."""
    return "&".join(name for name, _ in _scope_parts(scope))


def _group_of(scope: str) -> str:
    """``sex=Female&race=Black`` -> ``Female & Black``; an attribute-wide comparison -> "between groups"."""
    if "=" not in scope:
        return "between groups"
    return " & ".join(group if group is not None else name for name, group in _scope_parts(scope))


def _impact_ratio_chart(attribute: str, ratios: Sequence[Observation]) -> BarChart:
    return BarChart(
        title=f"Impact ratio by {attribute.replace('&', ' × ')}",
        categories=tuple(_group_of(o.scope) + (" (insufficient)" if o.insufficient else "") for o in ratios),
        values=tuple(o.value for o in ratios),
        error_low=tuple(o.ci_low for o in ratios),
        error_high=tuple(o.ci_high for o in ratios),
        reference=FOUR_FIFTHS,
        reference_label="four-fifths line 0.8",
        highlight=tuple(_below_four_fifths(o) for o in ratios),
        highlight_label="below the four-fifths line",
        tones=tuple(
            Tone.MUTED if o.insufficient else Tone.ALERT if _below_four_fifths(o) else Tone.JUDGED
            for o in ratios
        ),
        axis_label="impact ratio (group selection rate / highest group's selection rate)",
        axis_max=max([1.0, *(o.ci_high for o in ratios if o.ci_high is not None)]),
        note="Whiskers: 95% interval. Bars marked * fall below the dashed four-fifths line.",
    )


def _below_four_fifths(ratio: Observation) -> bool:
    return ratio.value is not None and ratio.value < FOUR_FIFTHS and not ratio.insufficient


def _metric_chart(title: str, observed: Sequence[Observation], axis_label: str) -> BarChart:
    return BarChart(
        title=title,
        categories=tuple(o.scope for o in observed),
        values=tuple(o.value for o in observed),
        error_low=tuple(o.ci_low for o in observed),
        error_high=tuple(o.ci_high for o in observed),
        axis_label=axis_label,
    )


def _intersection_heat_map(attribute: str, observed: Sequence[Observation]) -> HeatMap | None:
    """Impact ratio (or the first group metric present) as a grid: first attribute x second attribute."""
    metrics = sorted({o.metric for o in observed})
    if not metrics:
        return None
    metric = "fairness.impact_ratio" if "fairness.impact_ratio" in metrics else metrics[0]
    cells: dict[tuple[str, str], float | None] = {}
    for o in observed:
        if o.metric != metric:
            continue
        parts = [group or "" for _, group in _scope_parts(o.scope)]
        cells[(parts[0], parts[1])] = o.value
    rows = sorted({r for r, _ in cells})
    columns = sorted({c for _, c in cells})
    first, second = attribute.split("&")
    return HeatMap(
        title=f"{_short(metric)} by {first} × {second}",
        row_labels=tuple(rows),
        column_labels=tuple(columns),
        values=tuple(tuple(cells.get((r, c)) for c in columns) for r in rows),
        value_format="{:.3f}",
        row_axis_label=first,
        column_axis_label=second,
        note="Darker cells hold larger values; every cell prints its value, n/a where none was computed.",
    )


def _json_safe(value: Any) -> Any:
    """Attributes come from registries: keep JSON values, write anything else as text."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return format_utc(value if value.tzinfo else value.replace(tzinfo=UTC))
    return str(value)


def _payload(evidence: AuditReportInput) -> dict[str, Any]:
    """The machine-readable results: full precision, for tools that read report.json instead of pages."""
    verdict = evidence.chain_verdict
    return {
        "model_version": _json_safe(evidence.model_version.to_dict()),
        "bundle_hash": evidence.bundle_hash,
        "review_status": evidence.review_status,
        "prediction_logs": [_json_safe(log.to_dict()) for log in evidence.prediction_logs],
        "analyses_run": sorted(
            set(evidence.analyses_run) | {_analysis_of(r.kind) for r in evidence.analysis_runs}
        ),
        "analysis_runs": [_json_safe(run.to_dict()) for run in evidence.analysis_runs],
        # Observations of an analysis whose full result is given are that result again (it is in
        # analysis_runs): left out, they would double the attachment for a large fairness analysis.
        "observations": [
            _json_safe(o.to_dict())
            for o in evidence.observations
            if not (
                (evidence.performance_results and o.metric.startswith("performance."))
                or (evidence.fairness_results and o.metric.startswith("fairness."))
            )
        ],
        "audit_chain": None
        if verdict is None
        else {
            "ok": verdict.ok,
            "events_checked": verdict.events_checked,
            "head_hash": verdict.head_hash,
            "first_bad_sequence": verdict.first_bad_sequence,
            "reason": verdict.reason,
        },
        "audit_events": [{**e.content(), "hash": e.hash} for e in evidence.audit_events],
        "policy_evaluation": None
        if evidence.policy_evaluation is None
        else evidence.policy_evaluation.to_dict(),
        "waivers": [_json_safe(w.to_dict()) for w in evidence.waivers],
        "column_profiles": {str(k): v.to_dict() for k, v in sorted(evidence.column_profiles.items())},
        "drift": None
        if evidence.drift is None
        else {"logs": list(evidence.drift_logs or ()), **evidence.drift.to_dict()},
        "registry_record": None
        if evidence.registry_record is None
        else _json_safe(evidence.registry_record.to_dict()),
        "snapshots": [_json_safe(s.to_dict()) for s in evidence.snapshots],
        "registry_history": [_json_safe(c.to_dict()) for c in evidence.registry_history],
        "review": None
        if evidence.review is None
        else {
            "id": evidence.review.id,
            "state": evidence.review.state.value,
            "findings": [_json_safe(f.to_dict()) for f in evidence.review.findings],
        },
        "signatures": []
        if evidence.review is None
        else [
            {**s.to_dict(), "current": _signature_current(evidence, s)} for s in evidence.review.signatures
        ],
    }
