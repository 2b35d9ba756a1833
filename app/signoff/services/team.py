"""Setting up a team database: per-person PostgreSQL roles with least privilege (``storage/team.py``).

An administrator of Signoff, connected as PostgreSQL's administrator, creates the owner, group and
login roles for every enabled account (a disabled account's role can no longer log in); the setup is
itself an audited event.
"""

from __future__ import annotations

from signoff.domain.users import Role, check_has_role
from signoff.storage import Database
from signoff.storage.team import TeamRoles, migrate_team_database, set_up_team_roles

SET_UP = "team.set_up"


def set_up_team(db: Database, *, actor: str) -> TeamRoles:
    """Create the team's roles (owner, members, admins, one login per enabled account); audited."""
    with db.transaction(write=False) as uow:
        check_has_role(uow.users.get(actor), Role.ADMIN, "set up a team database")
        accounts = uow.users.list()
    people = [(u.username, Role.ADMIN in u.roles) for u in accounts if not u.disabled]
    roles = set_up_team_roles(db, people, disabled=[u.username for u in accounts if u.disabled])
    with db.transaction() as uow:
        uow.audit.append(actor=actor, action=SET_UP, entity="database:team", payload=roles.to_dict())
    return roles


def migrate_team(url: str) -> str:
    """Bring the team database at ``url`` (its PostgreSQL administrator) up to date as its owner role.

    Not audited as a Signoff account's act: no account can sign in before the schema is current, and
    PostgreSQL authenticates the administrator; the reached revision is the record.
    """
    return migrate_team_database(url)
