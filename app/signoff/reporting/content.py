"""The report's content model: what an audit report says, independent of how it is drawn.

A ``Report`` is numbered ``Section``s of blocks (paragraphs, key-value lists, tables, bar charts, heat
maps, status callouts) plus a machine-readable payload. Builders make one from domain objects with pure
functions; ``reporting.pdf`` draws it. ``Report.to_dict()`` is the canonical, JSON-safe form that is
embedded in the PDF and hashed, so every value here is already the text or number a reader will see.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from signoff.domain.audit import format_utc

SCHEMA = "signoff.report/1"

Alignment = Literal["left", "right", "center"]
_ALIGNMENTS = ("left", "right", "center")


class Status(enum.StrEnum):
    """A verdict shown in a callout or a table; each has a word and a symbol so colour is never needed."""

    PASS = "pass"
    FAIL = "fail"
    WAIVED = "waived"
    INSUFFICIENT = "insufficient"
    NOT_RUN = "not_run"
    NOT_AVAILABLE = "not_available"  # the evidence exists elsewhere but this report does not carry it
    INFO = "info"

    @property
    def symbol(self) -> str:
        return _STATUS_SYMBOLS[self]

    @property
    def word(self) -> str:
        return _STATUS_WORDS[self]

    @property
    def label(self) -> str:
        """Symbol and word, e.g. "✗ FAIL": how a status is printed anywhere in a report."""
        return f"{self.symbol} {self.word}"


_STATUS_SYMBOLS = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.WAIVED: "⚑",
    Status.INSUFFICIENT: "?",
    Status.NOT_RUN: "–",
    Status.NOT_AVAILABLE: "○",
    Status.INFO: "ℹ",
}
_STATUS_WORDS = {
    Status.PASS: "PASS",
    Status.FAIL: "FAIL",
    Status.WAIVED: "WAIVED",
    Status.INSUFFICIENT: "INSUFFICIENT DATA",
    Status.NOT_RUN: "NOT RUN",
    Status.NOT_AVAILABLE: "NOT AVAILABLE",
    Status.INFO: "NOTE",
}


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Literal["body", "note"] = "body"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "paragraph", "text": self.text, "style": self.style}


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section, e.g. "7.2 Attribute: sex".

    ``keep``: how many of the blocks after it belong on one page with it (a summary), when they fit one."""

    text: str
    keep: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "heading", "text": self.text, **({"keep": self.keep} if self.keep else {})}


@dataclass(frozen=True)
class KeyValues:
    items: tuple[tuple[str, str], ...]
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "key_values", "caption": self.caption, "items": [list(i) for i in self.items]}


@dataclass(frozen=True)
class Table:
    """Rows of already formatted cells. ``align`` per column (default left); ``widths`` are relative."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[Alignment, ...] = ()
    caption: str = ""
    note: str = ""
    widths: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.columns)
        for index, row in enumerate(self.rows):
            if len(row) != n:
                raise ValueError(f"table {self.caption!r}: row {index + 1} has {len(row)} cells, not {n}")
        if self.align and (len(self.align) != n or any(a not in _ALIGNMENTS for a in self.align)):
            raise ValueError(f"table {self.caption!r}: give one of {_ALIGNMENTS} per column")
        if self.widths and len(self.widths) != n:
            raise ValueError(f"table {self.caption!r}: give one relative width per column")

    def alignment(self, column: int) -> Alignment:
        return self.align[column] if self.align else "left"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "table",
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "align": list(self.align),
            "note": self.note,
            "widths": list(self.widths),
        }


@dataclass(frozen=True)
class BarChart:
    """One bar per category; optional interval per bar and a dashed reference line (e.g. 0.8).

    ``highlight`` marks bars that need the reader's attention (starred and in bold, so it reads in
    greyscale too); ``tones`` names each bar's meaning (``domain.palette.Tone``: the app's colours; a
    highlighted bar without one is an alert); ``value_format`` is a ``str.format`` pattern for the values.
    """

    title: str
    categories: tuple[str, ...]
    values: tuple[float | None, ...]
    axis_label: str
    error_low: tuple[float | None, ...] = ()
    error_high: tuple[float | None, ...] = ()
    reference: float | None = None
    reference_label: str = ""
    highlight: tuple[bool, ...] = ()
    highlight_label: str = ""
    value_format: str = "{:.3f}"
    axis_max: float | None = None
    note: str = ""
    tones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.categories)
        for name in ("values", "error_low", "error_high", "highlight", "tones"):
            seq = getattr(self, name)
            if name != "values" and not seq:
                continue
            if len(seq) != n:
                raise ValueError(f"chart {self.title!r}: {name} has {len(seq)} entries for {n} categories")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "bar_chart",
            "title": self.title,
            "categories": list(self.categories),
            "values": list(self.values),
            "axis_label": self.axis_label,
            "error_low": list(self.error_low),
            "error_high": list(self.error_high),
            "reference": self.reference,
            "reference_label": self.reference_label,
            "highlight": list(self.highlight),
            "highlight_label": self.highlight_label,
            "value_format": self.value_format,
            "axis_max": self.axis_max,
            "note": self.note,
            "tones": list(self.tones),
        }


@dataclass(frozen=True)
class HeatMap:
    """A grid of values (None = not computable), printed in each cell over a greyscale-safe palette."""

    title: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    value_format: str = "{:.3f}"
    row_axis_label: str = ""
    column_axis_label: str = ""
    note: str = ""
    value_range: tuple[float, float] | None = None  # palette ends; default: the lowest and highest value

    def __post_init__(self) -> None:
        if len(self.values) != len(self.row_labels) or any(
            len(row) != len(self.column_labels) for row in self.values
        ):
            raise ValueError(f"heat map {self.title!r}: values must be rows x columns")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "heat_map",
            "title": self.title,
            "row_labels": list(self.row_labels),
            "column_labels": list(self.column_labels),
            "values": [list(r) for r in self.values],
            "value_format": self.value_format,
            "row_axis_label": self.row_axis_label,
            "column_axis_label": self.column_axis_label,
            "note": self.note,
            "value_range": None if self.value_range is None else list(self.value_range),
        }


@dataclass(frozen=True)
class Callout:
    status: Status
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "callout", "status": self.status.value, "text": self.text}


Block = Paragraph | Heading | KeyValues | Table | BarChart | HeatMap | Callout


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    blocks: tuple[Block, ...]
    new_page: bool = False  # start on a fresh page (long sections read better that way)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "new_page": self.new_page,
            "blocks": [b.to_dict() for b in self.blocks],
        }


@dataclass(frozen=True)
class ReportMetadata:
    """The PDF document properties a file manager or a records system shows without opening it."""

    title: str
    author: str
    subject: str
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "author": self.author,
            "subject": self.subject,
            "keywords": list(self.keywords),
        }


@dataclass(frozen=True)
class Report:
    report_id: str
    title: str
    metadata: ReportMetadata
    generated_at: datetime  # timezone-aware; printed and stored in UTC
    signoff_version: str
    bundle_hash: str | None
    sections: tuple[Section, ...]
    payload: dict[str, Any] = field(default_factory=dict)  # machine-readable results (JSON values)
    subtitle: str = ""
    watermark: str = ""  # "DRAFT — NOT APPROVED" on every page of a version that is not approved

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("a report's generation time must be timezone-aware (UTC)")
        numbers = [s.number for s in self.sections]
        if numbers != sorted(set(numbers)):
            raise ValueError(f"section numbers must be unique and increasing, got {numbers}")

    @property
    def short_bundle_hash(self) -> str:
        return self.bundle_hash[:12] if self.bundle_hash else "none"

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-safe content: what the PDF embeds as report.json and what its hash covers."""
        return {
            "schema": SCHEMA,
            "report_id": self.report_id,
            "title": self.title,
            "subtitle": self.subtitle,
            "metadata": self.metadata.to_dict(),
            "generated_at": format_utc(self.generated_at),
            "signoff_version": self.signoff_version,
            "bundle_hash": self.bundle_hash,
            "sections": [s.to_dict() for s in self.sections],
            "payload": self.payload,
            "watermark": self.watermark,
        }
