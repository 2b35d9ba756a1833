"""Who runs a changing command: ``--user NAME`` with a password, or the token in ``$SIGNOFF_TOKEN``.

A command that changes the database is built with ``parents=[SIGNED_IN]`` (or ``SIGNING`` for a
signature, which asks for the password itself). ``common.open_db`` then refuses, before the database
is even opened, when no identity is given ("sign in first: --user NAME or SIGNOFF_TOKEN", exit 2), and
otherwise authenticates and puts the account in ``args.account``: its username is the actor the
handler passes to the services. The OS login and host go into each audit event as facts.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from signoff.cli.passwords import PasswordReader
from signoff.domain.errors import InputError

if TYPE_CHECKING:  # the services (argon2, cryptography) load only when a command runs, not at start-up
    from signoff.domain.users import User
    from signoff.services import Database

TOKEN_VARIABLE = "SIGNOFF_TOKEN"
SIGN_IN_FIRST = "sign in first: --user NAME or SIGNOFF_TOKEN"

# What ``args.identity`` asks of ``open_db``: an authenticated account, or (for a signature, whose
# service re-authenticates with the password at the moment of signing) only the signer's name.
ACCOUNT = "account"
SIGNER = "signer"
ACCOUNT_UNLESS_FIRST = "account-unless-first"  # `users add` of the first administrator


def _identity_parent(mode: str) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    who = parent.add_argument_group("who does this")
    who.add_argument(
        "--user",
        metavar="NAME",
        help=f"your Signoff account (your password is asked for next); or sign in once with "
        f"`signoff login` and set ${TOKEN_VARIABLE}",
    )
    who.add_argument(
        "--password-stdin",
        action="store_true",
        help="read passwords from standard input, one per line, instead of asking at the terminal",
    )
    parent.set_defaults(identity=mode)
    return parent


SIGNED_IN = _identity_parent(ACCOUNT)
SIGNING = _identity_parent(SIGNER)
SIGNED_IN_UNLESS_FIRST = _identity_parent(ACCOUNT_UNLESS_FIRST)


def token_from_environment() -> str | None:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    return token or None


def check_identity_given(args: argparse.Namespace) -> None:
    """Refuse at once, before anything is opened or read, when a changing command names nobody."""
    needs_someone = getattr(args, "identity", None) in (ACCOUNT, SIGNER)
    if needs_someone and not getattr(args, "user", None) and token_from_environment() is None:
        raise InputError(SIGN_IN_FIRST)


def signed_in(args: argparse.Namespace, db: Database) -> User:
    """The account acting: ``--user`` authenticated with its password, else the token's account.

    From here on, every audit event written through ``db`` records how it was identified and the OS
    login and host.
    """
    from signoff.services.identity import bind_session
    from signoff.services.users import authenticate, check_password_current, user_for_token

    if getattr(args, "user", None):
        reader = PasswordReader(args.password_stdin)
        user = authenticate(db, args.user, reader.read(f"password for {args.user}: "))
        check_password_current(user)
        method = "password"
    else:
        token = token_from_environment()
        if token is None:
            raise InputError(SIGN_IN_FIRST)
        user = user_for_token(db, token)
        method = "token"
    bind_session(db, user, method)
    return user


def signer_name(args: argparse.Namespace, db: Database) -> str:
    """Who signs: ``--user``, else the token's account (whose password the signature then asks for)."""
    from signoff.services.users import user_for_token

    if getattr(args, "user", None):
        return args.user.strip().lower()
    token = token_from_environment()
    if token is None:
        raise InputError(SIGN_IN_FIRST)
    return user_for_token(db, token).username


def resolve(args: argparse.Namespace, db: Database) -> None:
    """Called by ``open_db``: fill ``args.account`` (or ``args.signer``) as the command's parser asked."""
    mode = getattr(args, "identity", None)
    if mode == ACCOUNT:
        args.account = signed_in(args, db)
    elif mode == SIGNER:
        args.signer = signer_name(args, db)
    elif mode == ACCOUNT_UNLESS_FIRST:
        from signoff.services.users import has_users

        args.account = signed_in(args, db) if has_users(db) else None
