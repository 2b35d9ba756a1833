"""The data-validation analysis of a log: its import report and its column profiles, judged together.

The import report says what was refused on the way in (quarantined rows and why); the profiles say
what was kept. As observations: ``validation.rows`` and ``validation.quarantined_share`` (scope
``overall``) and ``validation.missing_share`` per column (scope = column name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from signoff.domain.codec import Record
from signoff.domain.observations import Observation
from signoff.domain.prediction_log import ValidationReport
from signoff.domain.profiles import LogProfile


@dataclass(frozen=True)
class ValidationAnalysis(Record):
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("quarantined_share",)
    report: ValidationReport
    profile: LogProfile

    @property
    def quarantined_share(self) -> float:
        return self.report.rows_quarantined / self.report.rows_read if self.report.rows_read else 0.0

    def observations(self) -> list[Observation]:
        rows = self.report.rows_read
        observed = [
            Observation("validation.rows", "overall", float(self.report.rows_kept), n=rows),
            Observation(
                "validation.quarantined_share",
                "overall",
                self.quarantined_share,
                n=rows,
                detail=f"{self.report.rows_quarantined} of {rows} rows quarantined at import",
            ),
        ]
        for column in self.profile.columns:
            observed.append(
                Observation(
                    "validation.missing_share",
                    column.name,
                    column.missing_share,
                    n=column.rows,
                    detail=f"{column.missing} of {column.rows} kept rows missing",
                )
            )
        return observed
