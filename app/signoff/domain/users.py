"""People who use Signoff: their roles, and the rules for names, sign-in failures and lockout.

Part 11 §11.100 asks that an electronic signature belong to one person only and never be reused, so a
username is unique forever: accounts are disabled, never deleted, and a disabled name is never handed
out again. Repeated wrong passwords lock the account for a while (§11.300(d)).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from signoff.domain.errors import ConflictError, InputError, PermissionDenied

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
DEFAULT_TOKEN_LIFETIME = timedelta(hours=8)
MAX_TOKEN_LIFETIME = timedelta(days=366)

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
INVALID_USERNAME = "username {name!r} is not valid: use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
USERNAME_TAKEN = (
    "username {name!r} is already taken (usernames are never reused, even after an account is disabled)"
)
PASSWORD_TOO_SHORT = f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
PASSWORD_IS_USERNAME = "the password must not be the username"
PASSWORD_TOO_COMMON = "that password is on the list of commonly used passwords; choose another"
PASSWORD_CHANGE_NEEDED = (
    "the password of {name!r} was reset by an administrator: change it first (`signoff users passwd`, or "
    "sign in to the desktop app)"
)
SERVICE_ALONE = "the service role is for pipelines and cannot be combined with other roles"
BAD_DURATION = "{text!r} is not a duration: write a whole number and a unit, e.g. 30m, 8h or 90d"
ACCOUNT_DISABLED = "the account {name!r} is disabled; ask an administrator"
ACCOUNT_LOCKED = (
    "the account {name!r} is locked after {attempts} failed sign-in attempts until {until} UTC; "
    "try again later or ask an administrator"
)
MISSING_ROLE = "{name!r} does not hold the {role} role needed to {what}"


class Role(enum.StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    VIEWER = "viewer"
    SERVICE = "service"  # a pipeline: may import, analyse, check and export; never sign, waive or trust


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Role names as typed by a person (``"reviewer,approver"`` split by the caller) -> roles."""
    roles = set()
    for value in values:
        name = value.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InputError(f"unknown role {value!r}; the roles are {known}") from None
    if not roles:
        raise InputError("a user needs at least one role")
    if Role.SERVICE in roles and len(roles) > 1:
        raise InputError(SERVICE_ALONE)
    return frozenset(roles)


def check_username(name: str) -> str:
    """The username as stored (lower case), or ``InputError`` saying what a valid name looks like."""
    normalised = name.strip().lower()
    if not USERNAME_PATTERN.match(normalised):
        raise InputError(INVALID_USERNAME.format(name=name))
    return normalised


def check_new_username(name: str, existing: Iterable[str]) -> str:
    """A valid name that no account, enabled or disabled, has ever had."""
    normalised = check_username(name)
    if normalised in {e.lower() for e in existing}:
        raise ConflictError(USERNAME_TAKEN.format(name=normalised))
    return normalised


def check_password_strength(password: str, username: str, common: frozenset[str] = frozenset()) -> None:
    """The password policy: long enough, not the username, not a commonly used password.

    ``common`` is the shipped list of common passwords (lower case), read by the caller.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(PASSWORD_TOO_SHORT)
    if username and username.strip().lower() == password.strip().lower():
        raise InputError(PASSWORD_IS_USERNAME)
    if password.lower() in common:
        raise InputError(PASSWORD_TOO_COMMON)


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"8h"``, ``"90d"`` -> a positive ``timedelta`` of at most ``MAX_TOKEN_LIFETIME``."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhd])\s*", text or "")
    if match is None or int(match.group(1)) == 0:
        raise InputError(BAD_DURATION.format(text=text))
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    duration = timedelta(**{unit: int(match.group(1))})
    if duration > MAX_TOKEN_LIFETIME:
        raise InputError(f"a sign-in token lasts at most {MAX_TOKEN_LIFETIME.days} days")
    return duration


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str  # the printed name shown with every signature (§11.50)
    email: str
    roles: frozenset[Role]
    disabled: bool = False
    created_at: datetime | None = None
    failed_attempts: int = 0  # consecutive failures since the last success or lockout
    locked_until: datetime | None = None
    public_key: bytes = b""  # raw Ed25519 public key: verifies this user's signatures forever
    must_change_password: bool = False  # set by an administrator's reset
    retired_public_keys: tuple[bytes, ...] = ()  # keys replaced at a reset: they verify older signatures

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def public_keys(self) -> tuple[bytes, ...]:
        """Every key this user ever signed with: the current one first."""
        return (self.public_key, *self.retired_public_keys)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def to_dict(self) -> dict[str, Any]:
        """The public record (no secrets exist here: password hash and private key stay in storage)."""
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "email": self.email,
            "roles": sorted(r.value for r in self.roles),
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "failed_attempts": self.failed_attempts,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "public_key": self.public_key.hex(),
            "must_change_password": self.must_change_password,
        }


@dataclass(frozen=True)
class Credentials:
    """What proves a user is who they say: opaque to the domain, checked by the services' security code."""

    password_hash: str  # argon2id, PHC string
    public_key: bytes  # raw Ed25519
    sealed_private_key: bytes  # the private key encrypted under a key derived from the password


def check_may_sign_in(user: User, now: datetime) -> None:
    """Refuse a disabled or locked account before its password is even looked at."""
    if user.disabled:
        raise PermissionDenied(ACCOUNT_DISABLED.format(name=user.username))
    if user.is_locked(now):
        assert user.locked_until is not None
        raise PermissionDenied(
            ACCOUNT_LOCKED.format(
                name=user.username,
                attempts=MAX_FAILED_ATTEMPTS,
                until=user.locked_until.strftime("%Y-%m-%d %H:%M:%S"),
            )
        )


def check_has_role(user: User, role: Role, what: str) -> None:
    if user.disabled:
        raise PermissionDenied(ACCOUNT_DISABLED.format(name=user.username))
    if not user.has_role(role):
        raise PermissionDenied(MISSING_ROLE.format(name=user.username, role=role.value, what=what))


def check_has_any_role(user: User, roles: Iterable[Role], what: str) -> None:
    """Like ``check_has_role``, for acts that any one of ``roles`` may do (a waiver: approver or admin)."""
    if user.disabled:
        raise PermissionDenied(ACCOUNT_DISABLED.format(name=user.username))
    wanted = frozenset(roles)
    if not wanted & user.roles:
        needed = " or ".join(sorted(r.value for r in wanted))
        raise PermissionDenied(MISSING_ROLE.format(name=user.username, role=needed, what=what))


def after_failed_attempt(user: User, now: datetime) -> User:
    """The account after one more wrong password: locked for ``LOCKOUT_DURATION`` at the limit.

    A lock that has run out starts the count again, so one late typo does not lock the account anew.
    """
    attempts = user.failed_attempts
    if user.locked_until is not None and now >= user.locked_until:
        attempts = 0
    attempts += 1
    if attempts >= MAX_FAILED_ATTEMPTS:
        return replace(user, failed_attempts=attempts, locked_until=now + LOCKOUT_DURATION)
    return replace(user, failed_attempts=attempts, locked_until=None)


def after_successful_sign_in(user: User) -> User:
    return replace(user, failed_attempts=0, locked_until=None)
