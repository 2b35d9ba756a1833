"""The ``signoff`` command: the same use cases as the desktop app, for terminals and CI pipelines.

Each command group lives in its own module with a ``register(subparsers)`` function; a command's
handler takes the parsed arguments and returns an exit code. A ``SignoffError`` becomes a
one-paragraph message on standard error and its exit code; a traceback would be a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from signoff import __version__
from signoff.cli import (
    analyze_command,
    app_command,
    audit_command,
    check_command,
    conditions_command,
    data_analysis_command,
    demo_command,
    explain_command,
    import_command,
    login_command,
    logs_command,
    models_command,
    report_command,
    review_command,
    users_command,
    verify_command,
)
from signoff.domain.errors import SignoffError

COMMAND_GROUPS = (
    app_command,
    models_command,
    import_command,
    logs_command,
    analyze_command,
    data_analysis_command,
    explain_command,
    check_command,
    users_command,
    login_command,
    review_command,
    conditions_command,
    report_command,
    verify_command,
    audit_command,
    demo_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signoff",
        description="Governance and audit for machine-learning models: import registries and "
        "prediction logs, analyse fairness and explanations, sign off, export audit reports.",
    )
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $SIGNOFF_DB, else an SQLite file in the user's data folder); "
        "e.g. sqlite:///path/signoff.db or postgresql+psycopg://user@host/db",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, launch_app: Callable[..., int] | None = None) -> int:
    """Run one command. ``launch_app`` starts the desktop UI (given by ``signoff.entry``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.launch_app = launch_app
    try:
        return int(args.handler(args) or 0)
    except SignoffError as error:
        print(f"signoff: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("signoff: interrupted; nothing was stored.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
