"""Passwords of PostgreSQL log sources, kept in the user's keyring (service "signoff", user "user@host").

Registering and analysing a source find the password there when neither the URL nor PGPASSWORD gives
one. Nothing here touches the database or the audit log: the secret is the user's, not evidence.
"""

from __future__ import annotations

from signoff.importers.source_credentials import forget_password, keyring_account, store_password


def password_account(url: str) -> str:
    """The keyring account (``user@host``) a PostgreSQL source's password is kept under; a URL that
    is not such a source, or carries its password, is refused before any password is asked."""
    return keyring_account(url)


def remember_password(url: str, password: str) -> str:
    """Keep the password for the source ``url`` in the keyring; returns the account."""
    return store_password(url, password)


def forget_source_password(url: str) -> bool:
    """Remove it from the keyring again; False when none was kept."""
    return forget_password(url)
