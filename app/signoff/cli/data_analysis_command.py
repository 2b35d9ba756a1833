"""``signoff analyze drift`` and ``signoff analyze validation``: the data half of the analyses.

Both record an analysis run (reused when the identical request ran before) and print a summary, or
with ``--json`` the run and its full result as documented in docs/json-output.md. They join the
``analyze`` command group, creating it when no other module has.
"""

from __future__ import annotations

import argparse
from typing import Any

from signoff.cli.common import actor, add_json_flag, analyze_commands, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.domain.analysis_run import AnalysisRun


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = analyze_commands(subparsers)

    drift = commands.add_parser(
        "drift",
        parents=[SIGNED_IN],
        help="drift between a reference log and a current log",
        description="Compare a current log of the model version with a reference log, column by "
        "column: PSI and Jensen-Shannon on reference-quantile bins, Kolmogorov-Smirnov and normalised "
        "Wasserstein for numbers, chi-square for categories, and a verdict (stable, moderate, "
        "drifted). Default columns: the features, scores and prediction of the current log.",
    )
    drift.add_argument("name", metavar="NAME", help="registered model name")
    drift.add_argument("version", metavar="VERSION", help="model version")
    drift.add_argument("--reference", type=int, required=True, metavar="LOG", help="id of the reference log")
    drift.add_argument("--current", type=int, required=True, metavar="LOG", help="id of the current log")
    drift.add_argument("--column", action="append", metavar="COLUMN", help="compare this column (repeatable)")
    drift.add_argument(
        "--categorical",
        action="append",
        metavar="COLUMN",
        help="treat this column as categories even if it holds numbers (repeatable; default: the "
        "prediction of a classifier)",
    )
    drift.add_argument(
        "--bins", type=int, default=10, help="PSI bins cut at the reference's quantiles (default 10)"
    )
    add_json_flag(drift)
    drift.set_defaults(handler=run_drift_command)

    validation = commands.add_parser(
        "validation",
        parents=[SIGNED_IN],
        help="import report and column profiles of a log",
        description="What was checked and quarantined when the log was imported, and a profile of "
        "every column: missing share, distinct values, range and quantiles, most frequent values.",
    )
    validation.add_argument("name", metavar="NAME", help="registered model name")
    validation.add_argument("version", metavar="VERSION", help="model version")
    validation.add_argument("--log", type=int, required=True, metavar="ID", help="id of the stored log")
    validation.add_argument(
        "--top", type=int, default=10, help="most frequent values shown per column (default 10)"
    )
    add_json_flag(validation)
    validation.set_defaults(handler=run_validation_command)


def _run_dict(run: AnalysisRun) -> dict[str, Any]:
    data = run.to_dict()
    data.pop("result")
    return data


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def run_drift_command(args: argparse.Namespace) -> int:
    from signoff.services.drift import analyze_drift

    with open_db(args) as db:
        drift = analyze_drift(
            db,
            actor=actor(args),
            name=args.name,
            version=args.version,
            reference_log_id=args.reference,
            current_log_id=args.current,
            columns=args.column,
            categorical=args.categorical,
            bins=args.bins,
        )
    if args.json:
        print_json({"analysis_run": _run_dict(drift.run), "result": drift.result.to_dict()})
        return 0
    result = drift.result
    print(
        f"drift of log {args.current} against reference log {args.reference} "
        f"({result.current_rows:,} vs {result.reference_rows:,} rows), analysis run {drift.run.id}"
    )
    print_table(
        [
            [
                c.column,
                c.type.value,
                c.verdict.value,
                _number(c.psi),
                _number(c.jensen_shannon),
                _number(c.ks_p_value),
                _number(c.wasserstein_normalised),
                _number(c.chi2_p_value),
            ]
            for c in result.columns
        ],
        ["COLUMN", "TYPE", "VERDICT", "PSI", "JS", "KS P", "WASSERSTEIN/SD", "CHI2 P"],
    )
    t = result.thresholds
    print(
        f"thresholds: PSI {t.psi_moderate:g} moderate / {t.psi_significant:g} drifted; p < {t.p_value:g}; "
        f"Wasserstein/SD {t.wasserstein:g}; JS {t.jensen_shannon:g} (base 2). "
        f"Drifted: {', '.join(result.drifted_columns()) or 'none'}"
    )
    return 0


def run_validation_command(args: argparse.Namespace) -> int:
    from signoff.services.drift import analyze_validation

    with open_db(args) as db:
        validation = analyze_validation(
            db,
            actor=actor(args),
            name=args.name,
            version=args.version,
            log_id=args.log,
            top_categories=args.top,
        )
    if args.json:
        print_json({"analysis_run": _run_dict(validation.run), "result": validation.result.to_dict()})
        return 0
    report, profile = validation.result.report, validation.result.profile
    print(
        f"log {args.log}: {report.rows_read:,} rows read, {report.rows_kept:,} kept, "
        f"{report.rows_quarantined:,} quarantined; task {report.task}; analysis run {validation.run.id}"
    )
    for issue in report.issues:
        where = f" in {issue.column}" if issue.column else ""
        print(f"  {issue.check}{where}: {issue.count} rows - {issue.message}")
    rows = []
    for column in profile.columns:
        if column.top_categories:
            summary = ", ".join(f"{c.value} ({c.count})" for c in column.top_categories[:3])
        elif column.quantiles:
            summary = f"median {_number(column.quantile(0.5))}"
        else:
            summary = ""
        rows.append(
            [
                column.name,
                column.kind.value,
                f"{column.missing_share:.1%}",
                str(column.distinct),
                _number(column.minimum) if isinstance(column.minimum, float) else str(column.minimum or "-"),
                _number(column.maximum) if isinstance(column.maximum, float) else str(column.maximum or "-"),
                summary,
            ]
        )
    print_table(rows, ["COLUMN", "KIND", "MISSING", "DISTINCT", "MIN", "MAX", "TYPICAL"])
    return 0
