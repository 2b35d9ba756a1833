"""``signoff import source``: register a prediction log that stays where it lives (DuckDB, PostgreSQL, Spark).

The source gets a log id like an imported log's, so every command taking ``--log ID`` accepts it; its
analyses count rows in the engine and keep only the count tables. Credentials in ``--url`` are used for
this registration only and never stored; later runs take them from the environment (PGPASSWORD, ...).
"""

from __future__ import annotations

import argparse

from signoff.cli.common import actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN
from signoff.domain.prediction_log import ColumnMapping, LogRole


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
        "version fingerprints it), "
        "duckdb:///path/to/file.duckdb, postgresql+psycopg://host:5432/database, sc://host:15002 (Spark "
        "Connect). Credentials come from the environment (PGUSER, PGPASSWORD) when the URL has none.",
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
