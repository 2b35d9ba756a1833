"""Progress and cancellation for long analyses, without knowing who is watching.

An analysis takes ``progress(fraction)`` and ``cancelled() -> bool`` callables (a UI worker, the CLI, or
nothing) and checks them between stages; a cancelled analysis raises ``AnalysisCancelled``.
"""

from __future__ import annotations

from collections.abc import Callable


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
