"""The ``signoff`` command: the same use cases as the desktop app, for terminals and CI pipelines.

Each command group lives in its own module with a ``register(subparsers)`` function; a command's
handler takes the parsed arguments and returns an exit code. Only the module of the command named on
the command line is imported, so ``--help``, ``--version`` and a mistyped word answer at once (a CI
gate calls the tool many times). A ``SignoffError`` becomes a one-paragraph message on standard error
and its exit code; a traceback would be a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections import namedtuple
from collections.abc import Callable, Sequence

from signoff import __version__
from signoff.domain.errors import SignoffError

# How the CLI names a setting that an error asks for (``domain.errors.setting``): the flag that gives it.
SETTING_FLAGS = {
    "prediction_map": "--prediction-map",
    "date_format": "--date-format",
    "quarantine_invalid": "--quarantine-invalid",
    "positive_label": "--positive-label",
    "model": "--model",
    "version": "--version",
    "user": "--user",
}

# A top-level command: its word, the module that registers it, and its line in ``signoff --help``.
# (collections' namedtuple, not typing's: importing typing alone costs a tenth of the start-up.)
Command = namedtuple("Command", ["name", "module", "summary"])


COMMANDS = (
    Command("app", "signoff.cli.app_command", "start the desktop application"),
    Command("models", "signoff.cli.models_command", "register and list model versions"),
    Command(
        "inventory",
        "signoff.cli.inventory_command",
        "the model inventory: owners, purpose, stage, regulatory scope, risk tier, review dates",
    ),
    Command(
        "import", "signoff.cli.import_command", "import prediction logs and model registries as evidence"
    ),
    Command("source", "signoff.cli.source_command", "credentials of external log sources, in the keyring"),
    Command("logs", "signoff.cli.logs_command", "list and show imported prediction logs"),
    Command("analyze", "signoff.cli.analyze_command", "analyse a model version's prediction logs"),
    Command(
        "explain",
        "signoff.cli.explain_command",
        "SHAP explanation of a model version on one of its prediction logs",
    ),
    Command("compare", "signoff.cli.compare_command", "compare a challenger version with its champion"),
    Command("check", "signoff.cli.check_command", "judge a model version against a policy (CI gate)"),
    Command("waivers", "signoff.cli.check_command", "accepted exceptions to policy rules"),
    Command("users", "signoff.cli.users_command", "manage the people who review and sign"),
    Command("login", "signoff.cli.login_command", "sign in once and get a token for the following commands"),
    Command("logout", "signoff.cli.login_command", "end the sign-in token in $SIGNOFF_TOKEN"),
    Command("review", "signoff.cli.review_command", "review and sign off a model version"),
    Command("conditions", "signoff.cli.conditions_command", "obligations set by approvals with conditions"),
    Command("team", "signoff.cli.team_command", "set up a team database on PostgreSQL with per-person roles"),
    Command("report", "signoff.cli.report_command", "export the PDF audit report of a model version"),
    Command(
        "document",
        "signoff.cli.document_command",
        "generate regulators' documents (EU AI Act Annex IV, NYC LL144) from the evidence",
    ),
    Command(
        "verify",
        "signoff.cli.verify_command",
        "check the audit log and every signature, or an exported report",
    ),
    Command("audit", "signoff.cli.audit_command", "verify and read the audit log"),
    Command(
        "authority",
        "signoff.cli.authority_command",
        "the certificate authority that signs reports: show its root, import an organisation CA",
    ),
    Command("demo", "signoff.cli.demo_command", "build the demo workspace into the database"),
)


def command_word(argv: Sequence[str]) -> str | None:
    """The command named on the command line, or None (``--help``, ``--version``, nothing, a mistake)."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The parser; ``command`` is the one command registered in full ("*": all, None: none).

    The others are listed by name and summary only, which is all ``signoff --help`` and a mistyped
    command need, without importing their modules (and the services, pandas or SQLAlchemy behind them).
    """
    parser = argparse.ArgumentParser(
        prog="signoff",
        description="Governance and audit for machine-learning models: import registries and "
        "prediction logs, analyse fairness and explanations, sign off, export audit reports.",
        allow_abbrev=False,  # ``--d`` for ``--db`` would hide the command word from ``command_word``
    )
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $SIGNOFF_DB, else an SQLite file in the user's data folder); "
        "e.g. sqlite:///path/signoff.db or postgresql+psycopg://user@host/db",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    registered: set[str] = set()
    for entry in COMMANDS:
        # one module may register several commands (check and waivers)
        if (command == "*" or entry.name == command) and entry.module not in registered:
            registered.add(entry.module)
            importlib.import_module(entry.module).register(subparsers)
    for entry in COMMANDS:
        if entry.name not in subparsers.choices:
            subparsers.add_parser(entry.name, help=entry.summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None, *, launch_app: Callable[..., int] | None = None) -> int:
    """Run one command. ``launch_app`` starts the desktop UI (given by ``signoff.entry``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    word = command_word(argv)
    parser = build_parser(word if word in {c.name for c in COMMANDS} else None)
    args = parser.parse_args(argv)
    args.launch_app = launch_app
    try:
        return int(args.handler(args) or 0)
    except SignoffError as error:
        print(f"signoff: {error.text_naming(SETTING_FLAGS)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("signoff: interrupted; nothing was stored.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
