"""Accounts and signing in: the first admin, adding and disabling users, passwords, authentication.

``authenticate`` is both the desktop sign-in and the re-authentication asked for at every signature
(Part 11 §11.200). Every failure is an audit event, counted against the account; ``MAX_FAILED_ATTEMPTS``
in a row lock it for ``LOCKOUT_DURATION``. A wrong password and an unknown username get the same
answer, so the message does not tell a guesser which names exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from signoff.domain.audit import NOT_AUTHENTICATED, SESSION_KEY
from signoff.domain.errors import ConflictError, InputError, PermissionDenied, setting
from signoff.domain.users import (
    DEFAULT_TOKEN_LIFETIME,
    PASSWORD_CHANGE_NEEDED,
    Credentials,
    Role,
    User,
    after_failed_attempt,
    after_successful_sign_in,
    check_has_role,
    check_may_sign_in,
    check_new_username,
    check_password_strength,
    check_username,
)
from signoff.resources import resource_path
from signoff.services.identity import bind_session, session_facts
from signoff.storage import Database

if TYPE_CHECKING:
    from signoff.services import security

WRONG_CREDENTIALS = "wrong username or password"
FIRST_USER_IS_ADMIN = "this database has no users yet: the first user must be an administrator (role admin)"
SIGN_IN_NEEDED = f"this database already has users: say who you are, as an administrator{setting('user')}"
LAST_ADMIN = "{name!r} is the last enabled administrator and cannot be disabled"
TOKEN_UNKNOWN = "the sign-in token is not known (mistyped, or from another database): sign in again"
TOKEN_EXPIRED = "the sign-in token expired at {at} UTC: sign in again with `signoff login`"
TOKEN_REVOKED = "the sign-in token was ended by `signoff logout`: sign in again"
TOKEN_PREFIX = "sot_"
COMMON_PASSWORDS = ("security", "common-passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of commonly used passwords (lower case) that the password policy refuses."""
    lines = resource_path(*COMMON_PASSWORDS).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(password: str, username: str) -> None:
    """The password policy: at least 12 characters, not the username, not a commonly used password."""
    check_password_strength(password, username, common_passwords())


def check_password_current(user: User) -> None:
    """Refuse to act as an account whose password an administrator reset, until its owner changed it."""
    if user.must_change_password:
        raise PermissionDenied(PASSWORD_CHANGE_NEEDED.format(name=user.username))


def _now() -> datetime:
    return datetime.now(UTC)


def has_users(db: Database) -> bool:
    """False only on first start, before the first administrator exists."""
    with db.transaction(write=False) as uow:
        return uow.users.count() > 0


def add_user(
    db: Database,
    actor: User | None,
    *,
    username: str,
    full_name: str,
    email: str,
    roles: frozenset[Role],
    password: str,
) -> User:
    """Create an account with its own Ed25519 key pair. ``actor`` is an administrator, or ``None`` for
    the first administrator on first start."""
    from signoff.services import security  # argon2 and cryptography: not for a token's check

    username = check_new_username(username, [])
    if not full_name.strip():
        raise InputError("a user needs a full name: it is printed with every signature")
    if "@" not in email:
        raise InputError(f"{email!r} is not an e-mail address")
    check_new_password(password, username)
    # Hashing and key derivation are deliberately slow: do them before taking the write lock.
    key = security.new_signing_key(username, password)
    credentials = Credentials(security.hash_password(password), key.public_key, key.sealed_private_key)
    with db.transaction() as uow:
        existing = uow.users.usernames()
        first = not existing
        if first:
            if Role.ADMIN not in roles:
                raise InputError(FIRST_USER_IS_ADMIN)
            actor_name = username
        else:
            if actor is None:
                raise PermissionDenied(SIGN_IN_NEEDED)
            current_actor = uow.users.get(actor.username)
            check_has_role(current_actor, Role.ADMIN, "add users")
            actor_name = current_actor.username
        check_new_username(username, existing)
        user = uow.users.add(
            username=username,
            full_name=full_name.strip(),
            email=email.strip(),
            roles=roles,
            credentials=credentials,
            created_at=_now(),
        )
        uow.audit.append(
            actor=actor_name,
            action="user.created",
            entity=f"user:{username}",
            payload={
                "full_name": user.full_name,
                "email": user.email,
                "roles": sorted(r.value for r in roles),
                "public_key_fingerprint": security.fingerprint(user.public_key),
                "first_administrator": first,
                # The first administrator creates itself: its password was just set, not checked.
                **({SESSION_KEY: session_facts(user, "first-start")} if first else {}),
            },
        )
    if first:
        # The first administrator starts the workspace: its certificate authority is made now, so the
        # root's fingerprint is known (and audited) before any report. Imported here: the authority
        # re-authenticates through this module.
        from signoff.services.authority import create_authority

        create_authority(db, actor=username)
    return user


def list_users(db: Database) -> list[User]:
    with db.transaction(write=False) as uow:
        return uow.users.list()


def disable_user(db: Database, actor: User, username: str, *, reason: str = "") -> User:
    """Disable an account for good: it can no longer sign in or sign; its name is never given out again."""
    with db.transaction() as uow:
        current_actor = uow.users.get(actor.username)
        check_has_role(current_actor, Role.ADMIN, "disable users")
        target = uow.users.get(username.strip().lower(), for_update=True)
        if target.disabled:
            raise ConflictError(f"the account {target.username!r} is already disabled")
        if Role.ADMIN in target.roles:
            admins = [u for u in uow.users.list() if Role.ADMIN in u.roles and not u.disabled]
            if len(admins) <= 1:
                raise ConflictError(LAST_ADMIN.format(name=target.username))
        uow.users.set_disabled(target.username)
        uow.audit.append(
            actor=current_actor.username,
            action="user.disabled",
            entity=f"user:{target.username}",
            payload={"reason": reason},
        )
        return uow.users.get(target.username)


def authenticate(db: Database, username: str, password: str, *, purpose: str = "sign-in") -> User:
    """The user, if ``password`` is theirs and the account may sign in; otherwise ``PermissionDenied``.

    ``purpose`` says why the password was asked for (``"sign-in"``, ``"sign review 7"``) and goes into the
    audit event of a failure.
    """
    from signoff.services import security

    name = username.strip().lower()
    with db.transaction(write=False) as uow:
        user = uow.users.find(name)
        credentials = uow.users.credentials(name) if user is not None else None
    if user is None or credentials is None:
        _record_failure(db, name, purpose, reason="unknown user")
        raise PermissionDenied(WRONG_CREDENTIALS)
    try:
        check_may_sign_in(user, _now())
    except PermissionDenied as error:
        _record_failure(db, name, purpose, reason="disabled" if user.disabled else "locked")
        raise error from None
    if security.password_matches(credentials.password_hash, password):
        rehash = security.password_needs_rehash(credentials.password_hash)
        if user.failed_attempts or user.locked_until is not None or rehash:
            with db.transaction() as uow:
                fresh = uow.users.get(name, for_update=True)
                user = after_successful_sign_in(fresh)
                uow.users.record_sign_in_state(user)
                if rehash:  # the hashing costs were raised since: upgrade while the password is at hand
                    uow.users.set_credentials(
                        name, replace(credentials, password_hash=security.hash_password(password))
                    )
        return user
    locked = _record_failure(db, name, purpose, reason="wrong password", count=True)
    if locked is not None:
        raise PermissionDenied(f"{WRONG_CREDENTIALS}; {locked}")
    raise PermissionDenied(WRONG_CREDENTIALS)


def sign_in(db: Database, username: str, password: str) -> User:
    """Start a session as ``username`` (the desktop app's sign-in), recorded in the audit log.

    Failures are recorded by ``authenticate``; a success is recorded here, so the audit trail shows
    who worked in the app and from when. A CLI command authenticates for the one action it records.
    """
    user = authenticate(db, username, password, purpose="sign-in")
    check_password_current(user)
    bind_session(db, user, "desktop")
    with db.transaction() as uow:
        uow.audit.append(
            actor=user.username, action="auth.signed_in", entity=f"user:{user.username}", payload={}
        )
    return user


def sign_out(db: Database, user: User, *, reason: str = "signed out") -> None:
    """End a desktop session (recorded); what is done through ``db`` afterwards has no account."""
    with db.transaction() as uow:
        uow.audit.append(
            actor=user.username,
            action="auth.signed_out",
            entity=f"user:{user.username}",
            payload={"reason": reason},
        )
    bind_session(db, None)


def _record_failure(
    db: Database, username: str, purpose: str, *, reason: str, count: bool = False
) -> str | None:
    """Audit one failed attempt (and count it against an existing account); returns a lock message."""
    now = _now()
    with db.transaction() as uow:
        payload: dict[str, object] = {
            "purpose": purpose,
            "reason": reason,
            SESSION_KEY: session_facts(None, NOT_AUTHENTICATED),
        }
        message = None
        user = uow.users.find(username, for_update=True) if count else None
        if user is not None:
            after = after_failed_attempt(user, now)
            uow.users.record_sign_in_state(after)
            payload["failed_attempts"] = after.failed_attempts
            if after.locked_until is not None:
                payload["locked_until"] = after.locked_until.isoformat()
                message = (
                    f"the account is locked until {after.locked_until:%Y-%m-%d %H:%M:%S} UTC "
                    f"after {after.failed_attempts} failed attempts"
                )
        uow.audit.append(actor=username, action="auth.failed", entity=f"user:{username}", payload=payload)
        if message is not None:
            uow.audit.append(actor=username, action="user.locked", entity=f"user:{username}", payload=payload)
        return message


def signing_key(db: Database, username: str) -> security.SigningKey:
    from signoff.services import security

    with db.transaction(write=False) as uow:
        credentials = uow.users.credentials(username)
    return security.SigningKey(credentials.public_key, credentials.sealed_private_key)


def change_password(db: Database, username: str, old_password: str, new_password: str) -> User:
    """A user changes their own password; the same key pair is sealed under the new one."""
    from signoff.services import security

    user = authenticate(db, username, old_password, purpose="change password")
    check_new_password(new_password, user.username)
    if new_password == old_password:
        raise InputError("the new password must differ from the old one")
    resealed = security.reseal_signing_key(
        user.username, signing_key(db, user.username), old_password, new_password
    )
    credentials = Credentials(
        security.hash_password(new_password), resealed.public_key, resealed.sealed_private_key
    )
    with db.transaction() as uow:
        current = uow.users.get(user.username, for_update=True)
        if current.disabled:
            raise PermissionDenied(f"the account {current.username!r} is disabled")
        uow.users.set_credentials(current.username, credentials)
        uow.users.set_must_change_password(current.username, False)
        uow.audit.append(
            actor=current.username,
            action="user.password_changed",
            entity=f"user:{current.username}",
            payload={},
        )
        return current


def reset_password(db: Database, actor: User, username: str, temporary_password: str) -> User:
    """An administrator sets a temporary password; its owner must change it at the next sign-in.

    The old private key is sealed under a password nobody but its owner knows, so the account gets a
    new key pair; the old public key is kept as retired, and the earlier signatures still verify.
    """
    from signoff.services import security

    name = check_username(username)
    check_new_password(temporary_password, name)
    key = security.new_signing_key(name, temporary_password)
    credentials = Credentials(
        security.hash_password(temporary_password), key.public_key, key.sealed_private_key
    )
    with db.transaction() as uow:
        admin = uow.users.get(actor.username)
        check_has_role(admin, Role.ADMIN, "reset passwords")
        target = uow.users.get(name, for_update=True)
        if target.disabled:
            raise ConflictError(f"the account {target.username!r} is disabled; it cannot be reset")
        uow.users.reset_credentials(target.username, credentials)
        uow.audit.append(
            actor=admin.username,
            action="user.password_reset",
            entity=f"user:{target.username}",
            payload={
                "retired_key_fingerprint": security.fingerprint(target.public_key),
                "public_key_fingerprint": security.fingerprint(key.public_key),
                "must_change_password": True,
            },
        )
        return uow.users.get(target.username)


def set_roles(db: Database, actor: User, username: str, roles: frozenset[Role]) -> User:
    """An administrator changes an account's roles (audited with the roles before and after)."""
    with db.transaction() as uow:
        admin = uow.users.get(actor.username)
        check_has_role(admin, Role.ADMIN, "change roles")
        target = uow.users.get(check_username(username), for_update=True)
        if target.roles == roles:
            raise InputError(f"{target.username!r} already has exactly these roles")
        if Role.ADMIN in target.roles and Role.ADMIN not in roles:
            admins = [u for u in uow.users.list() if Role.ADMIN in u.roles and not u.disabled]
            if len(admins) <= 1:
                raise ConflictError(LAST_ADMIN.format(name=target.username).replace("disabled", "demoted"))
        # The roles and the event recording their grant are stored in one step, or not at all.
        uow.audit.append(
            actor=admin.username,
            action="user.roles_changed",
            entity=f"user:{target.username}",
            payload={
                "before": sorted(r.value for r in target.roles),
                "after": sorted(r.value for r in roles),
            },
            with_change=lambda event: uow.users.grant_roles(target.username, roles, event),
        )
        return uow.users.get(target.username)


# --- CLI sign-in tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its SHA-256 is stored
    username: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    # A token is 256 random bits: a plain SHA-256 is enough (nothing to brute-force, unlike a password).
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def issue_token(
    db: Database, username: str, password: str, *, lifetime: timedelta | None = None
) -> IssuedToken:
    """``signoff login``: authenticate once, get a token that stands for the account until it expires."""
    user = authenticate(db, username, password, purpose="login")
    check_password_current(user)
    bind_session(db, user, "password")
    now = _now()
    expires_at = now + (lifetime or DEFAULT_TOKEN_LIFETIME)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as uow:
        token_id = uow.users.add_token(
            token_sha256=_token_hash(token), username=user.username, created_at=now, expires_at=expires_at
        )
        uow.audit.append(
            actor=user.username,
            action="auth.token_issued",
            entity=f"user:{user.username}",
            payload={"token_id": token_id, "expires_at": expires_at.isoformat()},
        )
    return IssuedToken(token, user.username, expires_at)


def user_for_token(db: Database, token: str) -> User:
    """The account a token stands for, or ``PermissionDenied`` (unknown, expired, ended, disabled)."""
    with db.transaction(write=False) as uow:
        found = uow.users.find_token(_token_hash(token))
        if found is None:
            raise PermissionDenied(TOKEN_UNKNOWN)
        _, username, expires_at, revoked_at = found
        if revoked_at is not None:
            raise PermissionDenied(TOKEN_REVOKED)
        if _now() >= expires_at:
            raise PermissionDenied(TOKEN_EXPIRED.format(at=f"{expires_at:%Y-%m-%d %H:%M:%S}"))
        user = uow.users.get(username)
    check_may_sign_in(user, _now())
    check_password_current(user)
    return user


def revoke_token(db: Database, token: str) -> User:
    """``signoff logout``: end the token at once (recorded)."""
    user = user_for_token(db, token)
    bind_session(db, user, "token")
    with db.transaction() as uow:
        found = uow.users.find_token(_token_hash(token))
        assert found is not None
        uow.users.revoke_token(found[0], _now())
        uow.audit.append(
            actor=user.username,
            action="auth.token_revoked",
            entity=f"user:{user.username}",
            payload={"token_id": found[0]},
        )
    return user
