"""Reading passwords: from the terminal without echo, or one per line from standard input.

``--password-stdin`` is for automation (a CI secret piped in); otherwise the terminal is asked, and a
missing terminal is an error rather than a silent read of whatever standard input holds.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from signoff.domain.errors import InputError


def add_password_flags(parser: argparse.ArgumentParser, *, user_help: str) -> None:
    parser.add_argument("--user", metavar="NAME", help=user_help)
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read passwords from standard input, one per line, instead of asking at the terminal",
    )


class PasswordReader:
    def __init__(self, from_stdin: bool) -> None:
        self._from_stdin = from_stdin

    def read(self, prompt: str) -> str:
        if self._from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise InputError(f"standard input ended before the password for: {prompt.rstrip(': ')}")
            return line.rstrip("\r\n")
        if not sys.stdin.isatty():
            raise InputError(
                "there is no terminal to ask for a password: give it on standard input with --password-stdin"
            )
        return getpass.getpass(prompt)

    def new_password(self, prompt: str) -> str:
        """A new password; at a terminal it is asked twice so a typo does not lock the account out."""
        first = self.read(prompt)
        if not self._from_stdin and self.read("repeat it: ") != first:
            raise InputError("the two passwords differ; nothing was changed")
        return first


def required_user(args: argparse.Namespace) -> str:
    if not args.user:
        raise InputError("say who you are with --user NAME (your password is asked for next)")
    return args.user
