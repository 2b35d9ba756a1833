"""The workspace authority's certificates and keys: read by role, added once, never changed."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from signoff.domain.authority import WorkspaceCertificate
from signoff.storage.schema import WorkspaceCertificateRow

_certificates = WorkspaceCertificateRow.__table__


class AuthorityRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, role: str) -> WorkspaceCertificate | None:
        row = (
            self._session.execute(select(_certificates).where(_certificates.c.role == role))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return WorkspaceCertificate(
            role=row["role"],
            certificate_der=bytes(row["certificate"]),
            private_key_der=bytes(row["private_key"]),
            created_at=row["created_at"],
            created_by=row["created_by"],
        )

    def add(self, certificate: WorkspaceCertificate) -> None:
        self._session.execute(
            insert(_certificates).values(
                role=certificate.role,
                certificate=certificate.certificate_der,
                private_key=certificate.private_key_der,
                sha256=certificate.fingerprint,
                created_at=certificate.created_at,
                created_by=certificate.created_by,
            )
        )
