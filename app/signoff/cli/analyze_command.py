"""``signoff analyze``: fairness, performance, monitoring, drift and validation of stored prediction logs.

Each command records an analysis run (reused when the identical request was run before) and prints a
summary, or with ``--json`` the run and its full result in the shape documented in docs/json-output.md.
The whole group is here; its services are imported inside the handlers so that help and usage errors
answer at once.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.domain.errors import InputError

if TYPE_CHECKING:
    from signoff.domain.analysis_requests import AnalysisRequest
    from signoff.domain.analysis_run import AnalysisRun

SUMMARY_COMPARISONS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "statistical_parity_difference",
    "disparate_impact",
)


def _bins(text: str) -> tuple[str, list[float]]:
    """``age=0,25,45,65,inf`` -> ("age", [0, 25, 45, 65, inf])."""
    name, sep, edges = text.partition("=")
    try:
        values = [float(e) for e in edges.split(",")]
    except ValueError:
        values = []
    if not sep or not name or len(values) < 2:
        raise argparse.ArgumentTypeError(
            f"expected COLUMN=E0,E1,...,inf (e.g. age=0,25,45,65,inf), got {text!r}"
        )
    return name, values


def _reference(values: list[str] | None) -> str | dict[str, str]:
    if not values:
        return "largest"
    if len(values) == 1 and values[0] in ("largest", "most_favoured"):
        return values[0]
    out = {}
    for v in values:
        segment, sep, group = v.partition("=")
        if not sep:
            raise InputError(
                f"--reference takes 'largest', 'most_favoured' or SEGMENT=GROUP (e.g. sex=Male), got {v!r}"
            )
        out[segment] = group
    return out


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="registered model name")
    parser.add_argument("version", metavar="VERSION", help="model version")
    parser.add_argument(
        "--log", type=int, required=True, metavar="ID", help="id of the stored prediction log"
    )
    parser.add_argument(
        "--positive-label",
        metavar="VALUE",
        help="the favourable outcome (default: 1 or True when the outcomes are 0/1)",
    )
    add_json_flag(parser)


def _segments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sensitive",
        nargs="+",
        metavar="COLUMN",
        help="sensitive attributes (default: the log's mapped ones)",
    )
    parser.add_argument(
        "--intersections",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also analyse every 2- and 3-way intersection of the attributes (default: yes)",
    )
    parser.add_argument(
        "--bins",
        type=_bins,
        action="append",
        metavar="COLUMN=EDGES",
        help="bin a numeric attribute by edges, e.g. age=0,25,45,65,inf (repeatable)",
    )
    parser.add_argument(
        "--min-group-size", type=int, default=30, help="smaller groups are insufficient data (30)"
    )
    parser.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples for intervals (1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "analyze",
        description="Analyses of stored prediction logs. Each is recorded as an analysis run "
        "with its inputs' hashes, parameters and engine version, and reused when repeated.",
    )
    commands = group.add_subparsers(dest="analyze_command", metavar="ANALYSIS", required=True)

    fairness = commands.add_parser(
        "fairness",
        parents=[SIGNED_IN],
        help="fairness per sensitive attribute and intersection",
        description="Per-group rates and comparisons under Fairlearn's, AIF360's and NYC Local Law 144's "
        "conventions, with 95% bootstrap and Wilson intervals and a test of each group against the reference.",
    )
    _common(fairness)
    _segments(fairness)
    fairness.add_argument(
        "--reference",
        nargs="+",
        metavar="RULE",
        help="reference group: 'largest' (default), 'most_favoured', or SEGMENT=GROUP ... (e.g. sex=Male)",
    )
    fairness.set_defaults(handler=run_fairness_command)

    performance = commands.add_parser(
        "performance",
        parents=[SIGNED_IN],
        help="performance overall and per group",
        description="Performance overall and for every group: confusion-table rates, ROC AUC, Brier score "
        "and calibration error (binary), one-vs-rest rates (multiclass), MAE/RMSE (regression).",
    )
    _common(performance)
    _segments(performance)
    performance.set_defaults(handler=run_performance_command)

    monitoring = commands.add_parser(
        "monitoring",
        parents=[SIGNED_IN],
        help="positive rate per time window against a control band",
        description="The selection rate per day, week or month of the timestamp, flagged when outside "
        "the overall rate ± 3 sigma for the window's size (a p-chart).",
    )
    _common(monitoring)
    monitoring.add_argument(
        "--frequency", choices=["day", "week", "month"], default="week", help="window (week)"
    )
    monitoring.add_argument("--sigmas", type=float, default=3.0, help="width of the control band (3)")
    monitoring.set_defaults(handler=run_monitoring_command)

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


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _interval(ci: tuple[float | None, float | None] | list[Any]) -> str:
    return "" if ci[0] is None else f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _run_header(run: Any) -> None:
    print(
        f"analysis run {run.id} ({run.kind}), log sha256 {run.inputs['log'][:16]}..., result sha256 {run.result_sha256[:16]}..."
    )
    source = run.result.get("source") or {}  # a log that stays where it lives (services/sources.py)
    if source:
        print(
            f"counted in {source['engine_version']} at {source['url']}; {source['count_table_rows']} cells fetched"
        )
    if source.get("change_note"):
        print(f"note: {source['change_note']}")


def _recorded(args: argparse.Namespace, request_for: Callable[[Any], AnalysisRequest]) -> AnalysisRun:
    """The run of the request built for the named log: stored, else computed and recorded now."""
    # The services (SQLAlchemy; pandas and scipy when computing) load only when an analysis runs.
    from signoff.services.analyses import run, version_log

    with open_db(args) as db:
        return run(db, request_for(version_log(db, args.name, args.version, args.log)), actor=actor(args))


def run_fairness_command(args: argparse.Namespace) -> int:
    from signoff.domain.analysis_requests import FairnessRequest
    from signoff.domain.fairness import FairnessResult

    def request_for(log: Any) -> FairnessRequest:
        return FairnessRequest(
            log=log,
            sensitive=tuple(args.sensitive or ()),
            intersections=args.intersections,
            bins=dict(args.bins or []),
            reference=_reference(args.reference),
            positive_label=args.positive_label,
            min_group_size=args.min_group_size,
            n_resamples=args.resamples,
            seed=args.seed,
        )

    done = _recorded(args, request_for)
    if args.json:
        print_json({"analysis_run": _run_dict(done), "result": done.result})
        return 0
    _run_header(done)
    result = done.result_as(FairnessResult)
    share = float(result.params.get("excluded_share", 0.0))
    for segment in result.segments:
        print(
            f"\n{segment.name}: reference {segment.reference or 'none'}, unknown {segment.unknown_count}"
            + (
                f", excluded from impact ratio (<{share:.0%}): {', '.join(segment.excluded)}"
                if segment.excluded
                else ""
            )
        )
        print_table(
            [
                [
                    r.group,
                    str(r.count),
                    _fmt(r.selection_rate),
                    "excluded" if r.excluded else _fmt(r.impact_ratio),
                    _interval(r.ci),
                    "insufficient data" if r.insufficient else "",
                ]
                for r in segment.impact_ratios
            ],
            ["GROUP", "N", "SELECTION RATE", "IMPACT RATIO", "95% CI", ""],
        )
        print_table(
            [
                [c.name, _fmt(c.value), _interval(c.ci), "insufficient data" if c.insufficient else ""]
                for c in segment.comparisons
                if c.group is None and c.name in SUMMARY_COMPARISONS
            ],
            ["COMPARISON", "VALUE", "95% CI", ""],
        )
    return 0


def run_performance_command(args: argparse.Namespace) -> int:
    from signoff.domain.analysis_requests import PerformanceRequest
    from signoff.domain.performance import PerformanceResult

    def request_for(log: Any) -> PerformanceRequest:
        return PerformanceRequest(
            log=log,
            sensitive=tuple(args.sensitive or ()),
            intersections=args.intersections,
            bins=dict(args.bins or []),
            positive_label=args.positive_label,
            min_group_size=args.min_group_size,
            n_resamples=args.resamples,
            seed=args.seed,
        )

    done = _recorded(args, request_for)
    if args.json:
        print_json({"analysis_run": _run_dict(done), "result": done.result})
        return 0
    _run_header(done)
    result = done.result_as(PerformanceResult)
    shown = {
        "binary": ("accuracy", "tpr", "fpr", "ppv", "roc_auc", "brier"),
        "multiclass": ("accuracy",),
        "regression": ("mean_prediction", "mae", "rmse", "mean_residual"),
    }[result.task]
    rows = [["overall", "", str(result.overall.count), *(_fmt(result.overall.metrics.get(m)) for m in shown)]]
    for segment in result.segments:
        for g in segment.groups:
            rows.append([segment.name, g.group, str(g.count), *(_fmt(g.metrics.get(m)) for m in shown)])
    print(f"task: {result.task}")
    print_table(rows, ["SEGMENT", "GROUP", "N", *(m.upper() for m in shown)])
    return 0


def run_monitoring_command(args: argparse.Namespace) -> int:
    from signoff.domain.analysis_requests import MonitoringRequest
    from signoff.domain.fairness import MonitoringResult

    def request_for(log: Any) -> MonitoringRequest:
        return MonitoringRequest(
            log=log, frequency=args.frequency, sigmas=args.sigmas, positive_label=args.positive_label
        )

    done = _recorded(args, request_for)
    if args.json:
        print_json({"analysis_run": _run_dict(done), "result": done.result})
        return 0
    _run_header(done)
    result = done.result_as(MonitoringResult)
    print(f"overall positive rate {_fmt(result.overall_rate)}; band ± {result.sigmas:g} sigma")
    print_table(
        [
            [
                w.start,
                str(w.count),
                _fmt(w.rate),
                _fmt(w.lower),
                _fmt(w.upper),
                "FLAGGED" if w.flagged else "",
            ]
            for w in result.windows
        ],
        ["WINDOW", "N", "RATE", "LOWER", "UPPER", ""],
    )
    return 0


def _run_dict(run: Any) -> dict[str, Any]:
    data = run.to_dict()
    data.pop("result")
    return data


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def run_drift_command(args: argparse.Namespace) -> int:
    from signoff.domain.analysis_requests import DriftRequest
    from signoff.domain.drift import DriftResult
    from signoff.services.analyses import run, version_log
    from signoff.services.logs import get_log

    with open_db(args) as db:
        current = version_log(db, args.name, args.version, args.current, "current")
        request = DriftRequest(
            reference=get_log(db, args.reference),
            current=current,
            drift_columns=tuple(args.column or ()),
            categorical=None if args.categorical is None else tuple(args.categorical),
            bins=args.bins,
        )
        done = run(db, request, actor=actor(args))
    if args.json:
        print_json({"analysis_run": _run_dict(done), "result": done.result})
        return 0
    result = done.result_as(DriftResult)
    print(
        f"drift of log {args.current} against reference log {args.reference} "
        f"({result.current_rows:,} vs {result.reference_rows:,} rows), analysis run {done.id}"
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
    from signoff.domain.analysis_requests import ValidationRequest
    from signoff.domain.validation import ValidationAnalysis

    done = _recorded(args, lambda log: ValidationRequest(log=log, top_categories=args.top))
    if args.json:
        print_json({"analysis_run": _run_dict(done), "result": done.result})
        return 0
    validation = done.result_as(ValidationAnalysis)
    report, profile = validation.report, validation.profile
    print(
        f"log {args.log}: {report.rows_read:,} rows read, {report.rows_kept:,} kept, "
        f"{report.rows_quarantined:,} quarantined; task {report.task}; analysis run {done.id}"
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
