"""``signoff login`` and ``signoff logout``: a sign-in token for the commands that follow.

``login`` checks the password once and prints a token (``export SIGNOFF_TOKEN=...``, or the bare token
with ``--print-token`` for a pipeline's secret store); later commands act as that account while
``$SIGNOFF_TOKEN`` holds it, until it expires (default 8 h, ``--expires 90d``) or ``logout`` ends it.
Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import sys

from signoff.cli.common import add_json_flag, open_db, print_json
from signoff.cli.identity import TOKEN_VARIABLE, token_from_environment
from signoff.cli.passwords import PasswordReader, add_password_flags, required_user
from signoff.domain.audit import format_utc
from signoff.domain.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    login = subparsers.add_parser(
        "login",
        help="sign in once and get a token for the following commands",
        description=f"Check your password and print a sign-in token. Set ${TOKEN_VARIABLE} to it and the "
        "following commands act as you without asking again, until the token expires or `signoff logout`. "
        "Only the token's SHA-256 is stored in the database.",
    )
    add_password_flags(login, user_help="your Signoff account")
    login.add_argument(
        "--expires",
        metavar="DURATION",
        help="how long the token lasts: e.g. 30m, 8h, 90d (default 8h; at most 366d)",
    )
    login.add_argument(
        "--print-token",
        action="store_true",
        help="print only the token (for a pipeline's secret store), not the shell line",
    )
    add_json_flag(login)
    login.set_defaults(handler=run_login)

    logout = subparsers.add_parser(
        "logout",
        help=f"end the sign-in token in ${TOKEN_VARIABLE}",
        description=f"End the token in ${TOKEN_VARIABLE} at once (recorded in the audit log).",
    )
    logout.set_defaults(handler=run_logout)


def run_login(args: argparse.Namespace) -> int:
    from signoff.domain.users import parse_duration
    from signoff.services.users import issue_token

    name = required_user(args)
    lifetime = parse_duration(args.expires) if args.expires else None
    with open_db(args) as db:
        password = PasswordReader(args.password_stdin).read(f"password for {name}: ")
        issued = issue_token(db, name, password, lifetime=lifetime)
    if args.json:
        print_json(
            {"token": issued.token, "username": issued.username, "expires_at": format_utc(issued.expires_at)}
        )
    elif args.print_token:
        print(issued.token)
    else:
        print(f"export {TOKEN_VARIABLE}={issued.token}")
        print(
            f"signed in as {issued.username} until {format_utc(issued.expires_at)}; "
            f"`signoff logout` ends it sooner",
            file=sys.stderr,
        )
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from signoff.services.users import revoke_token

    token = token_from_environment()
    if token is None:
        raise InputError(f"there is no token to end: ${TOKEN_VARIABLE} is not set")
    with open_db(args) as db:
        user = revoke_token(db, token)
    print(f"signed out {user.username}; unset {TOKEN_VARIABLE}")
    return 0
