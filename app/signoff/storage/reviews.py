"""The review repositories: reviews with their chosen logs, findings and signatures; conditions and waivers.

Every change to a review names the ``version`` it read (``UPDATE ... WHERE id = ? AND version = ?``);
when someone else changed the review first, nothing is written and ``ConflictError`` says to reload.
Signatures are append-only; the database refuses UPDATE and DELETE on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from signoff.domain.decision import Condition, ConditionStatus, ConditionTerms
from signoff.domain.errors import ConflictError, NotFoundError
from signoff.domain.policy import Waiver
from signoff.domain.review import (
    Finding,
    FindingStatus,
    FindingType,
    Review,
    ReviewState,
    Revocation,
    Severity,
    Signature,
    SignatureMeaning,
    SignatureRequirement,
)
from signoff.domain.users import Role
from signoff.storage import guards
from signoff.storage.review_tables import (
    ConditionRow,
    FindingRow,
    ReviewLogRow,
    ReviewRow,
    SignatureRow,
    WaiverRow,
)

CHANGED_BY_SOMEONE_ELSE = (
    "review {review_id} was changed by someone else (version {expected} is now {current}); "
    "nothing was stored. Reload it and retry."
)

_reviews = ReviewRow.__table__
_review_logs = ReviewLogRow.__table__
_findings = FindingRow.__table__
_signatures = SignatureRow.__table__


class ReviewRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        model_version_id: int,
        title: str,
        opened_by: str,
        opened_at: datetime,
        bundle_hash: str,
        requirements: tuple[SignatureRequirement, ...],
        log_ids: tuple[int, ...],
        supersedes: int | None = None,
    ) -> int:
        review_id = self._session.execute(
            insert(_reviews)
            .values(
                model_version_id=model_version_id,
                title=title,
                state=ReviewState.DRAFT.value,
                version=1,
                opened_by=opened_by,
                opened_at=opened_at,
                bundle_hash=bundle_hash,
                requirements=[r.to_dict() for r in requirements],
                supersedes_id=supersedes,
            )
            .returning(_reviews.c.id)
        ).scalar_one()
        self.set_logs(review_id, log_ids)
        return int(review_id)

    def get(self, review_id: int, *, for_update: bool = False) -> Review:
        """The review with its findings and signatures; ``for_update`` locks its row until commit."""
        statement = select(_reviews).where(_reviews.c.id == review_id)
        if for_update and guards.guarded(self._session):
            guards.lock(self._session, "review", review_id)
        elif for_update:
            statement = statement.with_for_update()
        row = self._session.execute(statement).mappings().first()
        if row is None:
            raise NotFoundError(f"there is no review {review_id}")
        return self._review(row)

    def list(self, *, model_version_id: int | None = None) -> list[Review]:
        statement = select(_reviews).order_by(_reviews.c.id)
        if model_version_id is not None:
            statement = statement.where(_reviews.c.model_version_id == model_version_id)
        return [self._review(row) for row in self._session.execute(statement).mappings().all()]

    def log_ids(self, review_id: int) -> tuple[int, ...]:
        return tuple(
            self._session.scalars(
                select(_review_logs.c.log_id)
                .where(_review_logs.c.review_id == review_id)
                .order_by(_review_logs.c.log_id)
            )
        )

    def set_logs(self, review_id: int, log_ids: tuple[int, ...]) -> None:
        if guards.guarded(self._session):
            chosen = literal(sorted(set(log_ids)), ARRAY(BigInteger))  # typed: an empty list has no type
            guards.call(self._session, "signoff_set_review_logs", review_id, chosen)
            return
        self._session.execute(delete(_review_logs).where(_review_logs.c.review_id == review_id))
        if log_ids:
            self._session.execute(
                insert(_review_logs), [{"review_id": review_id, "log_id": i} for i in sorted(set(log_ids))]
            )

    def save(self, review: Review, *, expected_version: int) -> Review:
        """Write the review's state if nobody changed it since ``expected_version``; returns it re-read."""
        values = {
            "state": review.state.value,
            "bundle_hash": review.bundle_hash,
            "decided_at": review.decided_at,
            "revoked_by": review.revocation.by if review.revocation else None,
            "revoked_at": review.revocation.at if review.revocation else None,
            "revocation_reason": review.revocation.reason if review.revocation else None,
            "superseded_by_id": review.superseded_by,
        }
        if guards.guarded(self._session):
            saved = guards.call(
                self._session, "signoff_save_review", review.id, expected_version, *values.values()
            )
        else:
            saved = self._session.execute(
                update(_reviews)
                .where(_reviews.c.id == review.id, _reviews.c.version == expected_version)
                .values(**values, version=expected_version + 1)
            ).rowcount
        if saved != 1:
            current = self._session.execute(
                select(_reviews.c.version).where(_reviews.c.id == review.id)
            ).scalar()
            raise ConflictError(
                CHANGED_BY_SOMEONE_ELSE.format(
                    review_id=review.id, expected=expected_version, current=current
                )
            )
        return self.get(review.id)

    def add_finding(self, review_id: int, finding: Finding, *, at: datetime) -> None:
        self._session.execute(
            insert(_findings).values(
                review_id=review_id,
                **_finding_values(finding),
                created_at=at,
                updated_at=at,
                updated_by=finding.author,
            )
        )

    def update_finding(self, review_id: int, finding: Finding, *, by: str, at: datetime) -> None:
        values = _finding_values(finding)
        if guards.guarded(self._session):
            # Number and author stay what they were: the function does not take them.
            changed = guards.call(
                self._session,
                "signoff_update_finding",
                review_id,
                finding.number,
                *(values[c] for c in ("type", "severity", "title", "description", "status", "resolution")),
                values["owner"],
                values["due"],
                at,
                by,
            )
        else:
            changed = self._session.execute(
                update(_findings)
                .where(_findings.c.review_id == review_id, _findings.c.number == finding.number)
                .values(**values, updated_at=at, updated_by=by)
            ).rowcount
        if changed != 1:
            raise NotFoundError(f"review {review_id} has no finding {finding.number}")

    def add_signature(self, signature: Signature) -> Signature:
        signature_id = self._session.execute(
            insert(_signatures)
            .values(
                review_id=signature.review_id,
                signer=signature.signer,
                printed_name=signature.printed_name,
                role=signature.role.value,
                meaning=signature.meaning.value,
                signed_at=signature.signed_at,
                bundle_hash=signature.bundle_hash,
                signature=signature.signature,
                public_key_fingerprint=signature.public_key_fingerprint,
                justification=signature.justification,
                conditions=None if signature.conditions is None else list(signature.conditions),
            )
            .returning(_signatures.c.id)
        ).scalar_one()
        return self.signature(int(signature_id))

    def signature(self, signature_id: int) -> Signature:
        row = (
            self._session.execute(select(_signatures).where(_signatures.c.id == signature_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"there is no signature {signature_id}")
        return _signature(row)

    def iter_signatures(self) -> Iterator[Signature]:
        for row in self._session.execute(select(_signatures).order_by(_signatures.c.id)).mappings():
            yield _signature(row)

    def _review(self, row) -> Review:
        review_id = row["id"]
        findings = tuple(
            _finding(f)
            for f in self._session.execute(
                select(_findings).where(_findings.c.review_id == review_id).order_by(_findings.c.number)
            ).mappings()
        )
        signatures = tuple(
            _signature(s)
            for s in self._session.execute(
                select(_signatures).where(_signatures.c.review_id == review_id).order_by(_signatures.c.id)
            ).mappings()
        )
        revocation = None
        if row["revoked_by"] is not None:
            revocation = Revocation(
                by=row["revoked_by"], at=row["revoked_at"], reason=row["revocation_reason"] or ""
            )
        return Review(
            id=review_id,
            model_version_id=row["model_version_id"],
            state=ReviewState(row["state"]),
            opened_by=row["opened_by"],
            opened_at=row["opened_at"],
            bundle_hash=row["bundle_hash"],
            requirements=tuple(
                SignatureRequirement(Role(r["role"]), int(r["count"])) for r in row["requirements"]
            ),
            findings=findings,
            signatures=signatures,
            title=row["title"],
            decided_at=row["decided_at"],
            revocation=revocation,
            supersedes=row["supersedes_id"],
            superseded_by=row["superseded_by_id"],
            version=row["version"],
        )


class ConditionRepository:
    """Conditions of approvals: set once by a signature, then only their status moves."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, review_id: int, signature_id: int, number: int, terms: ConditionTerms) -> None:
        self._session.add(
            ConditionRow(
                review_id=review_id,
                signature_id=signature_id,
                number=number,
                text=terms.text,
                owner=terms.owner,
                due=terms.due,
                status=ConditionStatus.OPEN.value,
                evidence="",
            )
        )
        self._session.flush()

    def list(self, *, review_id: int | None = None) -> list[Condition]:
        statement = (
            select(ConditionRow, ReviewRow.model_version_id)
            .join(ReviewRow, ReviewRow.id == ConditionRow.review_id)
            .order_by(ConditionRow.due, ConditionRow.id)
            .execution_options(populate_existing=True)
        )
        if review_id is not None:
            statement = statement.where(ConditionRow.review_id == review_id)
        return [_condition(row) for row, _ in self._session.execute(statement)]

    def signature_ids(self) -> dict[int, int]:
        """Condition id -> the signature (an approval with conditions) that set it."""
        return dict(self._session.execute(select(ConditionRow.id, ConditionRow.signature_id)).all())

    def get(self, condition_id: int, *, for_update: bool = False) -> Condition:
        statement = (
            select(ConditionRow)
            .where(ConditionRow.id == condition_id)
            .execution_options(populate_existing=True)
        )
        if for_update and guards.guarded(self._session):
            guards.lock(self._session, "review_condition", condition_id)
        elif for_update:
            statement = statement.with_for_update()
        row = self._session.scalars(statement).first()
        if row is None:
            raise NotFoundError(f"there is no condition {condition_id}")
        return _condition(row)

    def close(
        self, condition_id: int, *, status: ConditionStatus, evidence: str, by: str, at: datetime
    ) -> None:
        if guards.guarded(self._session):
            guards.call(
                self._session, "signoff_close_condition", condition_id, status.value, evidence, by, at
            )
            return
        row = self._session.get(ConditionRow, condition_id)
        assert row is not None
        row.status, row.evidence, row.closed_by, row.closed_at = status.value, evidence, by, at
        self._session.flush()


def _condition(row: ConditionRow) -> Condition:
    return Condition(
        id=row.id,
        review_id=row.review_id,
        number=row.number,
        terms=ConditionTerms(row.text, row.owner, row.due),
        status=ConditionStatus(row.status),
        evidence=row.evidence,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
    )


def _finding_values(finding: Finding) -> dict:
    return {
        "number": finding.number,
        "type": finding.type.value,
        "severity": finding.severity.value,
        "title": finding.title,
        "description": finding.description,
        "author": finding.author,
        "status": finding.status.value,
        "resolution": finding.resolution,
        "owner": finding.owner or None,
        "due": finding.due,
    }


def _finding(row) -> Finding:
    return Finding(
        number=row["number"],
        type=FindingType(row["type"]),
        severity=Severity(row["severity"]),
        title=row["title"],
        author=row["author"],
        description=row["description"],
        status=FindingStatus(row["status"]),
        resolution=row["resolution"],
        created_at=row["created_at"],
        owner=row["owner"] or "",
        due=row["due"],
    )


def _signature(row) -> Signature:
    return Signature(
        id=row["id"],
        review_id=row["review_id"],
        signer=row["signer"],
        printed_name=row["printed_name"],
        role=Role(row["role"]),
        meaning=SignatureMeaning(row["meaning"]),
        signed_at=row["signed_at"],
        bundle_hash=row["bundle_hash"],
        signature=bytes(row["signature"]),
        public_key_fingerprint=row["public_key_fingerprint"],
        justification=row["justification"],
        conditions=None if row["conditions"] is None else tuple(row["conditions"]),
    )


class WaiverRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, model_version_id: int, waiver: Waiver, created_by: str) -> Waiver:
        row = WaiverRow(
            model_version_id=model_version_id,
            rule_id=waiver.rule_id,
            scope=waiver.scope,
            justification=waiver.justification,
            granted_by=waiver.granted_by,
            until=waiver.until,
            created_at=waiver.created_at,
            created_by=created_by,
            role=waiver.role or None,
            printed_name=waiver.printed_name or None,
            signature=waiver.signature or None,
            public_key_fingerprint=waiver.public_key_fingerprint or None,
        )
        self._session.add(row)
        self._session.flush()
        return _waiver(row)

    def all(self) -> list[Waiver]:
        """Every waiver of every model version, oldest first (``signoff verify`` checks each)."""
        return [_waiver(row) for row in self._session.scalars(select(WaiverRow).order_by(WaiverRow.id))]

    def list(self, *, model_version_id: int) -> list[Waiver]:
        statement = (
            select(WaiverRow).where(WaiverRow.model_version_id == model_version_id).order_by(WaiverRow.id)
        )
        return [_waiver(row) for row in self._session.scalars(statement)]


def _waiver(row: WaiverRow) -> Waiver:
    return Waiver(
        id=row.id,
        rule_id=row.rule_id,
        scope=row.scope,
        justification=row.justification,
        granted_by=row.granted_by,
        until=row.until,
        created_at=row.created_at,
        model_version_id=row.model_version_id,
        role=row.role or "",
        printed_name=row.printed_name or "",
        signature=bytes(row.signature or b""),
        public_key_fingerprint=row.public_key_fingerprint or "",
    )
