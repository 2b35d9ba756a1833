"""User rules: usernames are never reused, wrong passwords lock the account for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from review_fixtures import NOW, user

from signoff.domain.errors import ConflictError, InputError, PermissionDenied
from signoff.domain.users import (
    DEFAULT_TOKEN_LIFETIME,
    LOCKOUT_DURATION,
    MAX_FAILED_ATTEMPTS,
    Role,
    after_failed_attempt,
    after_successful_sign_in,
    check_may_sign_in,
    check_new_username,
    check_password_strength,
    parse_duration,
    parse_roles,
)


def test_the_lockout_policy_constants():
    assert MAX_FAILED_ATTEMPTS == 5
    assert timedelta(minutes=15) == LOCKOUT_DURATION


def test_five_failures_lock_for_fifteen_minutes_then_counting_starts_again():
    account = user("bob", Role.REVIEWER)
    for attempt in range(1, 5):
        account = after_failed_attempt(account, NOW + timedelta(seconds=attempt))
        assert account.failed_attempts == attempt and not account.is_locked(NOW + timedelta(seconds=attempt))
        check_may_sign_in(account, NOW + timedelta(seconds=attempt))
    locked_at = NOW + timedelta(seconds=5)
    account = after_failed_attempt(account, locked_at)
    assert account.locked_until == locked_at + timedelta(minutes=15)
    with pytest.raises(PermissionDenied, match="locked after 5 failed sign-in attempts"):
        check_may_sign_in(account, locked_at + timedelta(minutes=14, seconds=59))
    check_may_sign_in(account, locked_at + timedelta(minutes=15))
    later = after_failed_attempt(account, locked_at + timedelta(minutes=16))
    assert later.failed_attempts == 1 and later.locked_until is None
    assert after_successful_sign_in(later).failed_attempts == 0


def test_a_disabled_account_cannot_sign_in():
    with pytest.raises(PermissionDenied, match="disabled"):
        check_may_sign_in(user("old", Role.APPROVER, disabled=True), NOW)


def test_usernames_are_checked_and_never_reused():
    assert check_new_username("  Bob.Smith ", ["alice"]) == "bob.smith"
    with pytest.raises(ConflictError, match="never reused"):
        check_new_username("ALICE", ["alice"])  # alice may be disabled: still taken
    for bad in ("", "x", "1abc", "bob smith", "bob@example.org", "a" * 65):
        with pytest.raises(InputError, match="is not valid"):
            check_new_username(bad, [])


def test_roles_and_passwords():
    assert parse_roles(["Reviewer", " approver", ""]) == {Role.REVIEWER, Role.APPROVER}
    with pytest.raises(InputError, match="unknown role 'boss'"):
        parse_roles(["boss"])
    with pytest.raises(InputError, match="at least one role"):
        parse_roles([])
    with pytest.raises(InputError, match="at least 12 characters"):
        check_password_strength("eleven char", "bob")
    with pytest.raises(InputError, match="must not be the username"):
        check_password_strength("Bob.the.approver", "bob.the.approver")
    with pytest.raises(InputError, match="commonly used"):
        check_password_strength("Password1234", "bob", frozenset({"password1234"}))
    check_password_strength("long enough pass", "bob", frozenset({"password1234"}))
    with pytest.raises(InputError, match="cannot be combined"):
        parse_roles(["service", "approver"])
    assert parse_roles(["service"]) == {Role.SERVICE}


def test_token_lifetimes_are_read_from_short_durations():
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("8h") == timedelta(hours=8) == DEFAULT_TOKEN_LIFETIME
    assert parse_duration(" 30m ") == timedelta(minutes=30)
    for bad in ("", "90", "0d", "1y", "-5d", "d"):
        with pytest.raises(InputError, match="is not a duration"):
            parse_duration(bad)
    with pytest.raises(InputError, match="at most 366 days"):
        parse_duration("400d")
