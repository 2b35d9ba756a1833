"""Regulators' documents from the evidence: EU AI Act Annex IV, the NYC LL144 bias-audit summary, gaps.

Every artefact the control map can name is looked up once per model version (inventory record, lineage,
latest analysis runs, policy evaluation, current review and signatures, audit chain) as a ``Statement``
listing its evidence. The LL144 numbers are read from a fairness analysis run of the chosen log (a stored
one when it has sex, race/ethnicity and their intersection at the 2% exclusion share, else computed once
through the fairness service), and each summary produced is an audited event that the inventory shows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from signoff import __version__
from signoff.domain.analysis_run import SHAP_KIND
from signoff.domain.audit import format_utc
from signoff.domain.documents import (
    LL144_EXCLUDED_SHARE,
    ClauseAnswer,
    LL144Summary,
    Statement,
    answer_clauses,
    ll144_scoring_tables,
    ll144_tables,
)
from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.fairness import FairnessResult
from signoff.domain.inventory import FIELDS_BY_NAME, LABELS, effective_values, inventory_entry
from signoff.domain.registry import ModelVersion
from signoff.services import reviews
from signoff.services.identity import actor_or_login
from signoff.services.inventory import LL144_ACTION, training_datasets
from signoff.services.models import get_model_version
from signoff.storage import Database, UnitOfWork

ANNEX_IV = "eu-ai-act-annex-iv"
ANALYSIS_KINDS = ("fairness", "performance", "monitoring", "drift", "validation", SHAP_KIND)
_SEX_WORDS = ("sex", "gender")
_RACE_WORDS = ("race", "ethnic")


def _short(sha: str) -> str:
    return sha[:12]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _inventory_statements(uow: UnitOfWork, version: ModelVersion) -> dict[str, Statement | None]:
    model_record = uow.inventory.get(version.name)
    version_record = uow.inventory.get(version.name, version.version)
    values = effective_values(model_record, version_record)
    found: dict[str, Statement | None] = {}
    for name in FIELDS_BY_NAME:
        if name not in values:
            found[f"inventory.{name}"] = None
            continue
        record = version_record if version_record and name in version_record.values else model_record
        assert record is not None
        where = version.ref if record.version else version.name
        evidence = (
            f"inventory record of {where}, revision {record.revision} "
            f"({record.updated_by}, {format_utc(record.updated_at) if record.updated_at else ''})",
        )
        found[f"inventory.{name}"] = Statement(
            f"inventory.{name}", LABELS[name], _text(values[name]), evidence
        )
    history = model_record.stage_history if model_record else ()
    found["inventory.stage_history"] = (
        Statement(
            "inventory.stage_history",
            "lifecycle",
            "; ".join(f"{s.stage} since {s.since} (set by {s.by})" for s in history),
            (f"inventory record of {version.name}, revision {model_record.revision}",),
        )
        if history and model_record
        else None
    )
    risk = model_record.risk if model_record else None
    if risk:
        assessment = risk["assessment"]
        text = (
            f"tier {assessment['tier']} from rubric {assessment['rubric']!r} (score {assessment['score']}; "
            + ", ".join(f"{k}: {v}" for k, v in assessment["answers"].items())
            + ")"
        )
        evidence = [
            f"risk assessment evidence sha256 {risk['evidence_sha256']}",
            f"rubric sha256 {assessment['rubric_version']}",
        ]
        if risk.get("override"):
            override = risk["override"]
            text += (
                f"; overridden to tier {override['tier']} by {override['by']}: {override['justification']}"
            )
            evidence.append(f"audit event inventory.tier_overridden by {override['by']} at {override['at']}")
        found["risk.tier"] = Statement("risk.tier", "risk tier", text, tuple(evidence))
    else:
        found["risk.tier"] = None
    last = uow.inventory.last_approvals(version.name).get(version.name)
    entry = inventory_entry(version.name, [], model_record, last, today=datetime.now(UTC).date())
    found["calendar.next_due"] = (
        Statement(
            "calendar.next_due",
            "next review due",
            f"{entry.next_due.isoformat()} ({entry.due.value}); last approval {format_utc(last) if last else 'none'}",
            (f"review approved at {format_utc(last)}" if last else "no approval yet",),
        )
        if entry.next_due
        else None
    )
    return found


def _lineage_statements(uow: UnitOfWork, version: ModelVersion) -> dict[str, Statement | None]:
    datasets = training_datasets(uow, version.id)
    found: dict[str, Statement | None] = {
        "lineage.datasets": Statement(
            "lineage.datasets",
            "datasets",
            "; ".join(
                f"{d.get('name', '')} ({d.get('context') or 'unspecified use'}), digest {d.get('digest', '')}"
                for d in datasets
            ),
            tuple(sorted({f"registry snapshot {d['snapshot_id']}, run {d['run_id']}" for d in datasets})),
        )
        if datasets
        else None,
        "lineage.code": None,
    }
    for info, record in uow.registry.records(version.id):  # newest first
        run = record.get("run") or {}
        if run.get("run_id"):
            parts = [f"training run {run['run_id']}"]
            if run.get("git_commit"):
                parts.append(f"git commit {run['git_commit']}")
            if run.get("source_name"):
                parts.append(f"source {run['source_name']}")
            found["lineage.code"] = Statement(
                "lineage.code", "code version", ", ".join(parts), (f"{info.source_kind} snapshot {info.id}",)
            )
            break
    return found


def _run_summary(kind: str, result: dict[str, Any]) -> str:
    if kind == "fairness":
        fairness = FairnessResult.from_dict(result)
        lows = []
        for segment in fairness.segments:
            ratios = [
                r.impact_ratio for r in segment.impact_ratios if r.impact_ratio is not None and not r.excluded
            ]
            if ratios:
                lows.append(f"{segment.name}: lowest impact ratio {min(ratios):.3f}")
        return f"{fairness.n_rows} rows; " + ("; ".join(lows) or "no impact ratio computable")
    if kind == "policy":
        return f"policy verdict {result.get('status', 'unknown')}"
    return ""


def _analysis_statements(uow: UnitOfWork, version: ModelVersion) -> dict[str, Statement | None]:
    found: dict[str, Statement | None] = {}
    for kind in (*ANALYSIS_KINDS, reviews.POLICY_RUN_KIND):
        run = uow.analysis_runs.latest(kind=kind, model_version_id=version.id)
        key = "policy.evaluation" if kind == reviews.POLICY_RUN_KIND else f"analysis.{kind}"
        if run is None:
            found[key] = None
            continue
        summary = _run_summary(kind, run.result)
        inputs = ", ".join(f"{k} sha256 {_short(v)}" for k, v in sorted(run.inputs.items()))
        found[key] = Statement(
            key,
            "policy evaluation" if kind == reviews.POLICY_RUN_KIND else f"{kind} analysis",
            f"run {run.id} by {run.created_by} at {format_utc(run.created_at)}"
            + (f": {summary}" if summary else ""),
            (
                f"analysis run {run.id}, result sha256 {run.result_sha256}",
                *([f"inputs: {inputs}"] if inputs else []),
            ),
        )
    return found


def _review_statements(db: Database, version: ModelVersion) -> dict[str, Statement | None]:
    current = [
        s for s in reviews.list_reviews(db, model_version_id=version.id) if s.review.superseded_by is None
    ]
    found: dict[str, Statement | None] = {"review.signatures": None, "review.findings": None}
    if not current:
        return found
    review = current[-1].review
    if review.signatures:
        found["review.signatures"] = Statement(
            "review.signatures",
            "sign-off",
            f"review {review.id} is {review.state.value}; "
            + "; ".join(
                f"{s.printed_name} ({s.signer}) signed as {s.meaning.value} at {format_utc(s.signed_at)}"
                + ("" if review.covers_current_evidence(s) else " [over older evidence]")
                for s in review.signatures
            ),
            tuple(f"signature {s.id} over bundle sha256 {s.bundle_hash}" for s in review.signatures),
        )
    if review.findings:
        found["review.findings"] = Statement(
            "review.findings",
            "findings",
            "; ".join(
                f"#{f.number} {f.severity.value} {f.type.value}: {f.title} ({f.status.value})"
                for f in review.findings
            ),
            (f"review {review.id}, bundle sha256 {review.bundle_hash}",),
        )
    return found


def _ll144_statement(uow: UnitOfWork, version: ModelVersion) -> Statement | None:
    for event in uow.audit.list(action=LL144_ACTION, entity=f"inventory:{version.name}"):
        if event.payload.get("version") == version.version:
            return Statement(
                "document.ll144",
                "NYC LL144 bias audit",
                f"audit of {event.payload['audit_date']}, valid until {event.payload['valid_until']}, "
                f"distributed {event.payload['distribution_date']}",
                (f"analysis run {event.payload['run_id']}", f"audit event {event.sequence}"),
            )
    return None


def artefacts(db: Database, version: ModelVersion) -> dict[str, Statement | None]:
    """Every artefact the control map can name, for one model version (None where not recorded)."""
    with db.transaction(write=False) as uow:
        found: dict[str, Statement | None] = {
            "model.identity": Statement(
                "model.identity",
                "model",
                f"{version.name} version {version.version} (from {version.source}"
                + (f", registered {format_utc(version.created_at)}" if version.created_at else "")
                + ")",
                (f"model version record {version.id}",),
            )
        }
        found |= _inventory_statements(uow, version)
        found |= _lineage_statements(uow, version)
        found |= _analysis_statements(uow, version)
        found["document.ll144"] = _ll144_statement(uow, version)
        head = uow.audit.head()
        found["audit.chain"] = (
            Statement(
                "audit.chain",
                "audit trail",
                f"hash-chained audit log of {head.sequence} events; verify with `signoff verify`",
                (f"audit head event {head.sequence}, hash {head.hash}",),
            )
            if head
            else None
        )
    found |= _review_statements(db, version)
    return found


def clause_answers(
    db: Database,
    name: str,
    version: str,
    *,
    framework: str | None = None,
    control_map: str | Path | None = None,
) -> list[ClauseAnswer]:
    """The control map's clauses (of one framework, or all) answered for model ``name`` ``version``."""
    from signoff.importers.control_map import load_control_map

    controls = load_control_map(control_map)
    model_version = get_model_version(db, name, version)
    clauses = controls.of(framework) if framework else controls.clauses
    return answer_clauses(clauses, artefacts(db, model_version))


def missing(
    db: Database, name: str, version: str, *, control_map: str | Path | None = None
) -> list[ClauseAnswer]:
    """The "what is missing" list: every clause with at least one artefact not recorded."""
    return [a for a in clause_answers(db, name, version, control_map=control_map) if a.missing]


def export_annex_iv(db: Database, name: str, version: str, *, out: str | Path) -> Path:
    """Write the Annex IV technical documentation as PDF, Markdown or an editable Word document (DOCX)."""
    from signoff.importers.control_map import load_control_map
    from signoff.reporting.documents import annex_iv_report

    path = Path(out)
    _check_format(path, "the Annex IV documentation")
    controls = load_control_map()
    model_version = get_model_version(db, name, version)
    answers = answer_clauses(controls.of(ANNEX_IV), artefacts(db, model_version))
    report = annex_iv_report(
        model_version, answers, controls, generated_at=datetime.now(UTC), signoff_version=__version__
    )
    _write(path, _render(report, path))
    return path


# A document's file name says how it is drawn: all three from the same ``Report`` content.
DOCUMENT_FORMATS = {".pdf": "PDF", ".md": "Markdown", ".docx": "Word (DOCX)"}


def _check_format(path: Path, what: str) -> None:
    if path.suffix.lower() not in DOCUMENT_FORMATS:
        raise InputError(
            f"{what} is written as {', '.join(DOCUMENT_FORMATS)} (PDF, Markdown or an editable Word "
            f"document); {path.name!r} has none of these endings",
            file=str(path),
        )


def _render(report, path: Path) -> bytes:
    suffix = path.suffix.lower()
    if suffix == ".md":
        from signoff.reporting.markdown import render_markdown

        return render_markdown(report).encode("utf-8")
    if suffix == ".docx":
        from signoff.reporting.docx import render_docx

        return render_docx(report)
    from signoff.reporting.pdf import render_pdf_bytes

    return render_pdf_bytes(report)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InputError(f"cannot write the document: {error.strerror}", file=str(path)) from None


def _named(found: list[str], words: tuple[str, ...]) -> str | None:
    matches = [a for a in found if any(w in a.lower() for w in words)]
    return matches[0] if len(matches) == 1 else None


def ll144_attributes(attributes: list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """Which of a log's sensitive attributes hold sex and race/ethnicity, where their names say so
    unambiguously (``{"sex": ..., "race": ...}``, None where a person must choose)."""
    found = list(attributes)
    return {"sex": _named(found, _SEX_WORDS), "race": _named(found, _RACE_WORDS)}


def _attribute(found: list[str], given: str | None, words: tuple[str, ...], what: str, flag: str) -> str:
    if given:
        if given not in found:
            raise InputError(
                f"the log has no sensitive attribute {given!r}; its attributes: {', '.join(found)}"
            )
        return given
    named = _named(found, words)
    if named is None:
        raise InputError(
            f"cannot tell which sensitive attribute is {what} (attributes: {', '.join(found) or 'none'}); "
            f"name it as the {flag}"
        )
    return named


def ll144_summary(
    db: Database,
    name: str,
    version: str,
    *,
    log_id: int,
    sex: str | None = None,
    race: str | None = None,
    distribution_date: date | None = None,
    scoring: bool = False,
    actor: str | None = None,
) -> LL144Summary:
    """The bias-audit summary of one log; recorded as an audited event so the inventory shows its validity.

    ``scoring`` audits a tool that scores instead of selecting: scoring rates (share above the
    sample's median score) of the log's score column instead of selection rates.
    """
    model_version = get_model_version(db, name, version)
    with db.transaction(write=False) as uow:
        logs = {log.id: log for log in uow.logs.list(model_version_id=model_version.id)}
    if log_id not in logs:
        raise NotFoundError(f"prediction log {log_id} is not a log of {model_version.ref}")
    log = logs[log_id]
    attributes = list(log.mapping.sensitive)
    sex = _attribute(attributes, sex, _SEX_WORDS, "sex", "sex attribute")
    race = _attribute(attributes, race, _RACE_WORDS, "race/ethnicity", "race/ethnicity attribute")
    if sex == race:
        raise InputError(
            f"{sex!r} cannot hold both sex and race/ethnicity: the summary needs two attributes "
            f"(log {log_id} has {', '.join(attributes)})"
        )
    compute = _scoring_summary if scoring else _selection_summary
    run, tables, rows, positive = compute(db, model_version, log, sex, race, actor)
    summary = LL144Summary(
        model=name,
        version=version,
        log_id=log_id,
        log_sha256=log.evidence_sha256,
        run_id=run.id,
        result_sha256=run.result_sha256,
        rows_analysed=rows,
        positive_label=positive,
        audit_date=run.created_at.date(),
        distribution_date=distribution_date or datetime.now(UTC).date(),
        tables=tables,
        basis="scoring" if scoring else "selection",
        score=log.mapping.scores[0] if scoring else None,
    )
    with db.transaction() as uow:
        uow.audit.append(
            actor=actor_or_login(actor),
            action=LL144_ACTION,
            entity=f"inventory:{name}",
            payload={
                "version": version,
                "log_id": log_id,
                "run_id": run.id,
                "result_sha256": run.result_sha256,
                "basis": summary.basis,
                "audit_date": summary.audit_date.isoformat(),
                "distribution_date": summary.distribution_date.isoformat(),
                "valid_until": summary.valid_until.isoformat(),
            },
        )
    return summary


def _scoring_summary(db: Database, version: ModelVersion, log, sex: str, race: str, actor: str | None):
    from signoff.analysis.ll144 import ENGINE, scoring_rates
    from signoff.services.analysis_runs import run_analysis
    from signoff.services.logs import load_log_frame

    if len(log.mapping.scores) != 1:
        raise InputError(
            f"a scoring audit needs exactly one score column in log {log.id}; it maps "
            f"{len(log.mapping.scores)}"
        )
    score = log.mapping.scores[0]
    parameters = {"score": score, "sex": sex, "race": race, "excluded_share": LL144_EXCLUDED_SHARE}
    run = run_analysis(
        db,
        kind="ll144_scoring",
        model_version_id=version.id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE,
        compute=lambda: scoring_rates(
            load_log_frame(db, log.id), score=score, sex=sex, race=race, excluded_share=LL144_EXCLUDED_SHARE
        ),
        actor=actor,
    )
    return (
        run,
        ll144_scoring_tables(run.result),
        run.result["rows"],
        f"a score above the median {run.result['median']}",
    )


def _selection_summary(db: Database, version: ModelVersion, log, sex: str, race: str, actor: str | None):
    from signoff.services.fairness import analyze_fairness

    run, result = _stored_fairness(db, version, log.evidence_sha256, {sex, race})
    if run is None:
        computed = analyze_fairness(
            db,
            name=version.name,
            version=version.version,
            log_id=log.id,
            sensitive=[sex, race],
            intersections=True,
            excluded_share=LL144_EXCLUDED_SHARE,
            actor=actor,
        )
        run, result = computed.run, computed.result
    return run, ll144_tables(result, sex, race), result.n_rows, result.positive_label


def _stored_fairness(db: Database, version: ModelVersion, log_sha: str, wanted: set[str]):
    """The newest stored fairness run of this log with both attributes, their intersection and 2% exclusion."""
    with db.transaction(write=False) as uow:
        runs = uow.analysis_runs.list(kind="fairness", model_version_id=version.id)
    for run in sorted(runs, key=lambda r: r.id, reverse=True):
        if log_sha not in run.inputs.values() or run.parameters.get("excluded_share") != LL144_EXCLUDED_SHARE:
            continue
        result = FairnessResult.from_dict(run.result)
        segments = {frozenset(s.attributes) for s in result.segments}
        if {frozenset({a}) for a in wanted} | {frozenset(wanted)} <= segments:
            return run, result
    return None, None


def export_ll144(summary: LL144Summary, out: str | Path) -> Path:
    """Write the bias-audit summary as PDF, Markdown or an editable Word document (DOCX)."""
    from signoff.reporting.documents import ll144_report

    path = Path(out)
    _check_format(path, "the LL144 summary")
    report = ll144_report(summary, generated_at=datetime.now(UTC), signoff_version=__version__)
    _write(path, _render(report, path))
    return path
