"""Prediction logs from the terminal: ``signoff import log`` and ``signoff logs list/show``.

``register_import_log`` adds ``log`` to the ``import`` group (see ``import_command``); ``register``
adds the ``logs`` group: imported logs with row counts, hashes and validation results.
"""

from __future__ import annotations

import argparse
import sys

from signoff.cli.common import ProgressBar, actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.domain.audit import format_utc
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import ColumnMapping, LogImport, LogRole


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "logs",
        description="Imported prediction logs: evidence hashes, row counts and validation reports.",
    )
    commands = group.add_subparsers(dest="logs_command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list",
        help="list imported prediction logs",
        description="List imported prediction logs in import order, optionally of one model version.",
    )
    listing.add_argument("--model", help="only logs of this model (with --version)")
    listing.add_argument("--version", help="only logs of this model version (with --model)")
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    show = commands.add_parser(
        "show",
        help="show one prediction log with its validation report",
        description="Show one imported prediction log: hashes, mapping, period and validation report.",
    )
    show.add_argument("log_id", metavar="ID", type=int, help="the log's id (see `signoff logs list`)")
    add_json_flag(show)
    show.set_defaults(handler=run_show)


def run_list(args: argparse.Namespace) -> int:
    from signoff.services.logs import list_logs  # pandas and pyarrow: only when needed
    from signoff.services.models import list_model_versions

    with open_db(args) as db:
        logs = list_logs(db, model=args.model, version=args.version)
        models = {m.id: m for m in list_model_versions(db)}
    if args.json:
        print_json([log.to_dict() for log in logs])
    elif not logs:
        print("no prediction logs imported; import one with `signoff import log PATH ...`")
    else:
        print_table(
            [
                [
                    str(log.id),
                    f"{models[log.model_version_id].name} v{models[log.model_version_id].version}",
                    str(log.role),
                    f"{log.rows:,}",
                    f"{log.validation.rows_quarantined:,}",
                    log.evidence_sha256[:12],
                    log.source_name,
                ]
                for log in logs
            ],
            ["ID", "MODEL", "ROLE", "ROWS", "QUARANTINED", "SHA256", "SOURCE"],
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from signoff.services.logs import get_log_with_model  # pandas and pyarrow: only when needed

    with open_db(args) as db:
        log, model_version = get_log_with_model(db, args.log_id)
    if args.json:
        print_json({**log.to_dict(), "model": model_version.name, "version": model_version.version})
        return 0
    validation = log.validation
    lines = [
        ("log", str(log.id)),
        ("model", f"{model_version.name} version {model_version.version}"),
        ("role", str(log.role)),
        ("source", f"{log.source_name} (sha256 {log.source_sha256})"),
        ("evidence", f"sha256 {log.evidence_sha256}"),
        (
            "rows",
            f"{log.rows:,} kept of {validation.rows_read:,} read; {validation.rows_quarantined:,} quarantined",
        ),
        ("quarantine", f"sha256 {log.quarantine_sha256}" if log.quarantine_sha256 else "none"),
        ("task", f"{validation.task}; labels {', '.join(validation.label_domain) or '-'}"),
        ("period", f"{_time(log.period_start)} .. {_time(log.period_end)}"),
        ("mapping", ", ".join(f"{k}={v}" for k, v in log.mapping.to_dict().items() if v)),
        ("imported", f"{_time(log.imported_at)} by {log.imported_by} with {log.importer}"),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    if validation.issues:
        print("issues:")
        for issue in validation.issues:
            rows = ", ".join(str(r) for r in issue.rows)
            print(
                f"  {issue.check} in {issue.column or 'the file'}: {issue.count:,} rows (first: {rows}): {issue.message}"
            )
    else:
        print("issues:  none")
    return 0


def _time(moment) -> str:
    return format_utc(moment) if moment is not None else "-"


def register_import_log(sources: argparse._SubParsersAction) -> None:
    """``signoff import log``: registered under the ``import`` group by ``import_command``."""
    log = sources.add_parser(
        "log",
        parents=[SIGNED_IN],
        help="import a prediction log (CSV, Parquet, JSON Lines) for a model version",
        description="Validate a prediction log, canonicalise it to Parquet, and store it with its column "
        "mapping and validation report as evidence of a registered model version, in one transaction. "
        "Strict by default: a log with invalid rows is rejected with a report naming rows and columns. "
        "Importing the same file the same way again returns the stored log.",
    )
    log.add_argument("path", metavar="PATH", help="the log file: .csv (any delimiter), .parquet, .jsonl")
    log.add_argument("--model", required=True, help="registered model name")
    log.add_argument("--version", required=True, help="model version")
    log.add_argument("--label", required=True, metavar="COL", help="column with the true outcome")
    log.add_argument("--prediction", required=True, metavar="COL", help="column with the predicted outcome")
    log.add_argument("--score", action="extend", nargs="+", default=[], metavar="COL", help="score column(s)")
    log.add_argument(
        "--sensitive",
        action="extend",
        nargs="+",
        default=[],
        metavar="COL",
        help="sensitive attribute column(s)",
    )
    log.add_argument(
        "--feature", action="extend", nargs="+", default=[], metavar="COL", help="feature column(s)"
    )
    log.add_argument(
        "--id", metavar="COL", help="column identifying each prediction (checked for duplicates)"
    )
    log.add_argument("--timestamp", metavar="COL", help="column with the time of each prediction")
    log.add_argument(
        "--shap",
        action="extend",
        nargs="+",
        default=[],
        metavar="FEATURE=COL",
        help="a column holding SHAP values your pipeline computed for FEATURE (with --shap-base)",
    )
    log.add_argument("--shap-base", metavar="COL", help="the column holding each row's SHAP base value")
    log.add_argument(
        "--role",
        choices=[r.value for r in LogRole],
        default=LogRole.VALIDATION.value,
        help="what the log is evidence of (default: validation)",
    )
    log.add_argument(
        "--encoding", default="utf-8", help="text encoding of a CSV/JSON Lines file (default utf-8)"
    )
    log.add_argument("--delimiter", help="CSV delimiter (default: detected)")
    log.add_argument(
        "--quarantine-invalid",
        action="store_true",
        help="keep the valid rows and store the rejected ones, with reasons, next to the log",
    )
    log.add_argument(
        "--task",
        choices=["binary", "multiclass", "regression"],
        help="what the model predicts (default: decided from the label and prediction columns)",
    )
    add_json_flag(log)
    log.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    # Imported here: pandas and pyarrow cost every other command a second of start-up.
    from signoff.importers.prediction_log import LogReadOptions
    from signoff.services.logs import import_log

    # The domain says this in its own words; here the words are the flags the user typed.
    if args.shap and not args.shap_base:
        raise InputError("--shap needs --shap-base COLUMN too: the column of each row's SHAP base value")
    if args.shap_base and not args.shap:
        raise InputError("--shap-base was given without --shap FEATURE=COLUMN for the features")
    mapping = ColumnMapping(
        label=args.label,
        prediction=args.prediction,
        scores=tuple(args.score),
        sensitive=tuple(args.sensitive),
        features=tuple(args.feature),
        id=args.id,
        timestamp=args.timestamp,
        shap=_shap_pairs(args.shap),
        shap_base=args.shap_base,
    )
    options = LogReadOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        quarantine_invalid=args.quarantine_invalid,
        task=args.task,
    )
    bar = ProgressBar()
    try:
        with open_db(args) as db:
            outcome = import_log(
                db,
                args.path,
                model=args.model,
                version=args.version,
                mapping=mapping,
                role=LogRole(args.role),
                options=options,
                progress=bar,
                actor=actor(args),
            )
    finally:
        bar.close()
    if args.json:
        print_json(outcome.to_dict())
    else:
        _describe_import(outcome)
    return 0


def _shap_pairs(given: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in given:
        feature, sep, column = item.partition("=")
        if not sep or not feature.strip() or not column.strip():
            raise InputError(f"--shap takes FEATURE=COLUMN, e.g. --shap age=shap_age; got {item!r}")
        pairs.append((feature.strip(), column.strip()))
    features = [feature for feature, _column in pairs]
    if len(set(features)) != len(features):
        raise InputError("--shap names a feature twice")
    return tuple(pairs)


def _describe_import(outcome: LogImport) -> None:
    log = outcome.log
    verb = "imported" if outcome.created else "already imported as"
    print(f"{verb} prediction log {log.id}: {log.rows:,} rows from {log.source_name} ({log.role})")
    print(f"  evidence sha256 {log.evidence_sha256}")
    if log.quarantine_sha256:
        print(
            f"  {log.validation.rows_quarantined:,} invalid rows quarantined, sha256 {log.quarantine_sha256}",
            file=sys.stdout,
        )
    for issue in log.validation.issues:
        print(f"  {issue.check} in {issue.column or 'the file'}: {issue.count:,} rows ({issue.message})")
