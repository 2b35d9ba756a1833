"""Who is acting: a signed-in Signoff account, and the facts recorded beside it.

Every change is made by an account (``services.users``: password, token or desktop session). The
operating-system login and the host are recorded as facts in each audit event's payload (under
``domain.audit.SESSION_KEY``), never as the actor. ``os_login_name`` remains for those facts and for
labelling events recorded before accounts were required.
"""

from __future__ import annotations

import getpass
import socket
from typing import Any

from signoff.domain.users import User
from signoff.storage import Database


def os_login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # No login name in the environment and no password-database entry (some containers).
        return "unknown"


def actor_or_login(actor: str | None) -> str:
    """The actor a use case records: the signed-in account's name given by its caller.

    Without one (a library caller or a test that signed nobody in) the OS login stands in; such an event
    carries no session facts and is shown as "unauthenticated (OS login ...)".
    """
    return actor if actor else os_login_name()


def session_facts(user: User | None, method: str) -> dict[str, Any]:
    """What is recorded beside the actor: how they were identified and from which login and host.

    ``user`` None with ``method`` ``NOT_AUTHENTICATED``: a failed sign-in, whose actor is only a name tried.
    """
    return {
        "account": None if user is None else user.username,
        "authenticated_by": method,  # "password", "token" or "desktop"
        "os_login": os_login_name(),
        "host": socket.gethostname(),
    }


def bind_session(db: Database, user: User | None, method: str = "password") -> None:
    """Record ``user`` as the signed-in account of everything done through ``db`` from now on
    (``None``: nobody; events then carry no session facts)."""
    db.session_facts = None if user is None else session_facts(user, method)
