"""Progress and cancellation for long analyses, without knowing who is watching.

An analysis takes ``progress(fraction)`` and ``cancelled() -> bool`` callables (a UI worker, the CLI, or
nothing) and checks them between stages; a cancelled analysis raises ``AnalysisCancelled``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class AnalysisCancelled(Exception):
    """The caller asked the analysis to stop; nothing was produced."""


class Stages:
    def __init__(
        self, progress: Callable[[float], None] | None, cancelled: Callable[[], bool] | None
    ) -> None:
        self._progress = progress
        self._cancelled = cancelled

    def reached(self, fraction: float) -> None:
        """Report ``fraction`` done, then stop here if the caller has cancelled."""
        if self._progress is not None:
            self._progress(min(max(fraction, 0.0), 1.0))
        if self._cancelled is not None and self._cancelled():
            raise AnalysisCancelled()


def counted_analysis(
    count: Callable[[Any, Mapping[str, Any], Stages], Any], derive: Callable[[Any, Stages], Any]
) -> Callable[..., Any]:
    """The ``analyze(request, frames, *, progress, cancelled)`` of a kind whose every number comes from
    count tables: ``count(request, frames, stages)``, then ``derive(counts, stages)`` (the same two
    steps an exported report's verification takes, with the counts read from the report)."""

    def analyze(
        request: Any,
        frames: Mapping[str, Any],
        *,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Any:
        stages = Stages(progress, cancelled)
        return derive(count(request, frames, stages), stages)

    return analyze
