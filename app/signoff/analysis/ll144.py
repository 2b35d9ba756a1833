"""Scoring rates for NYC Local Law 144 bias audits of tools that score rather than select.

The law's rules (6 RCNY 5-300) define a category's *scoring rate* as the share of its individuals who
received a score above the median score of the whole sample, and its impact ratio as that rate divided
by the highest category's. Categories under ``excluded_share`` of the sample may be left out of the
ratios (their counts are still reported); missing values form the Unknown category, which is counted
but never rated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ENGINE = "signoff.analysis.ll144 1"
UNKNOWN = "Unknown"
INTERSECTION_SEPARATOR = " & "


def scoring_rates(
    frame: pd.DataFrame, *, score: str, sex: str, race: str, excluded_share: float = 0.02
) -> dict[str, Any]:
    """Scoring rates and impact ratios by sex, by race/ethnicity and by their intersection (JSON-safe)."""
    scores = pd.to_numeric(frame[score], errors="coerce")
    rated = scores.notna()
    median = float(np.median(scores[rated])) if rated.any() else None
    above = (scores > median) if median is not None else pd.Series(False, index=frame.index)
    labels = {column: frame[column].astype("string").fillna(UNKNOWN) for column in (sex, race)}
    crossed = labels[sex].str.cat(labels[race], sep=INTERSECTION_SEPARATOR)
    unknown_crossed = (labels[sex] == UNKNOWN) | (labels[race] == UNKNOWN)
    n = int(rated.sum())
    tables = []
    for attributes, groups, unknown in (
        ((sex,), labels[sex], labels[sex] == UNKNOWN),
        ((race,), labels[race], labels[race] == UNKNOWN),
        ((sex, race), crossed, unknown_crossed),
    ):
        counts = groups[rated].value_counts()
        scored = groups[rated & above].value_counts().reindex(counts.index, fill_value=0)
        unknown_labels = set(groups[unknown].unique())
        rows = []
        for label in sorted(counts.index):
            count = int(counts[label])
            rows.append(
                {
                    "group": str(label),
                    "count": count,
                    "rate": float(scored[label] / count),
                    "unknown": label in unknown_labels,
                    "excluded": label not in unknown_labels and count / n < excluded_share,
                }
            )
        rated_rows = [r for r in rows if not r["unknown"] and not r["excluded"]]
        highest = max((r["rate"] for r in rated_rows), default=0.0)
        for row in rows:
            rateable = row in rated_rows and highest > 0
            row["impact_ratio"] = row["rate"] / highest if rateable else None
        tables.append(
            {
                "attributes": list(attributes),
                "unknown_count": int(unknown[rated].sum()),
                "rows": rows,
            }
        )
    return {"kind": "ll144_scoring", "score": score, "median": median, "rows": n, "tables": tables}
