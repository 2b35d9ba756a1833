"""Who is acting: the name recorded as the actor of every audit event.

Until Signoff has users of its own, the actor is the operating-system login name; the sign-off work
passes the signed-in user instead, through the ``actor`` parameter every use case takes.
"""

from __future__ import annotations

import getpass


def os_login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # No login name in the environment and no password-database entry (some containers).
        return "unknown"


def actor_or_login(actor: str | None) -> str:
    return actor if actor else os_login_name()
