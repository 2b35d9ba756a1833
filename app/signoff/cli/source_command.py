"""``signoff import source``: register a prediction log that stays where it lives (DuckDB, PostgreSQL, Spark);
``signoff source credentials set|delete URL``: keep a PostgreSQL source's password in the user's keyring.

The source gets a log id like an imported log's, so every command taking ``--log ID`` accepts it; its
analyses count rows in the engine and keep only the count tables. Credentials in ``--url`` are used for
this registration only and never stored; later runs take them from the environment (PGPASSWORD, ...),
else from the keyring (service "signoff", user "user@host").
"""

from __future__ import annotations

import argparse
import sys

from signoff.cli.common import actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN
from signoff.cli.passwords import PasswordReader
from signoff.domain.prediction_log import ColumnMapping, LogRole


def register(subparsers: argparse._SubParsersAction) -> None:
    """The top-level ``source`` command: what belongs to a source but not to the database."""
    source = subparsers.add_parser(
        "source",
        help="credentials of external log sources, kept in the user's keyring",
        description="External log sources are registered with 'signoff import source'. Their passwords "
        "never enter Signoff's database: give them in the environment (PGPASSWORD) or keep them in your "
        "keyring here, under service 'signoff' and user 'user@host'.",
    )
    groups = source.add_subparsers(dest="source_command", metavar="SUBCOMMAND", required=True)
    credentials = groups.add_parser(
        "credentials", help="keep or remove a PostgreSQL source's password in the keyring"
    )
    actions = credentials.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)
    store = actions.add_parser(
        "set",
        help="keep the password of postgresql+psycopg://user@host/db in the keyring",
        description="Keep the password for the URL's user at its host in the user's keyring (service "
        "'signoff', user 'user@host'). Registering and analysing the source then find it when neither "
        "the URL nor PGPASSWORD gives one. Nothing is written to the database or the audit log.",
    )
    store.add_argument("url", metavar="URL", help="the source URL, with a user and without a password")
    store.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (one line) instead of asking at the terminal",
    )
    store.set_defaults(handler=run_credentials_set)
    forget = actions.add_parser(
        "delete",
        help="remove the password of a source URL from the keyring",
        description="Remove the password kept for the URL's user at its host (service 'signoff', user "
        "'user@host') from the user's keyring; exits 1 when there was none.",
    )
    forget.add_argument("url", metavar="URL", help="the source URL, with a user and without a password")
    forget.set_defaults(handler=run_credentials_delete)


def run_credentials_set(args: argparse.Namespace) -> int:
    from signoff.services.source_credentials import password_account, remember_password

    account = password_account(args.url)  # a wrong URL is refused before a password is asked
    password = PasswordReader(args.password_stdin).read(f"password for {account}: ")
    remember_password(args.url, password)
    print(f"kept the password for {account} in the keyring (service 'signoff')")
    return 0


def run_credentials_delete(args: argparse.Namespace) -> int:
    from signoff.services.source_credentials import forget_source_password

    if not forget_source_password(args.url):
        print("signoff: the keyring held no password for that source", file=sys.stderr)
        return 1
    print("removed the password from the keyring")
    return 0


def register_import_source(sources: argparse._SubParsersAction) -> None:
    """Registered under the ``import`` group by ``import_command``."""
    source = sources.add_parser(
        "source",
        parents=[SIGNED_IN],
        help="register a prediction log that stays in DuckDB/Parquet, PostgreSQL or Spark",
        description="Register an external prediction log for a model version without copying its rows: "
        "Signoff reads the schema, the outcomes, the row count and a fingerprint, and stores those with "
        "the URL (credentials removed) and the table or query. Analyses then run a GROUP BY in the engine "
        "and keep only the count tables. URLs: duckdb:///path/to/*.parquet (files: no --table or --query), "
        "duckdb:///path/to/delta_table (a Delta table's folder, read offline through delta-rs; its table "
        "version fingerprints it; an Iceberg table's folder likewise, with the 'iceberg' extra), "
        "duckdb:///path/to/file.duckdb, postgresql+psycopg://host:5432/database, sc://host:15002 (Spark "
        "Connect). Credentials come from the environment (PGUSER, PGPASSWORD) when the URL has none, else "
        "from the keyring (see 'signoff source credentials set').",
    )
    source.add_argument("name", metavar="NAME", help="registered model name")
    source.add_argument("version", metavar="VERSION", help="model version")
    source.add_argument("--url", required=True, help="where the log lives (see above)")
    what = source.add_mutually_exclusive_group()
    what.add_argument("--table", metavar="T", help="the log's table (a database source)")
    what.add_argument("--query", metavar="SQL", help="a query whose rows are the log (a database source)")
    source.add_argument("--label", required=True, metavar="COL", help="column with the true outcome")
    source.add_argument(
        "--prediction", required=True, metavar="COL", help="column with the predicted outcome"
    )
    source.add_argument("--score", metavar="COL", help="column with the positive outcome's probability")
    source.add_argument(
        "--sensitive",
        action="extend",
        nargs="+",
        default=[],
        metavar="COL",
        help="sensitive attribute column(s)",
    )
    source.add_argument("--timestamp", metavar="COL", help="column with the time of each prediction")
    source.add_argument(
        "--role",
        choices=[r.value for r in LogRole],
        default=LogRole.VALIDATION.value,
        help="what the log is evidence of (default: validation)",
    )
    add_json_flag(source)
    source.set_defaults(handler=run_import_source)


def run_import_source(args: argparse.Namespace) -> int:
    # Imported here: ibis, pandas and the engines' clients cost every other command start-up time.
    from signoff.services.sources import get_source, register_source

    mapping = ColumnMapping(
        label=args.label,
        prediction=args.prediction,
        scores=(args.score,) if args.score else (),
        sensitive=tuple(args.sensitive),
        timestamp=args.timestamp,
    )
    with open_db(args) as db:
        outcome = register_source(
            db,
            actor=actor(args),
            model=args.name,
            version=args.version,
            url=args.url,
            table=args.table,
            query=args.query,
            mapping=mapping,
            role=LogRole(args.role),
        )
        source = get_source(db, outcome.log.id)
    if args.json:
        print_json({**outcome.to_dict(), "source": source.to_dict()})
        return 0
    log = outcome.log
    verb = "registered" if outcome.created else "already registered as"
    print(f"{verb} external log {log.id}: {log.rows:,} rows in {source.described} ({log.role})")
    print(f"  engine {source.engine_version}; description sha256 {log.evidence_sha256}")
    print(f"  labels {', '.join(log.validation.label_domain)}; analyse it with --log {log.id}")
    return 0
