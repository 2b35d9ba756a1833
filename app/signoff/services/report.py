"""Export a model version's audit report as a PDF, and verify an exported report against the database.

``export_report`` gathers everything the report cites in read transactions: the model version, its
prediction logs, the analysis runs (the review's evidence bundle when there is a review, else the latest
run of each kind and inputs), the *stored* policy evaluation (the bundle's, else the latest ``policy``
run; exporting never runs a fresh policy check, because an export must not create evidence), waivers,
column profiles, drift, SHAP, the registry record, snapshots and history, the audit events about the
version with the chain's verdict, and the review with its findings and signatures. It renders the PDF to
a temporary file next to ``out``, then records the ``report.exported`` audit event and moves the file into
place in one transaction.

Determinism: the report's time is the time of the latest audit event about this model version, and the
audit excerpt and chain verdict stop at that event. ``report.exported`` events are left out of both,
so exporting changes nothing the next export prints: with no new evidence the bytes are identical.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signoff import __version__
from signoff.domain.analysis_run import SHAP_KIND, latest_runs
from signoff.domain.audit import AuditEvent, ChainVerdict
from signoff.domain.authority import ORGANISATION_ROOT, DocumentSigning
from signoff.domain.canonical import sha256_hex
from signoff.domain.comparison import ComparisonResult
from signoff.domain.drift import DriftResult
from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.explanation import Explanation
from signoff.domain.fairness import FairnessResult
from signoff.domain.performance import PerformanceResult
from signoff.domain.policy import PolicyEvaluation
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.profiles import LogProfile
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_snapshot import ModelVersionRecord
from signoff.domain.validation import ValidationAnalysis
from signoff.reporting.archive import Attachment, archive_report
from signoff.reporting.audit_report import AuditReportInput, build_audit_report
from signoff.reporting.file_names import (
    ISSUER_CERTIFICATE_NAME,
    ROOT_CERTIFICATE_NAME,
    signer_certificate_name,
)
from signoff.reporting.pades import sign_report
from signoff.reporting.pdf import render_pdf_document
from signoff.reporting.verify import ReportCheck, ReportVerification, file_checks, read_report
from signoff.services.authority import document_signing, personal_signing, signer_certificate
from signoff.services.count_tables import count_tables_attachment
from signoff.services.inventory import version_inventory
from signoff.services.policy import run_observations
from signoff.services.report_numbers import numbers_check
from signoff.services.reviews import POLICY_RUN_KIND
from signoff.services.reviews import show as show_review
from signoff.services.security import fingerprint
from signoff.services.verify import (
    audited_facts_of,
    check_cited_evidence,
    cited_evidence_problems,
    key_problems,
    signing_key_of,
)
from signoff.storage import Database, UnitOfWork

__all__ = [
    "ExportedReport",
    "ReportCheck",
    "ReportVerification",
    "export_report",
    "verify_report",
]

EXPORTED = "report.exported"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ExportedReport:
    path: Path
    sha256: str  # of the PDF file, as the audit event records it
    report_id: str
    pages: int
    bundle_hash: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "report_id": self.report_id,
            "pages": self.pages,
            "bundle_hash": self.bundle_hash,
        }


# ------------------------------------------------------------------------------------------- gathering


def _model_version(uow: UnitOfWork, name: str, version: str) -> ModelVersion:
    found = uow.models.find(name, version)
    if found is None:
        raise NotFoundError(
            f"model {name!r} version {version!r} is not registered in Signoff; "
            "list the versions with `signoff models list`"
        )
    return found


def _concerns(event: AuditEvent, model: ModelVersion, entities: set[str]) -> bool:
    if event.action == EXPORTED:
        return False
    if event.entity in entities:
        return True
    payload = event.payload if isinstance(event.payload, dict) else {}
    if payload.get("model_version_id") == model.id:
        return True
    return event.entity == f"registered_model:{model.name}" and payload.get("version") in (
        None,
        model.version,
    )


def _chain_until(whole: ChainVerdict, last: AuditEvent | None) -> ChainVerdict | None:
    """The verdict on the chain up to ``last``: what the report can state without changing later."""
    if last is None:
        return None
    if whole.ok or (whole.first_bad_sequence is not None and whole.first_bad_sequence > last.sequence):
        return ChainVerdict(ok=True, events_checked=last.sequence, head_hash=last.hash)
    return ChainVerdict(
        ok=False,
        events_checked=whole.events_checked,
        head_hash=whole.head_hash,
        first_bad_sequence=whole.first_bad_sequence,
        reason=whole.reason,
    )


def gather_report_input(
    db: Database, *, name: str, version: str, actor: str, review_id: int | None = None
) -> AuditReportInput:
    """Everything the report of ``name`` ``version`` cites, read from the database (nothing written)."""
    with db.transaction(write=False) as uow:
        model = _model_version(uow, name, version)
        reviews = uow.reviews.list(model_version_id=model.id)
        if review_id is not None:
            chosen = uow.reviews.get(review_id)
            if chosen.model_version_id != model.id:
                raise InputError(
                    f"review {review_id} is about another model version, not {name} version {version}; "
                    "list this version's reviews with `signoff review list`"
                )
            review_id = chosen.id
        elif reviews:
            review_id = max(r.id for r in reviews)
    status = show_review(db, review_id) if review_id is not None else None

    with db.transaction(write=False) as uow:
        all_logs = uow.logs.list()
        by_hash = {log.evidence_sha256: log.id for log in all_logs}
        version_logs = [log for log in all_logs if log.model_version_id == model.id]
        version_runs = uow.analysis_runs.list(model_version_id=model.id)
        if status is not None:
            bundle = status.bundle
            chosen_ids = {b.log_id for b in bundle.logs}
            logs: list[PredictionLog] = [log for log in version_logs if log.id in chosen_ids]
            by_id = {r.id: r for r in version_runs}  # the bundle cites runs of this version only
            runs = [by_id[a.run_id] for a in bundle.analyses]
            policy_runs = [
                r
                for r in version_runs
                if r.kind == POLICY_RUN_KIND and r.result_sha256 == bundle.policy_evaluation_sha256
            ]
        else:
            logs = version_logs
            runs = [r for r in latest_runs(version_runs) if r.kind != POLICY_RUN_KIND]
            policy_runs = [r for r in version_runs if r.kind == POLICY_RUN_KIND]
        policy_run = max(policy_runs, key=lambda r: r.id, default=None)
        inventory = (
            status.bundle.inventory
            if status is not None
            else version_inventory(uow, model.name, model.version)
        )
        waivers = uow.waivers.list(model_version_id=model.id)
        records = uow.registry.records(model.id)  # newest first
        snapshots = uow.registry.snapshots_of(model.name)
        history = [c for c in uow.registry.history(model.name) if c.version in (None, model.version)]

        entities = {f"model_version:{model.id}"}
        entities |= {f"prediction_log:{log.id}" for log in version_logs}
        entities |= {f"analysis_run:{run.id}" for run in version_runs}
        entities |= {f"review:{r.id}" for r in reviews}
        events: list[AuditEvent] = []

        def collect(event: AuditEvent) -> None:
            if _concerns(event, model, entities):
                events.append(event)

        whole_chain = uow.audit.verify(visit=collect)  # one pass over the log for both
        if not whole_chain.ok:  # the check stopped at the break; the excerpt still lists every event
            events = [e for e in uow.audit.iter_events() if _concerns(e, model, entities)]

    cited = [*runs, *([policy_run] if policy_run is not None else [])]
    fairness = tuple(
        (by_hash.get(r.inputs.get("log", "")), r.result_as(FairnessResult))
        for r in runs
        if r.kind == "fairness"
    )
    performance = tuple(
        (by_hash.get(r.inputs.get("log", "")), r.result_as(PerformanceResult))
        for r in runs
        if r.kind == "performance"
    )
    explanations = tuple(
        (by_hash.get(r.inputs.get("log", "")), r.result_as(Explanation)) for r in runs if r.kind == SHAP_KIND
    )
    comparisons = tuple(
        (
            f"{model.name} v{r.parameters['champion']['version']} (champion) vs v{model.version} (challenger)",
            r.result_as(ComparisonResult),
        )
        for r in runs
        if r.kind == "compare"
    )
    profiles: dict[int, LogProfile] = {}
    for r in runs:
        log_id = by_hash.get(r.inputs.get("log", ""))
        if r.kind == "validation" and log_id is not None:
            profiles[log_id] = r.result_as(ValidationAnalysis).profile
    drift_runs = [r for r in runs if r.kind == "drift"]
    drift_run = drift_runs[-1] if drift_runs else None
    drift_logs = None
    if drift_run is not None:
        reference = by_hash.get(drift_run.inputs.get("reference_log", ""))
        current = by_hash.get(drift_run.inputs.get("current_log", ""))
        drift_logs = (reference, current) if reference is not None and current is not None else None
    last_event = events[-1] if events else None
    generated_at = last_event.occurred_at if last_event else (model.created_at or EPOCH)
    if generated_at.tzinfo is None:
        generated_at = generated_at.replace(tzinfo=UTC)
    review = status.review if status is not None else None
    review_status = None
    if status is not None:
        review_status = status.review.state.value.replace("_", " ") + f" (review {status.review.id})"
        if status.review.is_stale:
            review_status += "; some signatures are stale"
        if status.evidence_changed:
            review_status += (
                f"; evidence changed since the review recorded bundle {status.recorded_bundle_hash[:12]}"
            )
    return AuditReportInput(
        model_version=model,
        generated_at=generated_at,
        signoff_version=__version__,
        exported_by=actor,
        bundle_hash=status.bundle.hash if status is not None else None,
        review_status=review_status,
        prediction_logs=tuple(sorted(logs, key=lambda log: log.id)),
        observations=tuple(o for r in runs for o in run_observations(r)),
        analysis_runs=tuple(cited),
        audit_events=tuple(events),
        chain_verdict=_chain_until(whole_chain, last_event),
        policy_evaluation=PolicyEvaluation.from_dict(policy_run.result) if policy_run is not None else None,
        waivers=tuple(waivers),
        column_profiles=profiles,
        drift=drift_run.result_as(DriftResult) if drift_run is not None else None,
        drift_logs=drift_logs,
        registry_record=ModelVersionRecord.from_dict(records[0][1]) if records else None,
        snapshots=tuple(snapshots),
        registry_history=tuple(history),
        fairness_results=fairness,
        performance_results=performance,
        explanations=explanations,
        review=review,
        comparisons=comparisons,
        inventory=inventory,
        conditions=status.conditions if status is not None else (),
    )


# ------------------------------------------------------------------------------------------- export


def export_report(
    db: Database,
    *,
    name: str,
    version: str,
    out: Path,
    actor: str,
    review_id: int | None = None,
    progress: Progress | None = None,
    sign_as_me_password: str | None = None,
) -> ExportedReport:
    """Write the audit report of ``name`` ``version`` to ``out`` and record the export as an audit event.

    The PAdES signature is the workspace document-signing key's on the exporter's behalf, or, given
    ``sign_as_me_password`` (the exporter's password, asked again), the exporter's own certificate.
    Raises ``NotFoundError`` for an unknown model version or review, ``InputError`` for a review of
    another version or an output folder that does not exist; then nothing is written anywhere.
    """
    report_progress = progress or (lambda _fraction, _stage: None)
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(
            f"the folder {str(out.parent)!r} does not exist; create it or choose another place for the report"
        )
    if out.is_dir():
        raise InputError(f"{str(out)!r} is a folder; give the report's file name, e.g. report.pdf")
    # Who signs is settled first: a wrong password or a missing key passphrase costs no rendering.
    authority = (
        personal_signing(db, actor, sign_as_me_password)
        if sign_as_me_password is not None
        else document_signing(db, actor=actor)
    )
    report_progress(0.0, "gathering evidence")
    evidence = gather_report_input(db, name=name, version=version, actor=actor, review_id=review_id)
    report_progress(0.2, "verifying the evidence")
    with db.transaction(write=False) as uow:
        check_cited_evidence(
            cited_evidence_problems(
                uow,
                log_ids={log.id for log in evidence.prediction_logs},
                run_ids={run.id for run in evidence.analysis_runs},
                review=evidence.review,
            )
        )
    report_progress(0.3, "building the report")
    report = build_audit_report(evidence)
    report_progress(0.4, "rendering the PDF")
    holder = "organisation" if authority.root.role == ORGANISATION_ROOT else "workspace"
    pdf, pages = render_pdf_document(report, root_sha256=authority.root.fingerprint, root_holder=holder)
    report_progress(0.8, "making it PDF/A-3 and signing it")
    pdf = archive_report(
        pdf,
        [*_check_material(db, evidence, authority), count_tables_attachment(db, evidence.analysis_runs)],
    )
    # Signing is the last step, so the PAdES signature covers the archival file as an auditor gets it.
    pdf = sign_report(
        pdf,
        certificate_der=authority.signing.certificate_der,
        private_key_der=authority.signing.private_key_der,
        chain_der=authority.chain,
        name=actor,
        reason=f"Audit report {report.report_id} exported and signed by {actor} with their own certificate"
        if authority.personal
        else f"Audit report {report.report_id} exported by {actor}, signed with the workspace "
        "document-signing key on their behalf",
    )
    report_progress(0.9, "recording the export")
    digest = sha256_hex(pdf)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(pdf)
            stream.flush()
            os.fsync(stream.fileno())
        with db.transaction() as uow:
            uow.audit.append(
                actor=actor,
                action=EXPORTED,
                entity=f"model_version:{evidence.model_version.id}",
                payload={
                    "report_id": report.report_id,
                    "file_sha256": digest,
                    "bundle_hash": report.bundle_hash,
                    "file_name": out.name,
                    "pages": pages,
                    "review_id": evidence.review.id if evidence.review is not None else None,
                },
            )
            os.replace(temporary, out)  # inside the transaction: a failed move records nothing
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    report_progress(1.0, "done")
    return ExportedReport(
        path=out, sha256=digest, report_id=report.report_id, pages=pages, bundle_hash=report.bundle_hash
    )


def _check_material(db: Database, evidence: AuditReportInput, authority: DocumentSigning) -> list[Attachment]:
    """What a reader needs to check the report alone: the root (and an organisation's issuing CA below it),
    and for each sign-off signature a certificate by the issuer binding the signer to the key it names."""
    signatures = evidence.review.signatures if evidence.review is not None else ()
    keys: dict[str, tuple[str, bytes]] = {}  # fingerprint -> (username, public key)
    with db.transaction(write=False) as uow:
        for signature in signatures:
            user = uow.users.find(signature.signer)
            for key in user.public_keys() if user is not None else ():
                if fingerprint(key) == signature.public_key_fingerprint:
                    keys[fingerprint(key)] = (signature.signer, key)
    return [
        Attachment(
            ROOT_CERTIFICATE_NAME,
            authority.root.certificate_der,
            "application/pkix-cert",
            f"the {'organisation' if authority.issuer is not None else 'workspace'} root certificate (DER), "
            f"SHA-256 {authority.root.fingerprint}",
        ),
        *(
            [
                Attachment(
                    ISSUER_CERTIFICATE_NAME,
                    authority.certifier.certificate_der,
                    "application/pkix-cert",
                    f"the issuing CA's certificate (DER), issued by the root, SHA-256 "
                    f"{authority.certifier.fingerprint}",
                )
            ]
            if len(authority.chain) > 1
            else []
        ),
        *(
            Attachment(
                signer_certificate_name(key_fingerprint),
                signer_certificate(authority, username, key),
                "application/pkix-cert",
                f"certificate of {username}'s Ed25519 sign-off key {key_fingerprint[:16]}, issued by the "
                "workspace root",
            )
            for key_fingerprint, (username, key) in sorted(keys.items())
        ),
    ]


# ------------------------------------------------------------------------------------------- verify


def _signature_check(uow: UnitOfWork, printed: dict[str, Any]) -> ReportCheck:
    manifest = printed.get("manifest") if isinstance(printed.get("manifest"), dict) else {}
    who = f"{manifest.get('printed_name', '?')}, {manifest.get('meaning', '?')}"
    name = f"signature {printed.get('id')} ({who}) exists and is valid"
    signature_id = printed.get("id")
    if not isinstance(signature_id, int):
        return ReportCheck(name, False, "the report names no signature id")
    try:
        stored = uow.reviews.signature(signature_id)
    except NotFoundError:
        return ReportCheck(name, False, f"the database holds no signature {signature_id}")
    if stored.manifest() != manifest or stored.signature.hex() != printed.get("signature"):
        return ReportCheck(name, False, "the database's signature differs from the one in the report")
    signer = uow.users.find(stored.signer)
    problems = key_problems(signing_key_of(signer, stored), stored)
    if problems:
        return ReportCheck(name, False, "; ".join(problems))
    return ReportCheck(
        name, True, f"Ed25519 valid under {stored.signer}'s key {stored.public_key_fingerprint[:16]}"
    )


def _stated_review_checks(uow: UnitOfWork, content: dict[str, Any] | None) -> list[ReportCheck]:
    """What the report states about its review against the signed events: the audit events it carries
    against the database's, each signature's meaning against the audit log's record of the signing and
    the signer's audited roles then, and the stated state against the state those signatures lead to."""
    payload = content.get("payload") if isinstance(content, dict) else None
    if not isinstance(payload, dict):
        return []
    checks = [_carried_events_check(uow, payload.get("audit_events"))]
    review = payload.get("review")
    if not isinstance(review, dict) or not isinstance(review.get("id"), int):
        return checks
    review_id = review["id"]
    carried = [e for e in payload.get("audit_events", []) if isinstance(e, dict)]
    # The review as it stood when the report was made: later events (a revocation) do not count here.
    until = max((e["sequence"] for e in carried if isinstance(e.get("sequence"), int)), default=None)
    facts = audited_facts_of(uow, review_id, until=until)
    derived = facts.derived.reviews.get(review_id)
    for printed in payload.get("signatures", []):
        if not isinstance(printed, dict):
            continue
        manifest = printed.get("manifest") if isinstance(printed.get("manifest"), dict) else {}
        name = (
            f"signature {printed.get('id')} means {manifest.get('meaning', '?')} as "
            f"{manifest.get('role', '?')}, as the audit log recorded it"
        )
        record = facts.derived.signings.get(printed.get("id"))  # type: ignore[arg-type]
        if record is None:
            checks.append(ReportCheck(name, False, "the audit log records no such signing"))
        elif record.get("manifest") != manifest or record.get("signature") != printed.get("signature"):
            recorded = record.get("manifest") if isinstance(record.get("manifest"), dict) else {}
            checks.append(
                ReportCheck(
                    name,
                    False,
                    f"the audit log records meaning {recorded.get('meaning', '?')!r} as "
                    f"{recorded.get('role', '?')!r} at {recorded.get('signed_at', '?')}; the report states "
                    f"{manifest.get('meaning', '?')!r} as {manifest.get('role', '?')!r}",
                )
            )
        elif derived is None or printed.get("id") not in derived.signature_ids:
            why = (
                "; ".join(derived.problems) if derived is not None else "the review's opening is not audited"
            )
            checks.append(ReportCheck(name, False, f"it does not count: {why}"))
        else:
            checks.append(ReportCheck(name, True, "recorded, verifying, and the signer held the role then"))
    stated = review.get("state")
    name = f"review {review_id} state {str(stated).replace('_', ' ')!r} follows from its signed events"
    if derived is None:
        checks.append(ReportCheck(name, False, "the audit log records no opening of this review"))
    elif derived.state.value != stated:
        checks.append(
            ReportCheck(
                name,
                False,
                f"its signed and audited events lead to {derived.state.value.replace('_', ' ')!r}",
            )
        )
    else:
        checks.append(ReportCheck(name, True, f"{len(derived.signature_ids)} counted signature(s)"))
    return checks


def _carried_events_check(uow: UnitOfWork, carried: Any) -> ReportCheck:
    """The audit events the report carries: each hashes to its stated hash and is the database's event."""
    name = "audit events in the report are the audit log's"
    if not isinstance(carried, list) or not carried:
        return ReportCheck(name, None, "the report carries no audit events")
    for item in carried:
        try:
            event = AuditEvent.from_dict(item)
        except (KeyError, TypeError, ValueError):
            return ReportCheck(name, False, "an audit event in the report cannot be read")
        if event.computed_hash() != event.hash:
            return ReportCheck(name, False, f"event {event.sequence} in the report does not hash to its hash")
        try:
            stored = uow.audit.get(event.sequence)
        except NotFoundError:
            return ReportCheck(name, False, f"the audit log has no event {event.sequence}")
        if stored.hash != event.hash or stored.computed_hash() != stored.hash:
            return ReportCheck(
                name, False, f"event {event.sequence} differs between the report and the audit log"
            )
    chain = uow.audit.verify()
    if not chain.ok:
        return ReportCheck(
            name, False, f"the audit log is broken at event {chain.first_bad_sequence}: {chain.reason}"
        )
    return ReportCheck(name, True, f"{len(carried)} event(s) match; the audit chain is intact")


def verify_report(db: Database, pdf: Path) -> ReportVerification:
    """Check an exported report: its embedded content against the hashes it states (the file alone), then
    its bundle, signatures and export record against the database. Raises ``InputError`` for a file
    that is not a Signoff report."""
    pdf = Path(pdf)
    embedded = read_report(pdf)
    checks = [*embedded.checks, *file_checks(embedded, signed_required=False)]
    with db.transaction(write=False) as uow:
        if embedded.bundle_hash is None:
            checks.append(
                ReportCheck(
                    "evidence bundle recorded in the database", None, "the report is bound to no review"
                )
            )
        else:
            found = uow.evidence.exists(embedded.bundle_hash)
            checks.append(
                ReportCheck(
                    "evidence bundle recorded in the database",
                    found,
                    embedded.bundle_hash
                    if found
                    else f"no evidence bundle {embedded.bundle_hash} in this database",
                )
            )
        if not embedded.signatures:
            checks.append(ReportCheck("signatures", None, "the report carries no signatures"))
        for printed in embedded.signatures:
            checks.append(_signature_check(uow, printed))
        checks.extend(_stated_review_checks(uow, embedded.content))
        checks.append(numbers_check(embedded.content, embedded.attachments))
        exported = [
            e for e in uow.audit.list(action=EXPORTED) if e.payload.get("file_sha256") == embedded.file_sha256
        ]
        checks.append(
            ReportCheck(
                "export recorded in the audit log",
                bool(exported),
                f"event {exported[-1].sequence} by {exported[-1].actor}, {exported[-1].occurred_at.isoformat()}"
                if exported
                else f"no report.exported event records a file with SHA-256 {embedded.file_sha256}",
            )
        )
    return ReportVerification(path=pdf, checks=tuple(checks))
