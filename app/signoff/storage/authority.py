"""The workspace authority's certificates and keys: read by role, added once, changed only to encrypt a
key stored unencrypted by 0011; and the personal certificates issued to people, append-only."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from signoff.domain.authority import PersonalCertificate, WorkspaceCertificate
from signoff.storage.authority_tables import PersonalCertificateRow, WorkspaceCertificateRow

_certificates = WorkspaceCertificateRow.__table__
_personal = PersonalCertificateRow.__table__


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

    def encrypt_private_key(self, role: str, encrypted_private_key: bytes) -> None:
        """Replace a key stored unencrypted (0011) by its encrypted form; the certificate stays."""
        self._session.execute(
            update(_certificates)
            .where(_certificates.c.role == role)
            .values(private_key=encrypted_private_key)
        )

    def personal(self, username: str, issuer_sha256: str) -> list[PersonalCertificate]:
        """``username``'s certificates issued by the CA ``issuer_sha256``, newest first."""
        rows = self._session.execute(
            select(_personal)
            .where(_personal.c.username == username, _personal.c.issuer_sha256 == issuer_sha256)
            .order_by(_personal.c.id.desc())
        ).mappings()
        return [
            PersonalCertificate(
                username=row["username"],
                certificate_der=bytes(row["certificate"]),
                sealed_private_key=bytes(row["sealed_private_key"]),
                issuer_sha256=row["issuer_sha256"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def add_personal(self, certificate: PersonalCertificate) -> None:
        self._session.execute(
            insert(_personal).values(
                username=certificate.username,
                certificate=certificate.certificate_der,
                sealed_private_key=certificate.sealed_private_key,
                sha256=certificate.fingerprint,
                issuer_sha256=certificate.issuer_sha256,
                created_at=certificate.created_at,
            )
        )
