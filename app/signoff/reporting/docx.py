"""Draw a ``Report`` as a Word document (python-docx): the editable export of the regulators' documents.

The same content model as the PDF and Markdown forms, so the three say the same thing. Text goes into
runs as text (python-docx escapes it for XML), never as markup; characters XML cannot hold at all are
replaced by U+FFFD so a stray control byte in a user's field cannot make the file unwritable.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.document import Document as DocxDocument

from signoff.domain.audit import format_utc
from signoff.reporting.content import (
    BarChart,
    Block,
    Callout,
    Heading,
    HeatMap,
    KeyValues,
    Paragraph,
    Report,
    Table,
)

# XML 1.0 allows tab, newline and carriage return below U+0020, and no surrogates or U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _plain(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _table(document: DocxDocument, columns: tuple[str, ...], rows) -> None:
    rows = list(rows)
    table = document.add_table(rows=1 + len(rows), cols=len(columns))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, columns, strict=True):
        cell.paragraphs[0].add_run(_plain(text)).bold = True
    for row, values in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.paragraphs[0].add_run(_plain(text))


def _caption(document: DocxDocument, caption: str) -> None:
    if caption:
        document.add_paragraph().add_run(_plain(caption)).bold = True


def _block(document: DocxDocument, block: Block) -> None:
    match block:
        case Paragraph(text=text, style=style):
            document.add_paragraph().add_run(_plain(text)).italic = style == "note"
        case Heading(text=text):
            document.add_heading(_plain(text), level=2)
        case KeyValues(items=items, caption=caption):
            _caption(document, caption)
            for key, value in items:
                item = document.add_paragraph(style="List Bullet")
                item.add_run(_plain(key)).bold = True
                item.add_run(": " + _plain(value))
        case Table(columns=columns, rows=rows, caption=caption, note=note):
            _caption(document, caption)
            _table(document, columns, rows)
            if note:
                document.add_paragraph().add_run(_plain(note)).italic = True
        case Callout(status=status, text=text):
            callout = document.add_paragraph()
            callout.add_run(_plain(status.label)).bold = True
            callout.add_run(" " + _plain(text))
        case BarChart(title=title, categories=categories, values=values):
            _caption(document, title)
            _table(document, ("", "value"), zip(categories, map(str, values), strict=True))
        case HeatMap(title=title, row_labels=row_labels, column_labels=columns, values=values):
            _caption(document, title)
            grid = [(r, *map(str, v)) for r, v in zip(row_labels, values, strict=True)]
            _table(document, ("", *columns), grid)
        case _:
            raise TypeError(f"no DOCX for {type(block).__name__}")


def render_docx(report: Report) -> bytes:
    document = Document()
    properties = document.core_properties
    properties.title = _plain(report.metadata.title)
    properties.author = _plain(report.metadata.author)
    properties.subject = _plain(report.metadata.subject)
    properties.keywords = _plain(", ".join(report.metadata.keywords))
    properties.created = properties.modified = report.generated_at.replace(tzinfo=None)
    document.add_heading(_plain(report.title), level=0)
    if report.subtitle:
        document.add_paragraph(_plain(report.subtitle))
    document.add_paragraph(_plain(f"Report {report.report_id}, generated {format_utc(report.generated_at)}"))
    for section in report.sections:
        document.add_heading(_plain(f"{section.number} {section.title}"), level=1)
        for block in section.blocks:
            _block(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
