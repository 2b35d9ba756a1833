"""The user repository: accounts, their credentials and sign-in counters, handed out as ``User``.

There is no delete: an account is disabled, and its username stays taken (a database trigger refuses
DELETE on ``app_user`` too). Credentials leave this module only as the opaque ``Credentials``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signoff.domain.audit import StoredAuditEvent
from signoff.domain.canonical import canonical_json
from signoff.domain.errors import NotFoundError
from signoff.domain.users import Credentials, Role, User
from signoff.storage import guards
from signoff.storage.audit_ledger import write_event
from signoff.storage.schema import AuthTokenRow, UserRow

_users = UserRow.__table__
_tokens = AuthTokenRow.__table__


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        username: str,
        full_name: str,
        email: str,
        roles: frozenset[Role],
        credentials: Credentials,
        created_at: datetime,
    ) -> User:
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_add_user",
                username,
                full_name,
                email,
                _roles_json(roles),
                created_at,
                credentials.password_hash,
                credentials.public_key,
                credentials.sealed_private_key,
            )
            return self.get(username)
        row = UserRow(
            username=username,
            full_name=full_name,
            email=email,
            roles=_roles(roles),
            disabled=False,
            created_at=created_at,
            failed_attempts=0,
            locked_until=None,
            password_hash=credentials.password_hash,
            public_key=credentials.public_key,
            sealed_private_key=credentials.sealed_private_key,
            must_change_password=False,
            retired_public_keys=[],
        )
        self._session.add(row)
        self._session.flush()
        return _user(row)

    def count(self) -> int:
        return len(self.usernames())

    def usernames(self) -> list[str]:
        """Every username ever given out, disabled accounts included."""
        return list(self._session.scalars(select(UserRow.username)))

    def find(self, username: str, *, for_update: bool = False) -> User | None:
        # Core UPDATEs below bypass the identity map: always read the row as it is now.
        statement = (
            select(UserRow).where(UserRow.username == username).execution_options(populate_existing=True)
        )
        if for_update and guards.guarded(self._session):
            guards.lock(self._session, "app_user", username)
        elif for_update:
            statement = statement.with_for_update()
        row = self._session.scalars(statement).first()
        return None if row is None else _user(row)

    def get(self, username: str, *, for_update: bool = False) -> User:
        user = self.find(username, for_update=for_update)
        if user is None:
            raise NotFoundError(f"there is no user {username!r}")
        return user

    def list(self) -> list[User]:
        statement = select(UserRow).order_by(UserRow.username).execution_options(populate_existing=True)
        return [_user(row) for row in self._session.scalars(statement)]

    def credentials(self, username: str) -> Credentials:
        row = self._session.execute(
            select(UserRow.password_hash, UserRow.public_key, UserRow.sealed_private_key).where(
                UserRow.username == username
            )
        ).first()
        if row is None:
            raise NotFoundError(f"there is no user {username!r}")
        return Credentials(row[0], bytes(row[1]), bytes(row[2]))

    def record_sign_in_state(self, user: User) -> None:
        """Store the failure count and lock of ``user`` (as computed by the domain's lockout rules)."""
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_record_sign_in_state",
                user.username,
                user.failed_attempts,
                user.locked_until,
            )
            return
        self._session.execute(
            update(_users)
            .where(_users.c.username == user.username)
            .values(failed_attempts=user.failed_attempts, locked_until=user.locked_until)
        )

    def set_disabled(self, username: str) -> None:
        if guards.guarded(self._session):
            guards.call(self._session, "signoff_disable_user", username)
            return
        self._session.execute(update(_users).where(_users.c.username == username).values(disabled=True))

    def set_credentials(self, username: str, credentials: Credentials) -> None:
        """A new password: new hash and the same key pair sealed anew. The public key never changes."""
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_set_credentials",
                username,
                credentials.password_hash,
                credentials.public_key,
                credentials.sealed_private_key,
            )
            return
        self._session.execute(
            update(_users)
            .where(_users.c.username == username, _users.c.public_key == credentials.public_key)
            .values(
                password_hash=credentials.password_hash, sealed_private_key=credentials.sealed_private_key
            )
        )

    def grant_roles(self, username: str, roles: frozenset[Role], event: StoredAuditEvent) -> None:
        """Give ``username`` exactly ``roles``, recorded by ``event`` (a ``user.roles_changed`` event
        chained by the ledger but not yet written): both are stored together, or neither."""
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_grant_roles",
                username,
                _roles_json(roles),
                event.sequence,
                event.occurred_at,
                event.actor,
                event.payload_json,
                event.previous_hash,
                event.hash,
            )
            return
        self._session.execute(update(_users).where(_users.c.username == username).values(roles=_roles(roles)))
        write_event(self._session, event)

    def reset_credentials(self, username: str, credentials: Credentials) -> None:
        """An administrator's reset: a new password and a new key pair; the old public key is retired
        (kept, so the user's earlier signatures still verify) and a change is forced at next sign-in."""
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_reset_credentials",
                username,
                credentials.password_hash,
                credentials.public_key,
                credentials.sealed_private_key,
            )
            return
        row = self._session.scalars(
            select(UserRow).where(UserRow.username == username).execution_options(populate_existing=True)
        ).one()
        retired = [*row.retired_public_keys, bytes(row.public_key).hex()]
        self._session.execute(
            update(_users)
            .where(_users.c.username == username)
            .values(
                password_hash=credentials.password_hash,
                public_key=credentials.public_key,
                sealed_private_key=credentials.sealed_private_key,
                retired_public_keys=retired,
                must_change_password=True,
                failed_attempts=0,
                locked_until=None,
            )
        )

    def set_must_change_password(self, username: str, value: bool) -> None:
        if guards.guarded(self._session):
            guards.call(self._session, "signoff_set_must_change_password", username, value)
            return
        self._session.execute(
            update(_users).where(_users.c.username == username).values(must_change_password=value)
        )

    # --- sign-in tokens (only their SHA-256 is stored) ----------------------------------------------

    def add_token(
        self, *, token_sha256: str, username: str, created_at: datetime, expires_at: datetime
    ) -> int:
        row = AuthTokenRow(
            token_sha256=token_sha256, username=username, created_at=created_at, expires_at=expires_at
        )
        self._session.add(row)
        self._session.flush()
        return row.id

    def find_token(self, token_sha256: str) -> tuple[int, str, datetime, datetime | None] | None:
        """(token id, username, expires at, revoked at) of a token, by its SHA-256."""
        row = self._session.scalars(
            select(AuthTokenRow)
            .where(AuthTokenRow.token_sha256 == token_sha256)
            .execution_options(populate_existing=True)
        ).first()
        return None if row is None else (row.id, row.username, row.expires_at, row.revoked_at)

    def revoke_token(self, token_id: int, at: datetime) -> None:
        if guards.guarded(self._session):
            guards.call(self._session, "signoff_revoke_token", token_id, at)
            return
        self._session.execute(update(_tokens).where(_tokens.c.id == token_id).values(revoked_at=at))


def _roles(roles: frozenset[Role]) -> list[str]:
    return sorted(r.value for r in roles)


def _roles_json(roles: frozenset[Role]) -> str:
    """The roles as the ``roles`` column stores them (canonical JSON text)."""
    return canonical_json(_roles(roles)).decode("utf-8")


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        email=row.email,
        roles=frozenset(Role(r) for r in row.roles),
        disabled=bool(row.disabled),
        created_at=row.created_at,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
        public_key=bytes(row.public_key),
        must_change_password=bool(row.must_change_password),
        retired_public_keys=tuple(bytes.fromhex(k) for k in row.retired_public_keys or ()),
    )
