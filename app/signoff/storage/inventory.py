"""The inventory repository: models' and versions' inventory records, and what the calendar needs.

Every change names the ``revision`` it read (``UPDATE ... WHERE id = ? AND revision = ?``), so two people
editing the same record cannot overwrite each other unseen. The listing queries read every model at once
(a handful of queries whatever the number of models), for the inventory list and the portfolio.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from signoff.domain.canonical import canonical_json
from signoff.domain.decision import DONE_STATUSES
from signoff.domain.errors import ConflictError
from signoff.domain.inventory import InventoryRecord, OpenCondition, StageChange
from signoff.storage import guards
from signoff.storage.inventory_tables import InventoryRecordRow
from signoff.storage.review_tables import ConditionRow, FindingRow, ReviewRow
from signoff.storage.schema import AnalysisRunRow, ModelVersionRow

_records = InventoryRecordRow.__table__
_versions = ModelVersionRow.__table__
_reviews = ReviewRow.__table__
_runs = AnalysisRunRow.__table__
_findings = FindingRow.__table__
_conditions = ConditionRow.__table__
APPROVED_STATES = ("approved", "approved_with_conditions")


class InventoryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(
        self, model: str, version: str | None = None, *, for_update: bool = False
    ) -> InventoryRecord | None:
        statement = select(_records).where(
            _records.c.model_name == model, _records.c.version == (version or "")
        )
        if for_update and guards.guarded(self._session):
            guards.lock(self._session, "inventory_record", model, version or "")
        elif for_update:
            statement = statement.with_for_update()
        row = self._session.execute(statement).mappings().first()
        return None if row is None else _record(row)

    def records_of(self, model: str) -> list[InventoryRecord]:
        """The model's record first (when it has one), then its versions' records by version."""
        statement = select(_records).where(_records.c.model_name == model).order_by(_records.c.version)
        return [_record(row) for row in self._session.execute(statement).mappings()]

    def all_records(self) -> list[InventoryRecord]:
        statement = select(_records).order_by(_records.c.model_name, _records.c.version)
        return [_record(row) for row in self._session.execute(statement).mappings()]

    def save(self, record: InventoryRecord, *, at: datetime, by: str) -> InventoryRecord:
        """Insert (``record.revision`` 0) or update the record if it is still at ``record.revision``."""
        values = {
            "values": dict(record.values),
            "stage_history": [s.to_dict() for s in record.stage_history],
            "risk": None if record.risk is None else dict(record.risk),
            "revision": record.revision + 1,
            "updated_at": at,
            "updated_by": by,
        }
        key = (_records.c.model_name == record.model, _records.c.version == (record.version or ""))
        if record.revision == 0:
            self._session.execute(
                insert(_records).values(model_name=record.model, version=record.version or "", **values)
            )
        else:
            if guards.guarded(self._session):
                changed = guards.call(
                    self._session,
                    "signoff_update_inventory_record",
                    record.model,
                    record.version or "",
                    record.revision,
                    *(_json(values[c]) for c in ("values", "stage_history", "risk")),
                    at,
                    by,
                )
            else:
                changed = self._session.execute(
                    update(_records).where(*key, _records.c.revision == record.revision).values(**values)
                ).rowcount
            if changed != 1:
                raise ConflictError(
                    f"the inventory record of {_label(record)} was changed by someone else; nothing was "
                    "stored. Reload it and retry."
                )
        stored = self.get(record.model, record.version)
        assert stored is not None
        return stored

    def model_names(self) -> dict[str, list[tuple[int, str]]]:
        """Every registered model's versions as (id, version), oldest first."""
        found: dict[str, list[tuple[int, str]]] = {}
        statement = select(_versions.c.name, _versions.c.id, _versions.c.version).order_by(_versions.c.id)
        for name, version_id, version in self._session.execute(statement):
            found.setdefault(name, []).append((version_id, version))
        return found

    def last_approvals(self, model: str | None = None) -> dict[str, datetime]:
        """When each model's latest approval (of any of its versions) was decided."""
        statement = (
            select(_versions.c.name, func.max(_reviews.c.decided_at))
            .join(_reviews, _reviews.c.model_version_id == _versions.c.id)
            .where(_reviews.c.state.in_(APPROVED_STATES), _reviews.c.decided_at.is_not(None))
            .group_by(_versions.c.name)
        )
        if model is not None:
            statement = statement.where(_versions.c.name == model)
        # MAX() keeps the column's type, so times come back timezone-aware on both engines.
        return {name: decided for name, decided in self._session.execute(statement)}

    def open_conditions(self, model: str | None = None) -> list[OpenCondition]:
        """Every condition not yet closed (or of one model), soonest due first: one query for all models.

        The review calendar needs each one's owner and due date, so they are listed rather than counted;
        per-version counts follow from the list.
        """
        statement = (
            select(
                _conditions.c.id,
                _versions.c.name,
                _versions.c.version,
                _conditions.c.text,
                _conditions.c.owner,
                _conditions.c.due,
                _conditions.c.status,
            )
            .join(_reviews, _reviews.c.id == _conditions.c.review_id)
            .join(_versions, _versions.c.id == _reviews.c.model_version_id)
            .where(_conditions.c.status.not_in(sorted(s.value for s in DONE_STATUSES)))
            .order_by(_conditions.c.due, _conditions.c.id)
        )
        if model is not None:
            statement = statement.where(_versions.c.name == model)
        return [OpenCondition(*row) for row in self._session.execute(statement)]

    def current_version_states(self) -> dict[int, dict[str, Any]]:
        """For each model's current (newest) version: its newest policy verdict, its newest review that
        was not superseded (state) and that review's open findings, by model version id.

        Three set-based queries, whatever the number of models (the portfolio of 5,000 models); only the
        current versions' policy results are read.
        """
        current = select(func.max(_versions.c.id)).group_by(_versions.c.name).scalar_subquery()
        newest_policy = (
            select(func.max(_runs.c.id))
            .where(_runs.c.kind == "policy")
            .group_by(_runs.c.model_version_id)
            .scalar_subquery()
        )
        newest_review = (
            select(func.max(_reviews.c.id))
            .where(_reviews.c.state != "superseded")
            .group_by(_reviews.c.model_version_id)
            .scalar_subquery()
        )
        found: dict[int, dict[str, Any]] = {}
        for version_id, result in self._session.execute(
            select(_runs.c.model_version_id, _runs.c.result).where(
                _runs.c.id.in_(newest_policy), _runs.c.model_version_id.in_(current)
            )
        ):
            found.setdefault(version_id, {})["verdict"] = result.get("status")
        review_versions: dict[int, int] = {}
        for review_id, version_id, state in self._session.execute(
            select(_reviews.c.id, _reviews.c.model_version_id, _reviews.c.state).where(
                _reviews.c.id.in_(newest_review), _reviews.c.model_version_id.in_(current)
            )
        ):
            found.setdefault(version_id, {})["review_state"] = state
            review_versions[review_id] = version_id
        # Counted for every review and picked here: joined, a planner without statistics yet (a freshly
        # filled PostgreSQL table) looped over the findings once per review, 3 s at 5,000 reviews.
        for review_id, count in self._session.execute(
            select(_findings.c.review_id, func.count())
            .where(_findings.c.status == "open")
            .group_by(_findings.c.review_id)
        ):
            if review_id in review_versions:
                found[review_versions[review_id]]["open_findings"] = int(count)
        return found


def _label(record: InventoryRecord) -> str:
    return record.model if record.version is None else f"{record.model} v{record.version}"


def _record(row: Any) -> InventoryRecord:
    return InventoryRecord(
        model=row["model_name"],
        version=row["version"] or None,
        values=dict(row["values"]),
        stage_history=tuple(StageChange(**s) for s in row["stage_history"]),
        revision=row["revision"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        risk=row["risk"],
    )


def _json(value: Any) -> str | None:
    """A value as its ``CanonicalJSON`` column stores it, for a guard function's text parameter."""
    return None if value is None else canonical_json(value).decode("utf-8")
