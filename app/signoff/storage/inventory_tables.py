"""The model inventory of record's table.

Part of the schema (``schema.py``), imported by the inventory repository only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from signoff.storage.schema import Base, CanonicalJSON, UTCDateTime


class InventoryRecordRow(Base):
    """A model's inventory record (``version`` empty) or one version's differences from it.

    ``revision`` grows by one on every change: an UPDATE names the revision it read. ``risk`` holds the
    latest tier assessment (rubric answers, their evidence hash) and any approver's override.
    """

    __tablename__ = "inventory_record"
    __table_args__ = (UniqueConstraint("model_name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100))  # "" is the model's own record
    values: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    stage_history: Mapped[list[dict[str, Any]]] = mapped_column(CanonicalJSON)
    risk: Mapped[dict[str, Any] | None] = mapped_column(CanonicalJSON)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
