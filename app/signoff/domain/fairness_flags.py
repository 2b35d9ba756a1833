"""The flags of a fairness group, decided in one place for the page, the command line and the PDF.

A group may be the *reference* of the signed comparisons (p-values, AIF360 differences), the group
the impact ratios divide by (*highest selection rate*, NYC LL144 / EEOC), *below four-fifths*, too
small to judge, the explicit *Unknown* group, or *excluded* from the impact ratio (and then the flag
says why). Every front end shows ``group_flags``' answer, so a bar painted red always has its flag.
"""

from __future__ import annotations

from signoff.domain.analysis_requests import DEFAULT_MIN_GROUP_SHARE
from signoff.domain.fairness import SegmentResult

FOUR_FIFTHS = 0.8

REFERENCE = "reference"
HIGHEST_RATE = "highest selection rate (impact ratio base)"
BELOW_FOUR_FIFTHS = "below four-fifths"
INSUFFICIENT = "insufficient data"
UNKNOWN = "unknown value"
EXCLUDED_UNKNOWN = "excluded: unknown value"


def excluded_small(share: float) -> str:
    return f"excluded: under {share:.0%} of rows"


def group_flags(
    segment: SegmentResult, excluded_share: float = DEFAULT_MIN_GROUP_SHARE
) -> dict[str, tuple[str, ...]]:
    """Each group's flags, in a fixed order; a group without any has an empty tuple."""
    ratios = {r.group: r for r in segment.impact_ratios}
    base = impact_ratio_base(segment)
    out: dict[str, tuple[str, ...]] = {}
    for group in segment.groups:
        flags: list[str] = []
        ratio = ratios.get(group.group)
        if group.group == segment.reference:
            flags.append(REFERENCE)
        if group.group == base:
            flags.append(HIGHEST_RATE)
        judged = ratio is not None and not ratio.excluded and not group.insufficient
        if judged and ratio.impact_ratio is not None and ratio.impact_ratio < FOUR_FIFTHS:  # type: ignore[union-attr]
            flags.append(BELOW_FOUR_FIFTHS)
        if group.insufficient:
            flags.append(INSUFFICIENT)
        if ratio is not None and ratio.excluded:
            flags.append(EXCLUDED_UNKNOWN if group.unknown else excluded_small(excluded_share))
        elif group.unknown:
            flags.append(UNKNOWN)
        out[group.group] = tuple(flags)
    return out


def impact_ratio_base(segment: SegmentResult) -> str | None:
    """The group the impact ratios divide by: the included group with the highest selection rate."""
    included = [
        r for r in segment.impact_ratios if not r.excluded and r.selection_rate is not None and r.impact_ratio
    ]
    if not included:
        return None
    return max(included, key=lambda r: (r.selection_rate, -segment.impact_ratios.index(r))).group


def reference_note(segment: SegmentResult) -> str:
    """What "reference" means on this segment, said next to the chosen group."""
    base = impact_ratio_base(segment)
    chosen = segment.reference or "none large enough"
    text = f"Reference for p-values and signed differences: {chosen}."
    if base is not None:
        text += f" Impact ratios divide by the highest selection rate ({base}), as NYC LL144 and EEOC do."
    if segment.excluded:
        text += f" Excluded from the impact ratio: {', '.join(segment.excluded)}."
    return text
