"""``signoff users``: add, list, disable and reset accounts, change roles; change your own password.

On a new database the first ``users add`` creates the first administrator and needs no identity;
after that an administrator acts, signed in with ``--user`` and a password or ``$SIGNOFF_TOKEN``.
"""

from __future__ import annotations

import argparse

from signoff.cli.common import add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN, SIGNED_IN_UNLESS_FIRST
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
        parents=[SIGNED_IN_UNLESS_FIRST],
        help="add an account",
        description="Add an account with its own Ed25519 signing key. The first account of a new database "
        "must be an administrator and needs no --user; later ones are added by an administrator. "
        "Passwords: the administrator's, then the new user's (with --password-stdin: one per line).",
    )
    add.add_argument("username", metavar="USERNAME", help="lower-case login name, never reused")
    add.add_argument("--full-name", required=True, help="printed name, shown with every signature")
    add.add_argument("--email", required=True, help="e-mail address")
    add.add_argument(
        "--roles", required=True, help="comma-separated: admin, reviewer, approver, viewer; or service alone"
    )
    add_json_flag(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser(
        "list", help="list accounts", description="List every account, disabled ones included."
    )
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    disable = commands.add_parser(
        "disable",
        parents=[SIGNED_IN],
        help="disable an account for good",
        description="Disable an account: it can no longer sign in or sign, its signatures stay valid, and "
        "its username is never given to anyone else.",
    )
    disable.add_argument("username", metavar="USERNAME")
    disable.add_argument("--reason", default="", help="why, for the audit log")
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

    reset = commands.add_parser(
        "reset",
        parents=[SIGNED_IN],
        help="set a temporary password (administrator); its owner must change it",
        description="An administrator sets a temporary password for an account; its owner must change it "
        "(`signoff users passwd`) before acting again. The account gets a new signing key; the old public "
        "key is kept, so its earlier signatures still verify. Passwords: the administrator's, then the "
        "temporary one.",
    )
    reset.add_argument("username", metavar="USERNAME")
    add_json_flag(reset)
    reset.set_defaults(handler=run_reset)

    roles = commands.add_parser(
        "roles",
        parents=[SIGNED_IN],
        help="change an account's roles (administrator)",
        description="Replace an account's roles; recorded in the audit log with the roles before and after.",
    )
    roles.add_argument("username", metavar="USERNAME")
    roles.add_argument("--roles", required=True, help="comma-separated roles, as for `users add`")
    add_json_flag(roles)
    roles.set_defaults(handler=run_roles)


def run_add(args: argparse.Namespace) -> int:
    from signoff.services.users import add_user

    passwords = PasswordReader(args.password_stdin)
    roles = parse_roles(args.roles.split(","))
    with open_db(args) as db:
        password = passwords.new_password(f"new password for {args.username}: ")
        user = add_user(
            db,
            args.account,
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
    from signoff.services.users import disable_user

    with open_db(args) as db:
        user = disable_user(db, args.account, args.username, reason=args.reason)
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


def run_reset(args: argparse.Namespace) -> int:
    from signoff.services.users import reset_password

    with open_db(args) as db:
        temporary = PasswordReader(args.password_stdin).new_password(
            f"temporary password for {args.username}: "
        )
        user = reset_password(db, args.account, args.username, temporary)
    if args.json:
        print_json(user.to_dict())
    else:
        print(f"reset the password of {user.username}; they must change it before acting again")
    return 0


def run_roles(args: argparse.Namespace) -> int:
    from signoff.services.users import set_roles

    roles = parse_roles(args.roles.split(","))
    with open_db(args) as db:
        user = set_roles(db, args.account, args.username, roles)
    if args.json:
        print_json(user.to_dict())
    else:
        print(f"{user.username} now has the roles {', '.join(sorted(r.value for r in user.roles))}")
    return 0
