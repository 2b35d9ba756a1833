"""Regulators' documents as content: clauses answered by evidence, and the NYC LL144 bias-audit summary.

A control map (shipped YAML) says which Signoff artefact answers which clause of a framework (EU AI Act
Annex IV, NYC LL144, US model-risk guidance, 21 CFR Part 11). Each answer is a ``Statement`` that lists
the evidence it came from; a clause none of whose artefacts exist reads "not recorded", and every missing
artefact appears in the model's "what is missing" list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from signoff.domain.fairness import FairnessResult, SegmentResult
from signoff.domain.inventory import add_months

NOT_RECORDED = "not recorded"
LL144_VALIDITY_MONTHS = 12
LL144_EXCLUDED_SHARE = 0.02  # groups under 2% of the data may be left out of the impact ratios


@dataclass(frozen=True)
class ControlClause:
    id: str
    framework: str
    section: str
    title: str
    answers: tuple[str, ...]  # artefact keys


@dataclass(frozen=True)
class ControlMap:
    name: str
    version: str  # SHA-256 of the file's bytes
    frameworks: dict[str, str]
    clauses: tuple[ControlClause, ...]

    def of(self, framework: str) -> tuple[ControlClause, ...]:
        return tuple(c for c in self.clauses if c.framework == framework)


@dataclass(frozen=True)
class Statement:
    """One fact a document states, with the evidence it came from (run, log, signature, record)."""

    artefact: str
    label: str
    text: str
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "artefact": self.artefact,
            "label": self.label,
            "text": self.text,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class ClauseAnswer:
    clause: ControlClause
    statements: tuple[Statement, ...]
    missing: tuple[str, ...]  # artefact keys the clause names that are not recorded

    @property
    def recorded(self) -> bool:
        return bool(self.statements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause.id,
            "framework": self.clause.framework,
            "section": self.clause.section,
            "title": self.clause.title,
            "recorded": self.recorded,
            "statements": [s.to_dict() for s in self.statements],
            "missing": list(self.missing),
        }


def answer_clauses(
    clauses: tuple[ControlClause, ...], artefacts: dict[str, Statement | None]
) -> list[ClauseAnswer]:
    """Each clause with the statements of the artefacts that exist and the keys of those that do not."""
    answers = []
    for clause in clauses:
        found = tuple(s for key in clause.answers if (s := artefacts.get(key)) is not None)
        missing = tuple(key for key in clause.answers if artefacts.get(key) is None)
        answers.append(ClauseAnswer(clause, found, missing if clause.answers else ("(outside Signoff)",)))
    return answers


# --- NYC Local Law 144 bias-audit summary ------------------------------------------------------------


@dataclass(frozen=True)
class LL144Row:
    group: str
    count: int
    selection_rate: float | None  # or the scoring rate, when the audit is of scores (``basis``)
    impact_ratio: float | None
    excluded: bool  # under 2% of the data (or the Unknown group): shown with its count, not rated

    def to_dict(self, basis: str = "selection") -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            f"{basis}_rate": self.selection_rate,
            "impact_ratio": self.impact_ratio,
            "excluded": self.excluded,
        }


@dataclass(frozen=True)
class LL144Table:
    category: str  # "sex", "race/ethnicity", "intersection"
    attributes: tuple[str, ...]
    rows: tuple[LL144Row, ...]
    unknown_count: int

    def to_dict(self, basis: str = "selection") -> dict[str, Any]:
        return {
            "category": self.category,
            "attributes": list(self.attributes),
            "unknown_count": self.unknown_count,
            "rows": [r.to_dict(basis) for r in self.rows],
        }


def ll144_table(category: str, segment: SegmentResult) -> LL144Table:
    """The segment's impact ratios; the Unknown group is not a category but the separate unknown count."""
    unknown = {g.group for g in segment.groups if g.unknown}
    rows = tuple(
        LL144Row(r.group, r.count, r.selection_rate, None if r.excluded else r.impact_ratio, r.excluded)
        for r in segment.impact_ratios
        if r.group not in unknown
    )
    return LL144Table(category, segment.attributes, rows, segment.unknown_count)


CATEGORIES = ("sex", "race/ethnicity", "intersection of sex and race/ethnicity")


def ll144_scoring_tables(result: dict[str, Any]) -> tuple[LL144Table, ...]:
    """The three tables from ``analysis.ll144.scoring_rates``'s result (the Unknown category apart)."""
    return tuple(
        LL144Table(
            category,
            tuple(table["attributes"]),
            tuple(
                LL144Row(r["group"], r["count"], r["rate"], r["impact_ratio"], r["excluded"])
                for r in table["rows"]
                if not r["unknown"]
            ),
            table["unknown_count"],
        )
        for category, table in zip(CATEGORIES, result["tables"], strict=True)
    )


def ll144_tables(result: FairnessResult, sex: str, race: str) -> tuple[LL144Table, ...]:
    """The three tables the law asks for, read from a fairness result that has both attributes."""
    by_attributes = {frozenset(s.attributes): s for s in result.segments}
    return (
        ll144_table(CATEGORIES[0], by_attributes[frozenset({sex})]),
        ll144_table(CATEGORIES[1], by_attributes[frozenset({race})]),
        ll144_table(CATEGORIES[2], by_attributes[frozenset({sex, race})]),
    )


@dataclass(frozen=True)
class LL144Summary:
    model: str
    version: str
    log_id: int
    log_sha256: str
    run_id: int
    result_sha256: str
    rows_analysed: int
    positive_label: str
    audit_date: date  # when the analysis the numbers come from was run
    distribution_date: date  # when this summary is published
    tables: tuple[LL144Table, ...]
    basis: str = "selection"  # or "scoring": share scoring above the sample's median score
    score: str | None = None  # the score column, for a scoring audit

    @property
    def valid_until(self) -> date:
        return add_months(self.audit_date, LL144_VALIDITY_MONTHS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "log_id": self.log_id,
            "log_sha256": self.log_sha256,
            "run_id": self.run_id,
            "result_sha256": self.result_sha256,
            "rows_analysed": self.rows_analysed,
            "positive_label": self.positive_label,
            "audit_date": self.audit_date.isoformat(),
            "distribution_date": self.distribution_date.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "excluded_share": LL144_EXCLUDED_SHARE,
            "basis": self.basis,
            "score": self.score,
            "tables": [t.to_dict(self.basis) for t in self.tables],
        }
