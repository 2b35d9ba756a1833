"""``signoff analyze``: fairness, performance and positive-rate monitoring of a stored prediction log.

Each command records an analysis run (reused when the identical request was run before) and prints a
summary, or with ``--json`` the run and its full result in the shape documented in docs/json-output.md.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from signoff.cli.common import add_json_flag, analyze_commands, open_db, print_json, print_table
from signoff.domain.errors import InputError
from signoff.domain.fairness_flags import DEFAULT_EXCLUDED_SHARE, group_flags, reference_note

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
    commands = analyze_commands(subparsers)

    fairness = commands.add_parser(
        "fairness",
        help="fairness per sensitive attribute and intersection",
        description="Per-group rates and comparisons under Fairlearn's, AIF360's and NYC Local Law 144's "
        "conventions, with 95%% bootstrap and Wilson intervals and a test of each group against the reference.",
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
        help="performance overall and per group",
        description="Performance overall and for every group: confusion-table rates, ROC AUC, Brier score "
        "and calibration error (binary), one-vs-rest rates (multiclass), MAE/RMSE (regression).",
    )
    _common(performance)
    _segments(performance)
    performance.set_defaults(handler=run_performance_command)

    monitoring = commands.add_parser(
        "monitoring",
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


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _interval(ci: tuple[float | None, float | None] | list[Any]) -> str:
    return "" if ci[0] is None else f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _run_header(run: Any) -> None:
    print(
        f"analysis run {run.id} ({run.kind}), log sha256 {run.inputs['log'][:16]}..., result sha256 {run.result_sha256[:16]}..."
    )


def run_fairness_command(args: argparse.Namespace) -> int:
    # pandas/scipy load only when an analysis runs, so other commands start quickly
    from signoff.services.fairness import analyze_fairness

    with open_db(args) as db:
        done = analyze_fairness(
            db,
            name=args.name,
            version=args.version,
            log_id=args.log,
            sensitive=args.sensitive,
            intersections=args.intersections,
            bins=dict(args.bins or []),
            reference=_reference(args.reference),
            positive_label=args.positive_label,
            min_group_size=args.min_group_size,
            n_resamples=args.resamples,
            seed=args.seed,
        )
    share = float(done.result.params.get("excluded_share", DEFAULT_EXCLUDED_SHARE))
    flags = {segment.name: group_flags(segment, share) for segment in done.result.segments}
    if args.json:
        print_json(
            {
                "analysis_run": _run_dict(done.run),
                "result": done.run.result,
                "flags": {name: {g: list(f) for g, f in groups.items()} for name, groups in flags.items()},
                "reference_notes": {s.name: reference_note(s) for s in done.result.segments},
            }
        )
        return 0
    _run_header(done.run)
    result = done.result
    for segment in result.segments:
        print(
            f"\n{segment.name}: reference {segment.reference or 'none'}, unknown {segment.unknown_count}"
            + (
                f", excluded from impact ratio (<2%): {', '.join(segment.excluded)}"
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
                    ", ".join(flags[segment.name].get(r.group, ())),
                ]
                for r in segment.impact_ratios
            ],
            ["GROUP", "N", "SELECTION RATE", "IMPACT RATIO", "95% CI", "FLAGS"],
        )
        print(reference_note(segment))
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
    from signoff.services.fairness import analyze_performance

    with open_db(args) as db:
        done = analyze_performance(
            db,
            name=args.name,
            version=args.version,
            log_id=args.log,
            sensitive=args.sensitive,
            intersections=args.intersections,
            bins=dict(args.bins or []),
            positive_label=args.positive_label,
            min_group_size=args.min_group_size,
            n_resamples=args.resamples,
            seed=args.seed,
        )
    if args.json:
        print_json({"analysis_run": _run_dict(done.run), "result": done.run.result})
        return 0
    _run_header(done.run)
    result = done.result
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
    from signoff.services.fairness import analyze_monitoring

    with open_db(args) as db:
        done = analyze_monitoring(
            db,
            name=args.name,
            version=args.version,
            log_id=args.log,
            frequency=args.frequency,
            sigmas=args.sigmas,
            positive_label=args.positive_label,
        )
    if args.json:
        print_json({"analysis_run": _run_dict(done.run), "result": done.run.result})
        return 0
    _run_header(done.run)
    result = done.result
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
