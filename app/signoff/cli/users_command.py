"""``signoff users``: add, list and disable accounts; change your own password.

On a new database the first ``users add`` creates the first administrator and needs no ``--user``;
after that an administrator adds people, proving who they are with ``--user`` and their password.
"""

from __future__ import annotations

import argparse

from signoff.cli.common import add_json_flag, open_db, print_json, print_table
from signoff.cli.passwords import PasswordReader, add_password_flags, required_user
from signoff.domain.audit import format_utc
from signoff.domain.users import parse_roles


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "users",
        description="Accounts: each person has a username (never reused), a printed name shown with their "
        "signatures, roles and a signing key sealed under their password.",
    )
    commands = group.add_subparsers(dest="users_command", metavar="COMMAND", required=True)

    add = commands.add_parser(
        "add",
        help="add an account",
        description="Add an account with its own Ed25519 signing key. The first account of a new database "
        "must be an administrator and needs no --user; later ones are added by an administrator. "
        "Passwords: the administrator's, then the new user's (with --password-stdin: one per line).",
    )
    add.add_argument("username", metavar="USERNAME", help="lower-case login name, never reused")
    add.add_argument("--full-name", required=True, help="printed name, shown with every signature")
    add.add_argument("--email", required=True, help="e-mail address")
    add.add_argument("--roles", required=True, help="comma-separated: admin, reviewer, approver, viewer")
    add_password_flags(add, user_help="the administrator adding the account")
    add_json_flag(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser(
        "list", help="list accounts", description="List every account, disabled ones included."
    )
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    disable = commands.add_parser(
        "disable",
        help="disable an account for good",
        description="Disable an account: it can no longer sign in or sign, its signatures stay valid, and "
        "its username is never given to anyone else.",
    )
    disable.add_argument("username", metavar="USERNAME")
    disable.add_argument("--reason", default="", help="why, for the audit log")
    add_password_flags(disable, user_help="the administrator disabling the account")
    add_json_flag(disable)
    disable.set_defaults(handler=run_disable)

    passwd = commands.add_parser(
        "passwd",
        help="change your password",
        description="Change your own password (current one first, then the new one). Your signing key is "
        "sealed again under the new password; your earlier signatures stay valid.",
    )
    add_password_flags(passwd, user_help="your username")
    passwd.set_defaults(handler=run_passwd)


def run_add(args: argparse.Namespace) -> int:
    from signoff.services.users import add_user, authenticate, has_users

    passwords = PasswordReader(args.password_stdin)
    roles = parse_roles(args.roles.split(","))
    with open_db(args) as db:
        actor = None
        if has_users(db):
            admin = required_user(args)
            actor = authenticate(db, admin, passwords.read(f"password for {admin}: "))
        password = passwords.new_password(f"new password for {args.username}: ")
        user = add_user(
            db,
            actor,
            username=args.username,
            full_name=args.full_name,
            email=args.email,
            roles=roles,
            password=password,
        )
    if args.json:
        print_json(user.to_dict())
    else:
        print(
            f"added {user.username} ({user.full_name}), roles {', '.join(sorted(r.value for r in user.roles))}"
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from signoff.services.users import list_users

    with open_db(args) as db:
        users = list_users(db)
    if args.json:
        print_json([u.to_dict() for u in users])
        return 0
    if not users:
        print("no users yet; create the first administrator with `signoff users add NAME --roles admin ...`")
        return 0
    rows = [
        [
            u.username,
            u.full_name,
            u.email,
            ",".join(sorted(r.value for r in u.roles)),
            "disabled" if u.disabled else ("locked" if u.locked_until else "active"),
            format_utc(u.created_at) if u.created_at else "",
        ]
        for u in users
    ]
    print_table(rows, ["username", "printed name", "e-mail", "roles", "status", "created"])
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from signoff.services.users import authenticate, disable_user

    admin = required_user(args)
    with open_db(args) as db:
        actor = authenticate(db, admin, PasswordReader(args.password_stdin).read(f"password for {admin}: "))
        user = disable_user(db, actor, args.username, reason=args.reason)
    if args.json:
        print_json(user.to_dict())
    else:
        print(f"disabled {user.username}; the name stays taken and earlier signatures stay valid")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    from signoff.services.users import change_password

    name = required_user(args)
    passwords = PasswordReader(args.password_stdin)
    with open_db(args) as db:
        old = passwords.read(f"current password for {name}: ")
        new = passwords.new_password(f"new password for {name}: ")
        change_password(db, name, old, new)
    print(f"password changed for {name}")
    return 0
