"""The review badge a model version wears in the registry tree and on the Review page.

One version may have had several reviews; its badge comes from the newest one that was not
superseded. A review whose signatures no longer cover the evidence as it is now reads "stale", whatever
its state said, because what was signed is no longer what would be shown. Text and colour always go
together, so the badge never relies on colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from signoff.domain.decision import DONE_STATUSES, Verdict
from signoff.domain.evidence_bundle import ReviewStatus
from signoff.domain.palette import COLOURS, Tone
from signoff.domain.review import ReviewState


@dataclass(frozen=True)
class Badge:
    key: str  # stable name for tests and filters: "none", "draft", "in_review", "approved", ...
    text: str
    colour: str  # "#rrggbb", readable as text on light and dark backgrounds

    def icon(self) -> QIcon:
        return _dot(self.colour)


# Audit actions after which a review's badge may differ: the review itself, or evidence in its bundle.
BADGE_ACTIONS = ("review.", "analysis.", "log.", "policy.", "model.", "registry.", "condition.")

NO_REVIEW = Badge("none", "not reviewed", "#7f8c8d")
STALE = Badge("stale", "stale", "#d35400")
BY_STATE = {
    ReviewState.DRAFT: Badge("draft", "draft review", "#5d6d7e"),
    ReviewState.IN_REVIEW: Badge("in_review", "in review", "#2471a3"),
    ReviewState.APPROVED: Badge("approved", "approved", COLOURS[Tone.GOOD]),
    ReviewState.APPROVED_WITH_CONDITIONS: Badge(
        "approved_with_conditions", "approved with conditions", "#239b56"
    ),
    ReviewState.REJECTED: Badge("rejected", "rejected", COLOURS[Tone.ALERT]),
    ReviewState.REVOKED: Badge("revoked", "approval revoked", "#922b21"),
    ReviewState.SUPERSEDED: Badge("superseded", "superseded", "#7f8c8d"),
}


AMBER, RED = COLOURS[Tone.WARNING], COLOURS[Tone.ALERT]
FAILING = Badge("failing", "failing policy", RED)


def review_badge(status: ReviewStatus, today: date | None = None) -> Badge:
    """One review's badge: what a risk officer needs at a glance.

    Approved (green); approved with N open conditions (amber, with the next due date; red when one is
    overdue); rejected, revoked or an open review whose policy verdict fails (red); in review; draft;
    "stale" when a signature no longer covers the evidence.
    """
    review = status.review
    if review.is_stale and review.state not in (ReviewState.REVOKED, ReviewState.SUPERSEDED):
        return STALE
    if review.state in (ReviewState.DRAFT, ReviewState.IN_REVIEW) and status.verdict.verdict is Verdict.FAIL:
        return Badge(FAILING.key, f"{FAILING.text} ({BY_STATE[review.state].text})", FAILING.colour)
    if review.state is ReviewState.APPROVED_WITH_CONDITIONS:
        today = today or datetime.now(UTC).date()
        open_ = sorted(
            (c for c in status.conditions if c.status not in DONE_STATUSES), key=lambda c: c.terms.due
        )
        if open_:
            overdue = [c for c in open_ if c.is_overdue(today)]
            text = f"approved with {len(open_)} open condition{'s' if len(open_) > 1 else ''}"
            if overdue:
                return Badge(
                    "approved_with_conditions",
                    f"{text}, OVERDUE since {overdue[0].terms.due.isoformat()}",
                    RED,
                )
            return Badge(
                "approved_with_conditions", f"{text}, next due {open_[0].terms.due.isoformat()}", AMBER
            )
    return BY_STATE[review.state]


def version_badges(statuses: Iterable[ReviewStatus]) -> dict[int, Badge]:
    """Model version id -> its badge, from each version's current review (``reviews.current_reviews``
    picks the newest that was not superseded)."""
    return {status.review.model_version_id: review_badge(status) for status in statuses}


_icons: dict[str, QIcon] = {}


def _dot(colour: str) -> QIcon:
    """A filled circle of ``colour`` (cached; drawn at 2x so it stays sharp on high-DPI screens)."""
    if colour not in _icons:
        pixmap = QPixmap(32, 32)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(4, 4, 24, 24)
        painter.end()
        _icons[colour] = QIcon(pixmap)
    return _icons[colour]
