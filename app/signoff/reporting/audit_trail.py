"""The audit trail as a PDF: the filter that chose the events, then one row per event in words.

Content only (``reporting/content.py`` blocks); ``pdf.render_pdf`` draws it like the audit report, with
the events also in the attached report.json so the export can be read by a program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_hash
from signoff.reporting.content import KeyValues, Paragraph, Report, ReportMetadata, Section, Table


@dataclass(frozen=True)
class AuditTrailRow:
    sequence: int
    occurred_at: datetime
    actor: str
    printed_name: str
    action: str
    entity: str
    details: str
    hash: str


def build_audit_trail_report(
    rows: Sequence[AuditTrailRow],
    filter_words: Sequence[tuple[str, str]],
    *,
    generated_at: datetime,
    generated_by: str,
    signoff_version: str,
) -> Report:
    events = [
        {
            "sequence": r.sequence,
            "occurred_at": format_utc(r.occurred_at),
            "actor": r.actor,
            "printed_name": r.printed_name,
            "action": r.action,
            "entity": r.entity,
            "details": r.details,
            "hash": r.hash,
        }
        for r in rows
    ]
    report_id = "AT-" + canonical_hash({"events": events, "filter": list(filter_words)})[:12].upper()
    table = Table(
        columns=("Seq", "Time (UTC)", "Actor", "Action", "Details"),
        rows=tuple(
            (
                str(r.sequence),
                f"{r.occurred_at:%Y-%m-%d %H:%M:%S}",
                f"{r.printed_name} ({r.actor})" if r.printed_name else r.actor,
                f"{r.action}\n{r.entity}",
                r.details,
            )
            for r in rows
        ),
        align=("right", "left", "left", "left", "left"),
        widths=(0.6, 1.5, 1.6, 1.8, 4.5),
        caption=f"{len(rows)} events, newest first",
    )
    return Report(
        report_id=report_id,
        title="Audit trail",
        subtitle=f"{len(rows)} events",
        metadata=ReportMetadata(
            title="Signoff audit trail",
            author=generated_by,
            subject=f"Audit trail export {report_id}",
            keywords=("Signoff", "audit trail", report_id),
        ),
        generated_at=generated_at,
        signoff_version=signoff_version,
        bundle_hash=None,
        sections=(
            Section(
                1,
                "Events chosen",
                (
                    KeyValues(tuple(filter_words), caption="Filter"),
                    Paragraph(
                        "Each event's full record, with its hash in the audit chain, is in the attached "
                        "report.json; `signoff verify` checks the chain against the database.",
                        style="note",
                    ),
                ),
            ),
            Section(2, "Events", (table,) if rows else (Paragraph("No event matches the filter."),)),
        ),
        payload={"events": events},
    )
