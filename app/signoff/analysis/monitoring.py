"""Positive-rate monitoring: the selection rate per day, week or month against a p-chart band.

The band for a window of n rows is the overall rate p ± k·sqrt(p(1-p)/n) (k = 3 by default, clipped
to [0, 1]); a window whose rate falls outside its band is flagged. Weeks start on Monday (ISO), and
timestamps are taken in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import signoff
from signoff.analysis.counted import split
from signoff.analysis.progress import Stages, counted_analysis
from signoff.domain.analysis_requests import MonitoringRequest
from signoff.domain.errors import InputError
from signoff.domain.fairness import MonitoringResult, MonitoringWindow

if TYPE_CHECKING:  # a log's rows are pandas; the count tables' half of this module runs without it
    import pandas as pd

FREQUENCIES = ("day", "week", "month")


def _window_starts(stamps: pd.Series, frequency: str, column: str) -> np.ndarray:
    import pandas as pd

    try:
        ts = pd.to_datetime(stamps, utc=True, errors="raise")
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read timestamps: {exc}", column=column) from exc
    missing = ts.isna().to_numpy()
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise InputError(f"{int(missing.sum())} rows have no timestamp", row=first + 1, column=column)
    days = ts.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    if frequency == "day":
        return days
    if frequency == "week":
        n = days.astype(np.int64)
        # 1970-01-01 was a Thursday: (n + 3) % 7 is the number of days since Monday.
        return (n - (n + 3) % 7).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype("datetime64[D]")


@dataclass(frozen=True)
class MonitoringCounts:
    """What every number of a monitoring result is derived from: rows and selected rows per window."""

    windows: tuple[str, ...]  # each window's first day, ISO
    counts: np.ndarray
    positives: np.ndarray
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": list(self.windows),
            "counts": self.counts.tolist(),
            "positives": self.positives.tolist(),
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitoringCounts:
        return cls(
            tuple(map(str, data["windows"])),
            np.asarray(data["counts"], dtype=np.int64),
            np.asarray(data["positives"], dtype=np.int64),
            dict(data["params"]),
        )


def count_monitoring(
    frame: pd.DataFrame,
    *,
    timestamp: str,
    prediction: str,
    positive_label: Any = None,
    frequency: str = "week",
    sigmas: float = 3.0,
    stages: Stages | None = None,
) -> MonitoringCounts:
    """Count the rows and the selected rows of each window (see ``run_monitoring``)."""
    from signoff.analysis.inputs import (
        as_frame,
        display,
        outcome_domain,
        require_columns,
        resolve_positive_label,
    )

    stages = stages or Stages(None, None)
    frame, counted = split(frame)
    frame = as_frame(frame)
    rows = None if counted is None else counted.rows
    if frequency not in FREQUENCIES:
        raise InputError(f"frequency must be one of {list(FREQUENCIES)}, got {frequency!r}")
    if sigmas <= 0:
        raise InputError(f"sigmas must be positive, got {sigmas}")
    require_columns(frame, timestamp, prediction)
    positive = resolve_positive_label(outcome_domain(frame, prediction), positive_label)
    selected = (frame[prediction] == positive).to_numpy(dtype=bool)
    starts = _window_starts(frame[timestamp], frequency, timestamp)
    stages.reached(0.5)
    windows, inverse = np.unique(starts, return_inverse=True)
    if rows is None:
        counts = np.bincount(inverse, minlength=len(windows))
        positives = np.bincount(inverse, weights=selected, minlength=len(windows)).astype(np.int64)
    else:
        counts = np.rint(np.bincount(inverse, weights=rows, minlength=len(windows))).astype(np.int64)
        positives = np.rint(np.bincount(inverse, weights=selected * rows, minlength=len(windows)))
        positives = positives.astype(np.int64)
    params = {
        "timestamp": timestamp,
        "prediction": prediction,
        "positive_label": display(positive),
        "frequency": frequency,
        "sigmas": sigmas,
    }
    return MonitoringCounts(
        tuple(str(start) for start in windows), counts.astype(np.int64), positives, params
    )


def monitoring_from_counts(counts: MonitoringCounts, stages: Stages | None = None) -> MonitoringResult:
    """The p-chart of the selection rate from the windows' counts (no rows, no pandas)."""
    stages = stages or Stages(None, None)
    sigmas = float(counts.params["sigmas"])
    total = int(counts.counts.sum())
    overall = counts.positives.sum() / total if total else float("nan")
    out = []
    for start, n, k in zip(counts.windows, counts.counts, counts.positives, strict=True):
        rate = k / n
        half = sigmas * np.sqrt(overall * (1 - overall) / n)
        lower, upper = max(0.0, overall - half), min(1.0, overall + half)
        out.append(
            MonitoringWindow(
                start=start,
                count=int(n),
                positives=int(k),
                rate=float(rate),
                lower=float(lower),
                upper=float(upper),
                flagged=bool(rate < lower or rate > upper),
            )
        )
    stages.reached(1.0)
    return MonitoringResult(
        params=counts.params,
        frequency=str(counts.params["frequency"]),
        overall_rate=float(overall) if total else None,
        sigmas=sigmas,
        windows=tuple(out),
        engine_version=signoff.__version__,
    )


def run_monitoring(
    frame: pd.DataFrame,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **parameters: Any,
) -> MonitoringResult:
    """The selection rate per window with 3-sigma p-chart limits; ``parameters`` are ``count_monitoring``'s."""
    stages = Stages(progress, cancelled)
    return monitoring_from_counts(count_monitoring(frame, stages=stages, **parameters), stages)


def request_counts(
    request: MonitoringRequest, frames: Mapping[str, pd.DataFrame], stages: Stages | None = None
) -> MonitoringCounts:
    """``count_monitoring`` on the request's log (``frames["log"]``), with the request's parameters."""
    return count_monitoring(
        frames["log"],
        timestamp=request.timestamp,
        prediction=request.log.mapping.prediction,
        positive_label=request.positive_label,
        frequency=request.frequency,
        sigmas=request.sigmas,
        stages=stages,
    )


# The monitoring of the request's log (``frames["log"]``), with the request's parameters.
analyze = counted_analysis(request_counts, monitoring_from_counts)
