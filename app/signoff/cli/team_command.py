"""``signoff team setup|migrate --url URL``: a PostgreSQL team database with per-person roles.

``setup`` is run once by an administrator (as PostgreSQL's administrator) and again after adding people:
an owner role that owns every table, a login role per enabled account (``signoff_USERNAME``), and grants
that let each person read, add rows and change state only through the guard functions. ``migrate``
brings the schema up to date as the owner role after Signoff was upgraded. Each desktop then connects as
its own role.
"""

from __future__ import annotations

import argparse

from signoff.cli.common import actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "team",
        help="set up a team database on PostgreSQL with per-person roles",
        description="A team database keeps the record out of reach of every desktop: tables belong to an "
        "owner role no one logs in as, and each person connects with their own PostgreSQL role.",
    )
    commands = group.add_subparsers(dest="team_command", metavar="COMMAND", required=True)
    setup = commands.add_parser(
        "setup",
        parents=[SIGNED_IN],
        help="create the owner role and a login role per account, with least privilege",
        description="Connected as the PostgreSQL administrator (a superuser, or the database's owner with "
        "CREATEROLE), create the role signoff_owner that owns every table and guard, the group roles "
        "signoff_member (read, add rows, and change state only through database functions that check who "
        "asks: roles, accounts and keys only by an administrator, a review's state only with its "
        "signatures; no UPDATE or DELETE on any table) and signoff_admin, and a login role "
        "signoff_USERNAME for each enabled account. PostgreSQL authenticates those roles (set their "
        "passwords, SCRAM or Kerberos there). Run it again after adding people. Exit 0 when done.",
    )
    setup.add_argument(
        "--url",
        required=True,
        metavar="URL",
        help="the team database as its PostgreSQL administrator, e.g. postgresql+psycopg://admin@host/db",
    )
    add_json_flag(setup)
    setup.set_defaults(handler=run_setup)
    migrate = commands.add_parser(
        "migrate",
        help="bring a team database's schema up to date, as its owner role",
        description="After Signoff was upgraded, bring the team database's schema to this version's "
        "revision as the role signoff_owner (which owns every table and guard: a desktop's own role may "
        "not, and Signoff refuses to migrate as one), then give the members their rights on what was "
        "added. Connect as a PostgreSQL role that may SET ROLE signoff_owner (a superuser or a member of "
        "it). No Signoff account is needed: PostgreSQL authenticates the administrator. Exit 0 when done.",
    )
    migrate.add_argument(
        "--url",
        required=True,
        metavar="URL",
        help="the team database as its PostgreSQL administrator, e.g. postgresql+psycopg://admin@host/db",
    )
    add_json_flag(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_setup(args: argparse.Namespace) -> int:
    from signoff.services.team import set_up_team

    args.db = args.url
    with open_db(args) as db:
        roles = set_up_team(db, actor=actor(args))
    if args.json:
        print_json(roles.to_dict())
        return 0
    print(f"owner role {roles.owner} owns every table; groups {roles.member} and {roles.admin}")
    for username, role in sorted(roles.logins.items()):
        print(f"  {username}: connects as {role}")
    print("set each login role's password (or SCRAM/Kerberos) in PostgreSQL; no desktop needs the owner")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from signoff.services.team import migrate_team

    revision = migrate_team(args.url)
    if args.json:
        print_json({"revision": revision})
        return 0
    print(f"the team database is at schema revision {revision}, owned by signoff_owner")
    return 0
