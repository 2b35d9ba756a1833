"""Draw a ``Report`` as Markdown: the editable export of the documents (a word processor opens it).

Everything that came from a user, a file or a registry is escaped, so it reads as the text it is and
never as Markdown or HTML. Charts become tables of their values.
"""

from __future__ import annotations

import re

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

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    """Plain text as Markdown that shows exactly that text (HTML characters as entities)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def _cell(text: str) -> str:
    return escape(" ".join(str(text).split()))


def _table(columns: tuple[str, ...], rows) -> list[str]:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _block(block: Block) -> list[str]:
    match block:
        case Paragraph(text=text, style=style):
            return [f"*{escape(text)}*" if style == "note" else escape(text)]
        case Heading(text=text):
            return [f"### {escape(text)}"]
        case KeyValues(items=items, caption=caption):
            return ([f"**{escape(caption)}**", ""] if caption else []) + [
                f"- **{escape(k)}**: {escape(v)}" for k, v in items
            ]
        case Table(columns=columns, rows=rows, caption=caption, note=note):
            lines = ([f"**{escape(caption)}**", ""] if caption else []) + _table(columns, rows)
            return lines + (["", f"*{escape(note)}*"] if note else [])
        case Callout(status=status, text=text):
            return [f"> **{escape(status.label)}** {escape(text)}"]
        case BarChart(title=title, categories=categories, values=values):
            return [
                f"**{escape(title)}**",
                "",
                *_table(("", "value"), zip(categories, map(str, values), strict=True)),
            ]
        case HeatMap(title=title, row_labels=rows, column_labels=cols, values=values):
            grid = [(r, *map(str, v)) for r, v in zip(rows, values, strict=True)]
            return [f"**{escape(title)}**", "", *_table(("", *cols), grid)]
    raise TypeError(f"no Markdown for {type(block).__name__}")


def render_markdown(report: Report) -> str:
    lines = [f"# {escape(report.title)}", ""]
    if report.subtitle:
        lines += [escape(report.subtitle), ""]
    lines += [f"Report {escape(report.report_id)}, generated {escape(format_utc(report.generated_at))}", ""]
    for section in report.sections:
        lines += [f"## {section.number} {escape(section.title)}", ""]
        for block in section.blocks:
            lines += [*_block(block), ""]
    return "\n".join(lines)
