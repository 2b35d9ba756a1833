"""Registered models and their versions as Signoff keeps them.

A ``ModelVersion`` is the unit everything else hangs on: prediction logs, analyses and reviews are
all for one model version. The registry importers fill the optional fields; ``signoff models add``
creates a bare one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signoff.domain.codec import Record


@dataclass(frozen=True)
class ModelVersionRef:
    """A model version named by the user: registered model name and version string."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True)
class ModelVersion(Record):
    id: int
    name: str
    version: str
    description: str = ""
    source: str = "manual"  # "manual", "mlflow", "sagemaker", "model-card"
    created_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> ModelVersionRef:
        return ModelVersionRef(self.name, self.version)
