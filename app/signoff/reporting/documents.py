"""Regulators' documents as report content: EU AI Act Annex IV and the NYC LL144 bias-audit summary.

Both are ``Report``s, so the PDF renderer and the Markdown renderer draw them like the audit report.
Every statement is a table row that names the evidence it came from; a clause with none reads
"not recorded" and lists the artefacts that would answer it.
"""

from __future__ import annotations

import re
from datetime import datetime

from signoff.domain.canonical import canonical_hash
from signoff.domain.documents import NOT_RECORDED, ClauseAnswer, ControlMap, LL144Summary
from signoff.domain.registry import ModelVersion
from signoff.reporting.content import (
    Callout,
    Heading,
    KeyValues,
    Paragraph,
    Report,
    ReportMetadata,
    Section,
    Status,
    Table,
)

STATEMENT_COLUMNS = ("Statement", "Recorded", "Evidence")
_NUMBERED = re.compile(r"^\s*(\d+)\.\s*(.+)$")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def annex_iv_report(
    version: ModelVersion,
    answers: list[ClauseAnswer],
    controls: ControlMap,
    *,
    generated_at: datetime,
    signoff_version: str,
) -> Report:
    about = (
        Paragraph(
            f"Technical documentation of {version.name} version {version.version} in the structure of "
            "Annex IV of the EU AI Act, generated from the evidence Signoff holds. Each statement names "
            f"the evidence it came from; '{NOT_RECORDED}' marks what the evidence does not contain."
        ),
        KeyValues(
            (
                ("Control map", f"{controls.name} (sha256 {controls.version})"),
                ("Clauses recorded", f"{sum(a.recorded for a in answers)} of {len(answers)}"),
            )
        ),
    )
    by_section: dict[str, list[ClauseAnswer]] = {}
    for answer in answers:
        by_section.setdefault(answer.clause.section, []).append(answer)
    sections: list[Section] = []
    for index, (heading, group) in enumerate(by_section.items(), start=1):
        # The control map writes Annex IV's own numbers ("2. Elements ..."); the sections keep them.
        numbered = _NUMBERED.match(heading)
        number, title = (int(numbered.group(1)), numbered.group(2)) if numbered else (index, heading)
        blocks: list = list(about) if not sections else []
        for answer in group:
            blocks.append(Heading(answer.clause.title))
            if answer.statements:
                blocks.append(
                    Table(
                        STATEMENT_COLUMNS,
                        tuple((s.label, s.text, "; ".join(s.evidence)) for s in answer.statements),
                        widths=(1, 3, 2),
                    )
                )
            if not answer.recorded:
                blocks.append(Callout(Status.NOT_AVAILABLE, f"{NOT_RECORDED}: {', '.join(answer.missing)}"))
            elif answer.missing:
                blocks.append(Paragraph(f"Also {NOT_RECORDED}: {', '.join(answer.missing)}", style="note"))
        sections.append(Section(number, title, tuple(blocks)))
    content = [a.to_dict() for a in answers]
    return Report(
        report_id=f"ANNEX-IV-{canonical_hash(content)[:12]}",
        title=f"EU AI Act Annex IV technical documentation: {version.name} v{version.version}",
        metadata=ReportMetadata(
            title=f"Annex IV technical documentation {version.name} v{version.version}",
            author="Signoff",
            subject="EU AI Act Annex IV",
            keywords=("EU AI Act", "Annex IV", version.name),
        ),
        generated_at=generated_at,
        signoff_version=signoff_version,
        bundle_hash=None,
        sections=tuple(sections),
        payload={"annex_iv": content, "control_map_sha256": controls.version},
        subtitle=f"Generated from the evidence in Signoff {signoff_version}",
    )


def ll144_report(summary: LL144Summary, *, generated_at: datetime, signoff_version: str) -> Report:
    evidence = (
        f"prediction log {summary.log_id} (sha256 {summary.log_sha256}); fairness analysis run "
        f"{summary.run_id} (result sha256 {summary.result_sha256})"
    )
    sections = [
        Section(
            1,
            "Bias audit",
            (
                KeyValues(
                    (
                        ("Automated employment decision tool", f"{summary.model} version {summary.version}"),
                        ("Audit date", summary.audit_date.isoformat()),
                        ("Distribution date", summary.distribution_date.isoformat()),
                        ("Valid until", f"{summary.valid_until.isoformat()} (12 months after the audit)"),
                        ("Individuals in the data", str(summary.rows_analysed)),
                        (
                            "Selected means"
                            if summary.basis == "selection"
                            else "Scored above the median means",
                            f"the tool's outcome {summary.positive_label!r}"
                            if summary.basis == "selection"
                            else f"{summary.score}: {summary.positive_label}",
                        ),
                        ("Evidence", evidence),
                    )
                ),
                Paragraph(
                    (
                        "Selection rate: the share of a category's individuals the tool selected."
                        if summary.basis == "selection"
                        else "Scoring rate: the share of a category's individuals whose score is above the "
                        "median score of the whole sample."
                    )
                    + " Impact ratio: a category's rate divided by the highest category's rate. Categories "
                    "under 2% of the data are excluded from the impact ratios; their counts are shown."
                ),
            ),
        )
    ]
    for number, table in enumerate(summary.tables, start=2):
        rows = tuple(
            (
                row.group,
                str(row.count),
                _number(row.selection_rate),
                "excluded (under 2%)" if row.excluded else _number(row.impact_ratio),
            )
            for row in table.rows
        )
        sections.append(
            Section(
                number,
                f"By {table.category}",
                (
                    Table(
                        ("Category", "Individuals", f"{summary.basis.capitalize()} rate", "Impact ratio"),
                        rows,
                        align=("left", "right", "right", "right"),
                        note=f"Evidence: {evidence}",
                    ),
                    Paragraph(
                        f"Individuals with an unknown {' or '.join(table.attributes)}: {table.unknown_count}"
                    ),
                ),
            )
        )
    return Report(
        report_id=f"LL144-{canonical_hash(summary.to_dict())[:12]}",
        title=f"NYC Local Law 144 bias-audit summary: {summary.model} v{summary.version}",
        metadata=ReportMetadata(
            title=f"LL144 bias audit {summary.model} v{summary.version}",
            author="Signoff",
            subject="NYC Local Law 144 bias audit summary",
            keywords=("LL144", "bias audit", summary.model),
        ),
        generated_at=generated_at,
        signoff_version=signoff_version,
        bundle_hash=None,
        sections=tuple(sections),
        payload={"ll144": summary.to_dict()},
    )
