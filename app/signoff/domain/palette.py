"""The colours that carry a meaning, in one table the app's pages and charts and the PDF's charts both read.

Red: past a line a policy judges (below four-fifths, drifted, failing, overdue); amber: a warning (moderate
drift, an open condition); green: within the line; blue: a value judged with no concern (darker: the
reference group); grey: too little data to judge. Colour only repeats what a word or a symbol already says.
"""

from __future__ import annotations

import enum


class Tone(enum.StrEnum):
    """What a coloured mark means; the report's charts name a bar's tone, the renderer looks up its colour."""

    ALERT = "alert"
    WARNING = "warning"
    GOOD = "good"
    JUDGED = "judged"
    REFERENCE = "reference"
    MUTED = "muted"


# Marks: bars, lines, badges and text, readable on white.
COLOURS: dict[Tone, str] = {
    Tone.ALERT: "#c0392b",
    Tone.WARNING: "#b9770e",
    Tone.GOOD: "#1e8449",
    Tone.JUDGED: "#1f77b4",
    Tone.REFERENCE: "#0b3d68",
    Tone.MUTED: "#b8b8b8",
}

# Light backgrounds of table rows, under dark text.
BACKGROUNDS: dict[Tone, str] = {
    Tone.ALERT: "#f9d5d5",
    Tone.WARNING: "#fcecc8",
    Tone.GOOD: "#d9f2de",
    Tone.MUTED: "#e8e8e8",
}

# Heat maps: ColorBrewer "Blues", lightness falling monotonically so that order survives greyscale print.
SEQUENTIAL = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)


def colour(tone: Tone | str) -> str:
    return COLOURS[Tone(tone)]


def rgb(hex_colour: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` as red, green, blue in 0..1 (what reportlab takes)."""
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)
