"""A PostgreSQL source's password in the user's keyring: service "signoff", user "user@host".

The password is the user's, not evidence: it is looked up after the URL and the environment
(PGPASSWORD) and never returned to anything that stores. Kept apart from ``log_source`` so that the
``signoff source credentials`` commands start without the engines' clients.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from signoff.domain.errors import ExternalServiceError, InputError
from signoff.domain.log_source import engine_of, redact_url

KEYRING_SERVICE = "signoff"


def postgres_account(url: str) -> tuple[str | None, str]:
    """(user, host) the URL connects as, the environment filling what the URL leaves out."""
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else os.environ.get("PGUSER")
    return user, parts.hostname or os.environ.get("PGHOST", "localhost")


def keyring_account(url: str) -> str:
    """The keyring user name a PostgreSQL source's password is kept under: ``user@host``."""
    if engine_of(url) != "postgres":
        raise InputError(
            f"only a PostgreSQL source's password is kept in the keyring, not one for {redact_url(url)}"
        )
    if urlsplit(url).password is not None:
        raise InputError("the password goes to the keyring on its own, not inside the source URL")
    user, host = postgres_account(url)
    if not user:
        raise InputError(
            f"the source URL {redact_url(url)} names no user: write it as postgresql+psycopg://user@host/db"
        )
    return f"{user}@{host}"


def keyring_password(user: str, host: str) -> str | None:
    import keyring

    try:
        return keyring.get_password(KEYRING_SERVICE, f"{user}@{host}")
    except Exception:  # no usable keyring on this machine: connect without, as before keyrings existed
        return None


def store_password(url: str, password: str) -> str:
    """Keep ``password`` in the user's keyring for the PostgreSQL source ``url``; returns the account."""
    import keyring

    account = keyring_account(url)
    if not password:
        raise InputError(f"the password for {account} is empty; nothing was stored in the keyring")
    try:
        keyring.set_password(KEYRING_SERVICE, account, password)
    except Exception as exc:
        raise ExternalServiceError(
            f"the keyring did not take the password for {account}: {_reason(exc)}; "
            "set PGPASSWORD in the environment instead, or configure a keyring backend"
        ) from None
    return account


def forget_password(url: str) -> bool:
    """Remove the keyring's password for the PostgreSQL source ``url``; False when there was none."""
    import keyring
    from keyring.errors import PasswordDeleteError

    account = keyring_account(url)
    try:
        keyring.delete_password(KEYRING_SERVICE, account)
    except PasswordDeleteError:
        return False
    except Exception as exc:
        raise ExternalServiceError(f"the keyring refused to remove {account}: {_reason(exc)}") from None
    return True


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
