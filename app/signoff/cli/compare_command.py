"""``signoff compare``: a challenger version against its champion, overall and for every group.

Records an analysis run of kind ``compare`` on the challenger (reused when the identical request was
run before) and prints the differences, tests and decision changes, or with ``--json`` the run and its
full result in the shape documented in docs/json-output.md.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from signoff.cli.common import StatusLine, actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN


def _bins(text: str) -> tuple[str, list[float]]:
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


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        parents=[SIGNED_IN],
        help="compare a challenger version with its champion",
        description="Champion vs challenger on the same rows (paired: one log with both versions' columns, "
        "or two logs joined by row id) or on their own traffic (--unpaired, an A/B test): differences of "
        "accuracy, TPR, FPR, selection rate, precision and AUC with intervals, McNemar / DeLong / Newcombe, "
        "Holm across groups, fairness-gap changes, and who gets a different decision.",
    )
    parser.add_argument("name", metavar="NAME", help="registered model name")
    parser.add_argument("champion", metavar="V_CHAMPION", help="the version in service")
    parser.add_argument("challenger", metavar="V_CHALLENGER", help="the version that would replace it")
    parser.add_argument(
        "--log",
        type=int,
        action="append",
        required=True,
        metavar="ID",
        help="one log holding both versions' columns, or the champion's log then (again --log) the challenger's",
    )
    parser.add_argument("--unpaired", action="store_true", help="two logs of separate traffic (an A/B test)")
    parser.add_argument(
        "--predictions",
        nargs=2,
        metavar=("CHAMPION_COL", "CHALLENGER_COL"),
        help="with one log: the champion's and the challenger's prediction columns",
    )
    parser.add_argument(
        "--scores",
        nargs=2,
        metavar=("CHAMPION_COL", "CHALLENGER_COL"),
        help="with one log: the two versions' score columns (for AUC)",
    )
    parser.add_argument(
        "--sensitive", nargs="+", metavar="COL", help="sensitive attributes (default: the log's mapped ones)"
    )
    parser.add_argument(
        "--intersections",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also compare every 2- and 3-way intersection (default: yes)",
    )
    parser.add_argument(
        "--bins",
        type=_bins,
        action="append",
        metavar="COLUMN=EDGES",
        help="bin a numeric attribute (repeatable)",
    )
    parser.add_argument(
        "--positive-label", metavar="VALUE", help="the favourable outcome (default: 1 / True)"
    )
    parser.add_argument("--min-group-size", type=int, default=30, help="smaller groups are not tested (30)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level of intervals (0.95)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")
    add_json_flag(parser)
    parser.set_defaults(handler=run_compare_command)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _ci(ci: tuple[float | None, float | None]) -> str:
    return "—" if ci[0] is None or ci[1] is None else f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"


def _diff(value: float | None) -> str:
    return "—" if value is None else f"{value:+.4f}"


def run_compare_command(args: argparse.Namespace) -> int:
    from signoff.services.compare import compare_versions

    with open_db(args) as db, StatusLine(enabled=not args.json) as status:
        done = compare_versions(
            db,
            actor=actor(args),
            name=args.name,
            champion=args.champion,
            challenger=args.challenger,
            log_ids=args.log,
            unpaired=args.unpaired,
            prediction_columns=tuple(args.predictions) if args.predictions else None,
            score_columns=tuple(args.scores) if args.scores else None,
            sensitive=args.sensitive,
            intersections=args.intersections,
            bins=dict(args.bins or []),
            positive_label=args.positive_label,
            min_group_size=args.min_group_size,
            confidence_level=args.confidence,
            n_resamples=args.resamples,
            seed=args.seed,
            progress=lambda f: status(f, "comparing"),
        )
    if args.json:
        run = done.run.to_dict()
        result = run.pop("result")
        print_json(
            {
                "analysis_run": run,
                "champion": {
                    "name": done.champion.name,
                    "version": done.champion.version,
                    "id": done.champion.id,
                },
                "challenger": {
                    "name": done.challenger.name,
                    "version": done.challenger.version,
                    "id": done.challenger.id,
                },
                "result": result,
            }
        )
        return 0
    _print_summary(done)
    return 0


def _print_summary(done: Any) -> None:
    result = done.result
    cov = result.coverage
    level = f"{result.confidence_level:.0%} CI"
    print(
        f"analysis run {done.run.id}: {done.challenger.name} v{done.challenger.version} (challenger) vs "
        f"v{done.champion.version} (champion), {result.design}; result {done.run.result_sha256[:12]}"
    )
    rows = f"rows compared {cov.compared_rows:,}"
    if cov.design == "paired" and cov.joined_on:
        rows += f" (joined on {cov.joined_on}; only champion {cov.only_champion:,}, only challenger {cov.only_challenger:,})"
    print(rows)
    print_table(
        [
            [
                m.metric,
                _fmt(m.champion),
                _fmt(m.challenger),
                _diff(m.difference),
                _ci(m.ci),
                m.test or "",
                _p(m.p_value),
                _p(m.p_holm),
            ]
            for m in result.overall.metrics
        ],
        ["METRIC", "CHAMPION", "CHALLENGER", "DIFFERENCE", level, "TEST", "P", "P (HOLM)"],
    )
    for segment in result.segments:
        print(f"\n{segment.name}")
        table = []
        for g in segment.groups:
            sr = g.metric("selection_rate")
            acc = g.metric("accuracy")
            ch = g.changes
            table.append(
                [
                    g.group,
                    str(min(g.champion_count, g.challenger_count)),
                    f"{_diff(sr.difference)} {_ci(sr.ci)}",
                    f"{_diff(acc.difference)} {_ci(acc.ci)}",
                    "—" if ch is None else f"+{ch.newly_approved} / -{ch.newly_declined}",
                    "insufficient data" if g.insufficient else _p(sr.p_holm),
                ]
            )
        print_table(
            table, ["GROUP", "N", "SELECTION RATE CHANGE", "ACCURACY CHANGE", "NEW +/-", "P (HOLM) SR"]
        )
        print_table(
            [
                [gap.name, _fmt(gap.champion), _fmt(gap.challenger), _diff(gap.difference), _ci(gap.ci)]
                for gap in segment.gaps
            ],
            ["GAP", "CHAMPION", "CHALLENGER", "CHANGE", level],
        )
        if segment.change_test is not None and segment.change_test.p_value is not None:
            t = segment.change_test
            print(
                f"decision changes even across groups: chi-square {t.statistic:.3g}, p {_p(t.p_value)}, Holm {_p(t.p_holm)}"
            )
    print()
    for family in result.families:
        print(f"family: {family.description}")
