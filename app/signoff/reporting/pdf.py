"""Draw a ``Report`` as a PDF: A4, embedded DejaVu fonts, vector charts, byte-identical for equal content.

The canonical JSON of the content is attached to the PDF as ``report.json``; its SHA-256 is printed on
the cover and also stored in the document information dictionary and the attachment's description, so
``reporting.verify`` can check it without extracting text. Every page carries the report ID, the
short bundle hash and "page x of y" (the canvas holds all pages until it knows how many there are).
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import struct
from collections.abc import Iterable, Sequence
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFInfo,
    PDFName,
    PDFObject,
    PDFStream,
    PDFString,
)
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    LongTable,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from signoff.domain import palette
from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.palette import Tone, rgb
from signoff.reporting.content import (
    BarChart,
    Block,
    Callout,
    Heading,
    HeatMap,
    KeyValues,
    Paragraph,
    Report,
    Section,
    Status,
    Table,
)
from signoff.reporting.file_names import (
    ATTACHMENT_DESCRIPTION_PREFIX,
    ATTACHMENT_NAME,
    INFO_BUNDLE_HASH,
    INFO_PAYLOAD_SHA256,
    INFO_REPORT_ID,
    ROOT_FINGERPRINT_LABEL,
    ROOT_HOLDERS,
)
from signoff.resources import resource_path

# ASCII85 on top of Flate only made streams 25% larger and slower (7-bit mail transport is long gone).
# reportlab has no per-document switch; this module is the only user of reportlab in Signoff.
rl_config.useA85 = 0


FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_MONO = "DejaVuSansMono"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

# Table type: 8 pt is the smallest an auditor reads on paper without a magnifier.
CELL_SIZE, CELL_LEADING, CELL_PADDING = 8.0, 10.0, 3.0

# Hex digests are set in the monospaced face so two of them can be compared character by character.
_HEX_DIGEST = re.compile(r"^(sha256:)?[0-9a-f]{12,}$")

INK = colors.black
MUTED = colors.Color(0.35, 0.35, 0.35)
RULE = colors.Color(0.6, 0.6, 0.6)
DRAFT_INK = colors.Color(0.7, 0.0, 0.13)
DRAFT_WATERMARK = colors.Color(0.7, 0.0, 0.13, alpha=0.12)
HEADER_FILL = colors.Color(0.86, 0.86, 0.86)
ZEBRA_FILL = colors.Color(0.955, 0.955, 0.955)


@cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) and Mono once per process; reportlab subsets and embeds them."""
    for name, file in (
        (FONT, "DejaVuSans.ttf"),
        (FONT_BOLD, "DejaVuSans-Bold.ttf"),
        (FONT_MONO, "DejaVuSansMono.ttf"),
    ):
        font = TTFont(name, str(resource_path("fonts", file)))
        _repair_trailing_advance_widths(font.face)
        pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _repair_trailing_advance_widths(face: Any) -> None:
    """Undo a reportlab 4/5 slip that makes the embedded monospaced subset disagree with the PDF's widths.

    A TrueType ``hmtx`` lists full metrics for the first ``numberOfHMetrics`` glyphs; the rest repeat the
    last advance. reportlab repeats it already scaled to 1000 units per em, and writes that into the
    embedded subset (DejaVu Sans Mono: 602 instead of 1233 of 2048), which PDF/A forbids (ISO 19005-3
    6.2.11.5). The unscaled advance is put back before any subset is made.
    """
    full = struct.unpack(">H", face.get_table("hhea")[34:36])[0]
    advance = face.hmetrics[full - 1][0]
    face.hmetrics[full:] = [(advance, lsb) for _, lsb in face.hmetrics[full:]]


@cache
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, spaceAfter=4, textColor=INK)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=20, leading=25, spaceAfter=4
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, leading=16, spaceAfter=10),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=10, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=FONT_BOLD, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10.5, textColor=MUTED),
        "caption": ParagraphStyle(
            "caption", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11, spaceAfter=3
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=CELL_SIZE, leading=CELL_LEADING, spaceAfter=0),
        "cell_right": ParagraphStyle(
            "cell_right",
            parent=body,
            fontSize=CELL_SIZE,
            leading=CELL_LEADING,
            spaceAfter=0,
            alignment=TA_RIGHT,
        ),
        "cell_center": ParagraphStyle(
            "cell_center",
            parent=body,
            fontSize=CELL_SIZE,
            leading=CELL_LEADING,
            spaceAfter=0,
            alignment=TA_CENTER,
        ),
        "cell_head": ParagraphStyle(
            "cell_head",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=CELL_SIZE,
            leading=CELL_LEADING,
            spaceAfter=0,
        ),
        "cell_head_right": ParagraphStyle(
            "cell_head_right",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=CELL_SIZE,
            leading=CELL_LEADING,
            spaceAfter=0,
            alignment=TA_RIGHT,
        ),
        "cell_head_center": ParagraphStyle(
            "cell_head_center",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=CELL_SIZE,
            leading=CELL_LEADING,
            spaceAfter=0,
            alignment=TA_CENTER,
        ),
        "key": ParagraphStyle("key", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11, spaceAfter=0),
        "value": ParagraphStyle("value", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "callout": ParagraphStyle("callout", parent=body, fontSize=9, leading=12, spaceAfter=0),
        "digest": ParagraphStyle(
            "digest", parent=body, fontName=FONT_MONO, fontSize=8.5, leading=11, spaceAfter=0
        ),
    }


def payload_bytes(report: Report) -> bytes:
    """The attachment: the report's content as canonical JSON (UTF-8)."""
    return canonical_json(report.to_dict())


def render_pdf(report: Report, out: Path | BinaryIO) -> str:
    """Write ``report`` as a PDF to a path or a binary stream; return the SHA-256 (hex) of the PDF bytes."""
    pdf = render_pdf_bytes(report)
    if isinstance(out, Path):
        out.write_bytes(pdf)
    else:
        out.write(pdf)
    return sha256_hex(pdf)


def render_pdf_bytes(report: Report) -> bytes:
    return render_pdf_document(report)[0]


def render_pdf_document(
    report: Report, *, root_sha256: str | None = None, root_holder: str = "workspace"
) -> tuple[bytes, int]:
    """The PDF bytes and the number of pages (known to the canvas, so nobody has to parse the PDF).

    ``root_sha256``: the fingerprint of the root certificate the exported file will be signed under,
    printed on the cover with who holds it (``root_holder``, one of ``ROOT_HOLDERS``; see
    ``reporting/pades.py``)."""
    register_fonts()
    attachment = payload_bytes(report)
    attachment_sha256 = sha256_hex(attachment)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=report.metadata.title,
        author=report.metadata.author,
        subject=report.metadata.subject,
        keywords=list(report.metadata.keywords),
        creator=f"Signoff {report.signoff_version}",
        producer=f"Signoff {report.signoff_version} (ReportLab)",
        invariant=1,
        lang="en",
        displayDocTitle=1,
        initialFontName=FONT,
        initialFontSize=9,
    )
    story = _cover(report, attachment_sha256, root_sha256, root_holder)
    for section in report.sections:
        story += _section(section, first=section is report.sections[0])
        if section is report.sections[0] and len(report.sections) > 2:
            story += _contents(report)  # on the cover, after the first section
    pages: list[int] = []
    document.build(story, canvasmaker=_canvas_class(report, attachment, attachment_sha256, pages))
    return buffer.getvalue(), pages[-1]


# ---------------------------------------------------------------------------------------------- canvas


def _canvas_class(
    report: Report, attachment: bytes, attachment_sha256: str, pages: list[int]
) -> type[Canvas]:
    """A canvas that holds pages back to number them "x of y" and attaches the content before saving."""
    stamp = report.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    footer_left = f"Report {report.report_id}"
    footer_mid = f"bundle {report.short_bundle_hash}"
    header = report.metadata.title
    watermark = report.watermark

    class ReportCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # The creation date is the report's generation time, so equal content gives equal bytes.
            self.setDateFormatter(lambda *_: stamp)
            info = _SignoffInfo()
            info.__dict__.update(self._doc.info.__dict__)
            info.extra = {
                INFO_REPORT_ID: report.report_id,
                INFO_PAYLOAD_SHA256: attachment_sha256,
                INFO_BUNDLE_HASH: report.bundle_hash or "",
            }
            self._doc.info = info
            self._pages: list[dict[str, Any]] = []
            # Filled while drawing (mutated in place, so every saved page state shares them): the page
            # each section starts on, and where the cover's contents lines want their page numbers.
            self.section_pages: dict[str, int] = {}
            self.contents_slots: list[tuple[str, float, float, int]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            pages.append(total)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._draw_page_furniture(number, total)
                super().showPage()
            _attach(self._doc, attachment, attachment_sha256, stamp)
            super().save()

        def _draw_page_furniture(self, number: int, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, MARGIN_BOTTOM - 5 * mm, PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 5 * mm)
            self.setFillColor(MUTED)
            self.setFont(FONT, 8)
            y = MARGIN_BOTTOM - 9 * mm
            self.drawString(MARGIN_X, y, footer_left)
            self.drawCentredString(PAGE_WIDTH / 2, y, footer_mid)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, y, f"page {number} of {total}")
            self.setFillColor(INK)
            self.setFont(FONT, 9)
            for key, x, slot_y, page in self.contents_slots:
                if page == number and key in self.section_pages:
                    self.drawRightString(x, slot_y, str(self.section_pages[key]))
            top = PAGE_HEIGHT - MARGIN_TOP + 6 * mm
            if number > 1:
                self.drawString(MARGIN_X, top, header)
                self.line(MARGIN_X, top - 2 * mm, PAGE_WIDTH - MARGIN_X, top - 2 * mm)
            if watermark:
                # Header and watermark on every page: no page of a draft can pass for an approved report.
                self.setFillColor(DRAFT_INK)
                self.setFont(FONT, 9)
                self.drawRightString(PAGE_WIDTH - MARGIN_X, top, watermark)
                self.setFillColor(DRAFT_WATERMARK)
                self.setFont(FONT, 54)
                self.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
                self.rotate(45)
                # Marked as replacement text "" so that text extraction (and a screen reader) reads the
                # page's content, not the diagonal letters across it; the header above says it in words.
                self._code.append("/Span <</ActualText ()>> BDC")
                self.drawCentredString(0, -18, watermark)
                self._code.append("EMC")
            self.restoreState()

    return ReportCanvas


class _SignoffInfo(PDFInfo):
    """The standard document information plus Signoff's own keys (report ID, content hash, bundle)."""

    extra: dict[str, str]

    def format(self, document: Any) -> bytes:
        standard = PDFInfo.format(self, document)
        extra = b"".join(
            b"/" + key.encode("ascii") + b" " + PDFString(value).format(document) + b"\n"
            for key, value in sorted(self.extra.items())
        )
        # PDFInfo.format returns "<< ... >>"; splice our keys in before the closing brackets.
        head, _, _ = standard.rpartition(b">>")
        return head + extra + b">>"


class _EncodedName(PDFObject):
    """A PDF name written exactly as given: reportlab's ``PDFName`` would escape the ``#`` of ``#2F``."""

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded

    def format(self, _document: Any) -> bytes:
        return self.encoded


_MIME_JSON = _EncodedName(b"/application#2Fjson")  # the MIME type application/json, "/" escaped


def _attach(document: Any, data: bytes, sha256: str, stamp: str) -> None:
    """Embed ``data`` as report.json (uncompressed here; the exported PDF/A file compresses it)."""
    stream = PDFStream(
        PDFDictionary(
            {
                "Type": PDFName("EmbeddedFile"),
                "Subtype": _MIME_JSON,
                "Params": PDFDictionary({"Size": len(data), "ModDate": PDFString(stamp)}),
            }
        ),
        content=data,
        filters=[],
    )
    file_spec = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(ATTACHMENT_NAME),
            "UF": PDFString(ATTACHMENT_NAME),
            "Desc": PDFString(ATTACHMENT_DESCRIPTION_PREFIX + sha256),
            "AFRelationship": PDFName("Data"),
            "EF": PDFDictionary({"F": document.Reference(stream)}),
        }
    )
    names = PDFArray([PDFString(ATTACHMENT_NAME), document.Reference(file_spec)])
    document.Catalog.Names = PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": names})})


# ----------------------------------------------------------------------------------------------- story


def _table_style(commands: list[tuple[Any, ...]]) -> TableStyle:
    """A table style whose default cell font is DejaVu too (reportlab's default would pull in Helvetica)."""
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), *commands])


class _SectionAnchor(Flowable):
    """Zero-size marker that becomes a PDF bookmark (outline entry) where it lands."""

    def __init__(self, key: str, title: str, level: int) -> None:
        super().__init__()
        self.key, self.title, self.level = key, title, level
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv.bookmarkHorizontal(self.key, 0, 20)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level)
        self.canv.section_pages[self.key] = self.canv.getPageNumber()


class _ContentsEntry(Flowable):
    """One line of the cover's contents; its page number is drawn once all pages are known."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__()
        self.key, self.text = key, text
        self.width, self.height = FRAME_WIDTH, 13

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(FONT, 9)
        canvas.drawString(0, 3, self.text)
        x, y = canvas.absolutePosition(self.width, 3)
        canvas.contents_slots.append((self.key, x, y, canvas.getPageNumber()))
        canvas.linkRect("", self.key, (0, 0, self.width, self.height), relative=1, thickness=0)


def _contents(report: Report) -> list[Flowable]:
    entries: list[Flowable] = [RLParagraph("Contents", _styles()["h2"])]
    entries += [_ContentsEntry(_section_key(s), f"{s.number}  {s.title}") for s in report.sections]
    return [KeepTogether(entries), Spacer(1, 6)]


def _section_key(section: Section) -> str:
    return f"section-{section.number}"


def _text(value: str) -> str:
    """Plain content text as reportlab paragraph markup (content never carries markup itself)."""
    return escape(value).replace("\n", "<br/>")


def _para(value: str, style: str) -> RLParagraph:
    styles = _styles()
    if style in ("value", "cell", "cell_right", "cell_center") and _HEX_DIGEST.match(value):
        return RLParagraph(f'<font face="{FONT_MONO}">{_text(value)}</font>', styles[style])
    return RLParagraph(_text(value), styles[style])


def _cover(
    report: Report, attachment_sha256: str, root_sha256: str | None, root_holder: str = "workspace"
) -> list[Flowable]:
    styles = _styles()
    story: list[Flowable] = [RLParagraph(_text(report.title), styles["title"])]
    if report.subtitle:
        story.append(RLParagraph(_text(report.subtitle), styles["subtitle"]))
    rows = [
        [
            RLParagraph(
                f"Machine-readable content: attachment <b>{ATTACHMENT_NAME}</b>, SHA-256", styles["value"]
            )
        ],
        [RLParagraph(attachment_sha256, styles["digest"])],
    ]
    if root_sha256 is not None:
        # Compare it with the root's own fingerprint: a file re-signed under another root shows it here.
        if root_holder not in ROOT_HOLDERS:
            raise ValueError(f"a root is held by one of {ROOT_HOLDERS}, not {root_holder!r}")
        rows += [
            [RLParagraph(_text(ROOT_FINGERPRINT_LABEL.format(holder=root_holder)), styles["value"])],
            [RLParagraph(root_sha256, styles["digest"])],
        ]
    digest = RLTable(
        rows,
        colWidths=[FRAME_WIDTH],
        style=_table_style(
            [
                ("BOX", (0, 0), (-1, -1), 0.75, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    story += [digest, Spacer(1, 6)]
    return story


def _section(section: Section, *, first: bool) -> list[Flowable]:
    styles = _styles()
    story: list[Flowable] = []
    # A chapter asks for a fresh page, but when the last one left more than half a page empty it starts
    # below it: a short chapter (signatures, findings) or a chapter's last lines never sit alone on a page.
    story.append(CondPageBreak(CHAPTER_ROOM if section.new_page and not first else 60 * mm))
    heading = f"{section.number}  {section.title}"
    story.append(_SectionAnchor(_section_key(section), heading, 0))
    story.append(RLParagraph(_text(heading), styles["h1"]))
    blocks = list(section.blocks)
    while blocks:
        block = blocks.pop(0)
        if isinstance(block, Heading) and block.keep:
            kept, blocks = blocks[: block.keep], blocks[block.keep :]
            story += _kept_together(block, kept)
        else:
            story += _block(block)
    return story


def _kept_together(heading: Heading, blocks: list[Block]) -> list[Flowable]:
    """A heading and the blocks of its summary on one page when they fit one. When more than two thirds of
    the page are still empty they start here and continue overleaf, so no page is left mostly blank."""
    inner = [RLParagraph(_text(heading.text), _styles()["h2"])]
    for block in blocks:
        inner += _block(block)
    return [CondPageBreak(CAPTION_ROOM + 15 * mm), _OnOnePage(inner)]


FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


class _OnOnePage(KeepTogether):
    """Flowables that move to the next page together when they fit on one and less than two thirds of
    this page are left; otherwise they start here and split where the page ends."""

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        if getattr(self, "_wrapInfo", None) != (avail_width, avail_height):
            self.wrap(avail_width, avail_height)
        content = list(self._content)
        if avail_height < self._H <= FRAME_HEIGHT and avail_height < FRAME_HEIGHT * 2 / 3:
            return [PageBreak(), *content]
        return content


def _block(block: Block) -> list[Flowable]:
    styles = _styles()
    match block:
        case Paragraph(text=text, style=style):
            return [RLParagraph(_text(text), styles[style])]
        case Heading(text=text):
            # Room for the heading and what a caption below it asks for (CAPTION_ROOM), so a heading is
            # never left alone at a page foot while its table's caption moves to the next page.
            return [CondPageBreak(CAPTION_ROOM + 15 * mm), RLParagraph(_text(text), styles["h2"])]
        case KeyValues():
            return _key_values(block)
        case Table():
            return _table(block)
        case BarChart():
            return _figure([_ChartPart(part) for part in _bar_chart_pages(block)], block.note)
        case HeatMap():
            return _figure([_ChartPart(part) for part in _heat_map_pages(block)], block.note)
        case Callout():
            return [_callout(block), Spacer(1, 6)]
    raise TypeError(f"unknown report block {type(block).__name__}")


def _figure(parts: list[Flowable], note: str) -> list[Flowable]:
    """A chart (in page-sized parts when long) and its note."""
    notes = [RLParagraph(_text(note), _styles()["note"])] if note else []
    return [*parts, *notes, Spacer(1, 6)]


# Rows a chart part must keep on either side of a split: fewer would read as a stray fragment.
MIN_SPLIT_ROWS = 3


class _ChartPart(Flowable):
    """A bar chart or heat map that splits between its rows where a page ends, instead of leaving the
    rest of the page empty (a drawing cannot split; this cuts the chart, on one scale, into two)."""

    def __init__(self, chart: BarChart | HeatMap) -> None:
        super().__init__()
        self.chart = chart
        self.drawing = _bar_chart(chart) if isinstance(chart, BarChart) else _heat_map(chart)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.drawing.wrap(avail_width, avail_height)

    def draw(self) -> None:
        self.drawing.drawOn(self.canv, 0, 0)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        rows = _rows_of(self.chart)
        fixed = self.drawing.height - rows * _row_height(self.chart)
        fitting = int((avail_height - fixed) // _row_height(self.chart))
        if fitting < MIN_SPLIT_ROWS or rows - fitting < MIN_SPLIT_ROWS:
            return []  # the whole chart moves to the next page
        head, tail = _chart_parts(self.chart, [slice(0, fitting), slice(fitting, rows)], continued=True)
        return [_ChartPart(head), _ChartPart(tail)]


BAR_ROW, HEAT_ROW = 15.0, 16.0


def _rows_of(chart: BarChart | HeatMap) -> int:
    return len(chart.categories) if isinstance(chart, BarChart) else len(chart.row_labels)


def _row_height(chart: BarChart | HeatMap) -> float:
    return BAR_ROW if isinstance(chart, BarChart) else HEAT_ROW


def _chart_parts(chart: BarChart | HeatMap, slices: list[slice], *, continued: bool = False) -> list[Any]:
    """``chart`` cut into row ranges, every part on the same scale and titled as a continuation."""
    if isinstance(chart, BarChart):
        numbers = [v for v in (*chart.values, *chart.error_high) if v is not None]
        if chart.reference is not None:
            numbers.append(chart.reference)
        # One scale for every part, so bars on different pages compare.
        axis_max = chart.axis_max if chart.axis_max is not None else (max(numbers) * 1.05 if numbers else 1.0)
    else:
        cells = [v for row in chart.values for v in row if v is not None]
        # One palette scale for every part, so the same shade means the same value on every page.
        value_range = chart.value_range or ((min(cells), max(cells)) if cells else (0.0, 1.0))
    base = chart.title.split(" (continued")[0]

    def title(i: int) -> str:
        if i == 0:
            return chart.title
        return f"{base} (continued)" if continued else f"{base} (continued, part {i + 1} of {len(slices)})"

    if isinstance(chart, BarChart):
        return [
            dataclasses.replace(
                chart,
                title=title(i),
                categories=chart.categories[part],
                values=chart.values[part],
                error_low=chart.error_low[part],
                error_high=chart.error_high[part],
                highlight=chart.highlight[part],
                tones=chart.tones[part],
                axis_max=axis_max,
            )
            for i, part in enumerate(slices)
        ]
    return [
        dataclasses.replace(
            chart,
            title=title(i),
            row_labels=chart.row_labels[part],
            values=chart.values[part],
            value_range=value_range,
        )
        for i, part in enumerate(slices)
    ]


# A caption needs room for itself and a few rows below it, or it starts on the next page.
CAPTION_ROOM = 30 * mm

# A chapter starts on a fresh page unless more than this much of the page is still empty.
CHAPTER_ROOM = FRAME_HEIGHT / 2

# Long charts are cut into numbered parts of at most this many rows ("part 2 of 3"); a part may then
# split again where a page ends (``_ChartPart``).
MAX_CHART_ROWS = 36


def _row_slices(count: int) -> list[slice]:
    return [slice(start, start + MAX_CHART_ROWS) for start in range(0, max(count, 1), MAX_CHART_ROWS)]


def _bar_chart_pages(chart: BarChart) -> list[BarChart]:
    slices = _row_slices(len(chart.categories))
    return [chart] if len(slices) == 1 else _chart_parts(chart, slices)


def _heat_map_pages(chart: HeatMap) -> list[HeatMap]:
    slices = _row_slices(len(chart.row_labels))
    return [chart] if len(slices) == 1 else _chart_parts(chart, slices)


# Text this long may not fit on one page in a table cell; such a table may split inside a row (an 8 KB
# description continues on the next page). Other tables keep each row whole, as before.
LONG_TEXT = 1500


def _has_long_text(values: Iterable[str]) -> int:
    return int(any(len(value) > LONG_TEXT for value in values))


def _key_values(block: KeyValues) -> list[Flowable]:
    styles = _styles()
    key_width = min(
        max((pdfmetrics.stringWidth(k, FONT_BOLD, 8.5) for k, _ in block.items), default=40) + 12,
        FRAME_WIDTH * 0.4,
    )
    rows = [[_para(k, "key"), _para(v, "value")] for k, v in block.items]
    table = RLTable(
        rows,
        colWidths=[key_width, FRAME_WIDTH - key_width],
        splitInRow=_has_long_text(v for _, v in block.items),
        style=_table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        ),
        hAlign="LEFT",
    )
    parts: list[Flowable] = []
    if block.caption:
        parts += [CondPageBreak(CAPTION_ROOM), RLParagraph(_text(block.caption), styles["caption"])]
    return [*parts, table, Spacer(1, 6)]


def _text_width(value: str) -> float:
    """Width of the widest line of a cell at the cell font size."""
    if "\n" not in value:
        return pdfmetrics.stringWidth(value, FONT, CELL_SIZE)
    return max(pdfmetrics.stringWidth(line, FONT, CELL_SIZE) for line in value.split("\n"))


def _column_widths(block: Table, measured: list[list[float]]) -> list[float]:
    """Widths that fit the frame. Numbers and short text keep their natural width (they never wrap);
    long text columns share the rest, in proportion to their natural width but not below their longest
    word where that can be helped."""
    if block.widths:
        total = sum(block.widths)
        return [FRAME_WIDTH * w / total for w in block.widths]
    padding = 2 * CELL_PADDING + 2
    natural, minimum, rigid = [], [], []
    for index, name in enumerate(block.columns):
        widest = max((row[index] for row in measured), default=0.0)
        head = max((pdfmetrics.stringWidth(w, FONT_BOLD, CELL_SIZE) for w in name.split()), default=0.0)
        natural.append(min(max(widest, head), FRAME_WIDTH * 0.5) + padding)
        word = max((w for row in block.rows for w in row[index].split()), key=len, default="")
        minimum.append(min(max(head, pdfmetrics.stringWidth(word, FONT, CELL_SIZE)), 120.0) + padding)
        rigid.append(block.alignment(index) != "left" or natural[-1] <= 90.0)
    if sum(natural) <= FRAME_WIDTH:
        # Spare width goes to the text columns; numbers stay close to their headers.
        text = [w if block.alignment(i) == "left" else 0.0 for i, w in enumerate(natural)]
        share = text if sum(text) else natural
        spare = FRAME_WIDTH - sum(natural)
        return [w + spare * s / sum(share) for w, s in zip(natural, share, strict=True)]
    rest = FRAME_WIDTH - sum(n for n, r in zip(natural, rigid, strict=True) if r)
    wrapping = [i for i, r in enumerate(rigid) if not r]
    if rest <= 0 or not wrapping:
        return [FRAME_WIDTH * n / sum(natural) for n in natural]
    widths = list(natural)
    floor = sum(minimum[i] for i in wrapping)
    if floor >= rest:
        for i in wrapping:
            widths[i] = rest * minimum[i] / floor
        return widths
    extra = sum(natural[i] - minimum[i] for i in wrapping)
    for i in wrapping:
        widths[i] = minimum[i] + (rest - floor) * (natural[i] - minimum[i]) / extra
    return widths


def _table(block: Table) -> list[Flowable]:
    styles = _styles()
    cell_style = {"left": "cell", "right": "cell_right", "center": "cell_center"}
    head_style = {"left": "cell_head", "right": "cell_head_right", "center": "cell_head_center"}
    head = [
        RLParagraph(_text(c), styles[head_style[block.alignment(i)]]) for i, c in enumerate(block.columns)
    ]
    measured = [[_text_width(cell) for cell in row] for row in block.rows]
    widths = _column_widths(block, measured)
    room = [w - 2 * CELL_PADDING for w in widths]

    def cell(value: str, width: float, column: int) -> str | RLParagraph:
        # A plain string is drawn directly and costs a fraction of a paragraph (a 30-page report has
        # thousands of cells); only text that must wrap, or a digest set in the mono face, needs one.
        # ``width`` is the widest line, so "value\n[interval]" cells whose lines fit stay plain strings.
        if width <= room[column] and not _HEX_DIGEST.match(value):
            return value
        return _para(value, cell_style[block.alignment(column)])

    body = [
        [cell(value, width, i) for i, (value, width) in enumerate(zip(row, widths_row, strict=True))]
        for row, widths_row in zip(block.rows, measured, strict=True)
    ]
    aligns = [
        ("ALIGN", (i, 1), (i, -1), block.alignment(i).upper())
        for i in range(len(block.columns))
        if block.alignment(i) != "left"
    ]
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEABOVE", (0, 0), (-1, 0), 0.75, INK),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 0.75, INK),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("FONT", (0, 1), (-1, -1), FONT, CELL_SIZE, CELL_LEADING),
        *aligns,
    ]
    if len(body) > 3:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA_FILL]))
    table = LongTable(
        [head, *body],
        colWidths=widths,
        repeatRows=1,
        splitInRow=_has_long_text(value for row in block.rows for value in row),
        style=_table_style(commands),
        hAlign="LEFT",
    )
    parts: list[Flowable] = []
    if block.caption:
        # Room for the caption and a few rows, or start on the next page; the table itself may split.
        parts += [CondPageBreak(CAPTION_ROOM), RLParagraph(_text(block.caption), styles["caption"])]
    parts.append(table)
    if block.note:
        parts.append(RLParagraph(_text(block.note), styles["note"]))
    if not block.rows:
        parts.append(RLParagraph("(no rows)", styles["note"]))
    return [*parts, Spacer(1, 6)]


_CALLOUT_LOOK: dict[Status, tuple[float, Any, tuple[float, float] | None]] = {
    # border width, fill, dash: different in shape as well as shade, so greyscale print keeps them apart
    Status.PASS: (0.75, colors.white, None),
    Status.FAIL: (2.0, colors.Color(0.85, 0.85, 0.85), None),
    Status.WAIVED: (1.0, colors.Color(0.94, 0.94, 0.94), (4, 2)),
    Status.INSUFFICIENT: (1.0, colors.white, (1, 2)),
    Status.NOT_RUN: (0.5, colors.Color(0.94, 0.94, 0.94), (1, 2)),
    Status.NOT_AVAILABLE: (0.5, colors.white, (3, 3)),
    Status.INFO: (0.5, colors.white, None),
}


def _callout(block: Callout) -> Flowable:
    styles = _styles()
    width, fill, dash = _CALLOUT_LOOK[block.status]
    label = RLParagraph(f"<b>{_text(block.status.label)}</b>", styles["callout"])
    label_width = pdfmetrics.stringWidth(block.status.label, FONT_BOLD, 9) + 14
    text = RLParagraph(_text(block.text), styles["callout"])
    box = (
        ("BOX", (0, 0), (-1, -1), width, INK, None, list(dash))
        if dash
        else ("BOX", (0, 0), (-1, -1), width, INK)
    )
    return RLTable(
        [[label, text]],
        colWidths=[label_width, FRAME_WIDTH - label_width],
        splitInRow=_has_long_text([block.text]),
        style=_table_style(
            [
                box,
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        ),
        hAlign="LEFT",
    )


# ---------------------------------------------------------------------------------------------- charts


def _format(pattern: str, value: float | None) -> str:
    return "n/a" if value is None else pattern.format(value)


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _label_width(labels: Sequence[str], font: str, size: float, cap: float) -> float:
    return min(max((pdfmetrics.stringWidth(label, font, size) for label in labels), default=0.0) + 6, cap)


def _fit(label: str, font: str, size: float, width: float) -> str:
    """Shorten a label with an ellipsis so it fits ``width`` points."""
    if pdfmetrics.stringWidth(label, font, size) <= width:
        return label
    while label and pdfmetrics.stringWidth(label + "…", font, size) > width:
        label = label[:-1]
    return label + "…"


def _bar_chart(chart: BarChart) -> Drawing:
    """Horizontal bars (long group names stay readable), whiskers for intervals, dashed reference line."""
    row, bar, font_size = BAR_ROW, 9.0, 8.0
    title_h, axis_h = 18.0, 30.0
    n = len(chart.categories)
    height = title_h + n * row + axis_h
    drawing = Drawing(FRAME_WIDTH, height, initialFontName=FONT, initialFontSize=7)
    highlight = chart.highlight or (False,) * n
    low = chart.error_low or (None,) * n
    high = chart.error_high or (None,) * n
    tones = chart.tones or ("",) * n

    def value_text(i: int) -> str:
        text = _format(chart.value_format, chart.values[i])
        if low[i] is not None and high[i] is not None:
            text += f" [{_format(chart.value_format, low[i])}, {_format(chart.value_format, high[i])}]"
        return text + (" *" if highlight[i] else "")

    values_text = [value_text(i) for i in range(n)]
    label_w = _label_width(chart.categories, FONT, font_size, FRAME_WIDTH * 0.32)
    value_w = _label_width(values_text, FONT, font_size, FRAME_WIDTH * 0.3) + 4
    x0, x1 = label_w, FRAME_WIDTH - value_w
    numbers = [v for v in (*chart.values, *low, *high) if v is not None]
    if chart.reference is not None:
        numbers.append(chart.reference)
    lo = min(0.0, *numbers) if numbers else 0.0
    hi = chart.axis_max if chart.axis_max is not None else (max(numbers) * 1.05 if numbers else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    ticks = _ticks(lo, hi)
    hi = max(hi, ticks[-1])

    def x_of(value: float) -> float:
        return x0 + (min(max(value, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    drawing.add(String(0, height - 11, chart.title, fontName=FONT_BOLD, fontSize=8.5))
    plot_top, plot_bottom = height - title_h, axis_h
    for tick in ticks:
        x = x_of(tick)
        drawing.add(Line(x, plot_bottom, x, plot_top, strokeColor=ZEBRA_FILL.clone(), strokeWidth=0.5))
        drawing.add(Line(x, plot_bottom, x, plot_bottom - 3, strokeColor=INK, strokeWidth=0.5))
        drawing.add(String(x, plot_bottom - 11, f"{tick:g}", fontName=FONT, fontSize=7, textAnchor="middle"))
    drawing.add(Line(x0, plot_bottom, x1, plot_bottom, strokeColor=INK, strokeWidth=0.5))
    drawing.add(Line(x_of(0.0), plot_bottom, x_of(0.0), plot_top, strokeColor=INK, strokeWidth=0.5))
    drawing.add(String((x0 + x1) / 2, 2, chart.axis_label, fontName=FONT, fontSize=7.5, textAnchor="middle"))
    for i, category in enumerate(chart.categories):
        centre = plot_top - (i + 0.5) * row
        drawing.add(
            String(
                label_w - 4,
                centre - 2.5,
                _fit(category, FONT, font_size, label_w - 6),
                fontName=FONT,
                fontSize=font_size,
                textAnchor="end",
            )
        )
        value = chart.values[i]
        if value is not None:
            left, right = sorted((x_of(0.0), x_of(value)))
            fill = _tone_colour(tones[i] or (Tone.ALERT if highlight[i] else Tone.JUDGED))
            drawing.add(
                Rect(
                    left,
                    centre - bar / 2,
                    right - left,
                    bar,
                    fillColor=fill,
                    strokeColor=INK,
                    strokeWidth=0.4,
                )
            )
        if low[i] is not None and high[i] is not None:
            a, b = x_of(low[i]), x_of(high[i])
            whisker = ((a, centre, b, centre), (a, centre - 3, a, centre + 3), (b, centre - 3, b, centre + 3))
            # A white halo under the whisker keeps it visible where it crosses a dark bar.
            for colour, width in ((colors.white, 2.2), (INK, 0.8)):
                for segment in whisker:
                    drawing.add(Line(*segment, strokeColor=colour, strokeWidth=width))
        drawing.add(
            String(
                x1 + 4,
                centre - 2.5,
                values_text[i],
                fontName=FONT_BOLD if highlight[i] else FONT,
                fontSize=font_size,
            )
        )
    if chart.reference is not None:
        x = x_of(chart.reference)
        # The line a bar is judged against, in the colour of the bars that fall past it (as in the app).
        drawing.add(
            Line(
                x,
                plot_bottom,
                x,
                plot_top + 2,
                strokeColor=_tone_colour(Tone.ALERT),
                strokeWidth=1.0,
                strokeDashArray=[4, 2],
            )
        )
        label = chart.reference_label or f"reference {chart.reference:g}"
        drawing.add(String(x, plot_top + 4, label, fontName=FONT, fontSize=7, textAnchor="middle"))
    if any(highlight) and chart.highlight_label:
        drawing.add(
            String(
                FRAME_WIDTH,
                height - 11,
                f"* {chart.highlight_label}",
                fontName=FONT,
                fontSize=7,
                textAnchor="end",
            )
        )
    return drawing


def _tone_colour(tone: str) -> colors.Color:
    """The app's colour of a meaning (``domain.palette``), so a red bar means here what it means there."""
    return colors.Color(*rgb(palette.colour(tone)))


# Sequential palette whose lightness falls monotonically, so order survives greyscale printing.
_PALETTE = [rgb(c) for c in palette.SEQUENTIAL]


def _palette(t: float) -> tuple[colors.Color, colors.Color]:
    """Fill colour for a position 0..1 and the ink (black or white) that stays legible on it."""
    t = min(max(t, 0.0), 1.0) * (len(_PALETTE) - 1)
    i = min(int(t), len(_PALETTE) - 2)
    f = t - i
    rgb = [a + (b - a) * f for a, b in zip(_PALETTE[i], _PALETTE[i + 1], strict=True)]
    luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return colors.Color(*rgb), (colors.white if luminance < 0.5 else INK)


def _heat_map(chart: HeatMap) -> Drawing:
    font_size = 8.0
    cell_h = HEAT_ROW
    rows, columns = len(chart.row_labels), len(chart.column_labels)
    label_w = _label_width(chart.row_labels, FONT, font_size, FRAME_WIDTH * 0.3)
    cell_w = min((FRAME_WIDTH - label_w) / max(columns, 1), 70.0)
    widest_column = max(
        (pdfmetrics.stringWidth(c, FONT, font_size) for c in chart.column_labels), default=0.0
    )
    rotate = widest_column > cell_w - 4
    column_label_h = min(widest_column * 0.71 + 8, 90.0) if rotate else 12.0
    title_h, legend_h = 18.0, 26.0
    height = title_h + column_label_h + rows * cell_h + legend_h
    drawing = Drawing(FRAME_WIDTH, height, initialFontName=FONT, initialFontSize=7)
    drawing.add(String(0, height - 11, chart.title, fontName=FONT_BOLD, fontSize=8.5))
    numbers = [v for row in chart.values for v in row if v is not None]
    if chart.value_range is not None:
        lo, hi = chart.value_range
    else:
        lo, hi = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    span = (hi - lo) or 1.0
    grid_top = height - title_h - column_label_h
    for j, label in enumerate(chart.column_labels):
        x = label_w + (j + 0.5) * cell_w
        if rotate:
            group = Group(
                String(0, 0, _fit(label, FONT, font_size, 120), fontName=FONT, fontSize=font_size),
                transform=(0.7071, 0.7071, -0.7071, 0.7071, x - 2, grid_top + 4),
            )
            drawing.add(group)
        else:
            drawing.add(
                String(x, grid_top + 4, label, fontName=FONT, fontSize=font_size, textAnchor="middle")
            )
    for i, label in enumerate(chart.row_labels):
        y = grid_top - (i + 1) * cell_h
        drawing.add(
            String(
                label_w - 4,
                y + cell_h / 2 - 2.5,
                _fit(label, FONT, font_size, label_w - 6),
                fontName=FONT,
                fontSize=font_size,
                textAnchor="end",
            )
        )
        for j, value in enumerate(chart.values[i]):
            x = label_w + j * cell_w
            if value is None:
                drawing.add(
                    Rect(x, y, cell_w, cell_h, fillColor=colors.white, strokeColor=RULE, strokeWidth=0.4)
                )
                ink = MUTED
            else:
                fill, ink = _palette((value - lo) / span)
                drawing.add(
                    Rect(x, y, cell_w, cell_h, fillColor=fill, strokeColor=colors.white, strokeWidth=0.6)
                )
            text = _fit(_format(chart.value_format, value), FONT, font_size, cell_w - 2)
            drawing.add(
                String(
                    x + cell_w / 2,
                    y + cell_h / 2 - 2.5,
                    text,
                    fontName=FONT,
                    fontSize=font_size,
                    fillColor=ink,
                    textAnchor="middle",
                )
            )
    # Legend: the scale from lowest to highest value, with its ends printed.
    steps, legend_w = 24, min(160.0, columns * cell_w)
    for k in range(steps):
        fill, _ = _palette(k / (steps - 1))
        drawing.add(
            Rect(
                label_w + k * legend_w / steps,
                12,
                legend_w / steps + 0.2,
                6,
                fillColor=fill,
                strokeColor=None,
            )
        )
    drawing.add(Rect(label_w, 12, legend_w, 6, fillColor=None, strokeColor=RULE, strokeWidth=0.4))
    drawing.add(String(label_w, 3, _format(chart.value_format, lo), fontName=FONT, fontSize=6.5))
    drawing.add(
        String(
            label_w + legend_w,
            3,
            _format(chart.value_format, hi),
            fontName=FONT,
            fontSize=6.5,
            textAnchor="end",
        )
    )
    axis = " × ".join(a for a in (chart.row_axis_label, chart.column_axis_label) if a)
    if axis:
        drawing.add(String(label_w + legend_w + 10, 12, axis, fontName=FONT, fontSize=7))
    return drawing
