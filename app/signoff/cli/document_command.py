"""``signoff document``: documents regulators ask for, generated from the evidence.

``annex-iv`` writes the EU AI Act Annex IV technical documentation (PDF, or editable DOCX / Markdown), ``ll144``
the NYC Local Law 144 bias-audit summary of one prediction log, ``missing`` lists what the shipped control
map asks for that the evidence does not hold yet.
"""

from __future__ import annotations

import argparse

from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.domain.inventory import parse_date


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "document",
        help="generate regulators' documents (EU AI Act Annex IV, NYC LL144) from the evidence",
        description="Documents generated from the inventory, lineage, analyses and sign-offs; every "
        "statement names the evidence it came from.",
    )
    commands = group.add_subparsers(dest="document_command", metavar="DOCUMENT", required=True)

    annex = commands.add_parser(
        "annex-iv",
        help="EU AI Act Annex IV technical documentation",
        description="Write the Annex IV technical documentation of model NAME version VERSION as PDF "
        "(F.pdf), an editable Word document (F.docx) or Markdown (F.md).",
    )
    annex.add_argument("name", metavar="NAME")
    annex.add_argument("version", metavar="VERSION")
    annex.add_argument("-o", "--out", required=True, metavar="F", help="F.pdf, F.docx or F.md")
    annex.set_defaults(handler=run_annex_iv)

    ll144 = commands.add_parser(
        "ll144",
        parents=[SIGNED_IN],
        help="NYC Local Law 144 bias-audit summary of one prediction log",
        description="Selection rates and impact ratios by sex, race/ethnicity and their intersections, "
        "the unknown count, groups under 2% excluded with their counts, audit and distribution dates.",
    )
    ll144.add_argument("name", metavar="NAME")
    ll144.add_argument("version", metavar="VERSION")
    ll144.add_argument("--log", type=int, required=True, metavar="ID", help="the prediction log audited")
    ll144.add_argument("-o", "--out", metavar="F", help="write the summary to F.pdf (or F.docx, F.md)")
    ll144.add_argument("--sex", metavar="ATTRIBUTE", help="the log's sensitive attribute holding sex")
    ll144.add_argument("--race", metavar="ATTRIBUTE", help="the log's attribute holding race/ethnicity")
    ll144.add_argument("--distribution-date", metavar="YYYY-MM-DD", help="publication date (default: today)")
    ll144.add_argument(
        "--scoring",
        action="store_true",
        help="the tool scores rather than selects: scoring rates (share above the median score) of the "
        "log's score column",
    )
    add_json_flag(ll144)
    ll144.set_defaults(handler=run_ll144)

    gaps = commands.add_parser(
        "missing",
        help="what the control map asks for that the evidence does not hold",
        description="List, clause by clause (EU AI Act Annex IV, NYC LL144, US model-risk guidance, "
        "21 CFR Part 11), the artefacts not recorded for model NAME version VERSION.",
    )
    gaps.add_argument("name", metavar="NAME")
    gaps.add_argument("version", metavar="VERSION")
    add_json_flag(gaps)
    gaps.set_defaults(handler=run_missing)


def run_annex_iv(args: argparse.Namespace) -> int:
    from signoff.services import documents

    with open_db(args) as db:
        path = documents.export_annex_iv(db, args.name, args.version, out=args.out)
    print(f"wrote {path}")
    return 0


def run_ll144(args: argparse.Namespace) -> int:
    from signoff.services import documents

    distribution = None
    if args.distribution_date:
        distribution = parse_date(args.distribution_date, what="the distribution date")
    with open_db(args) as db:
        summary = documents.ll144_summary(
            db,
            args.name,
            args.version,
            log_id=args.log,
            sex=args.sex,
            race=args.race,
            distribution_date=distribution,
            scoring=args.scoring,
            actor=actor(args),
        )
    if args.out:
        documents.export_ll144(summary, args.out)
    if args.json:
        print_json(summary.to_dict())
        return 0
    print(
        f"bias audit of {summary.model} v{summary.version}, log {summary.log_id}: audit date "
        f"{summary.audit_date}, distributed {summary.distribution_date}, valid until {summary.valid_until}"
    )
    for table in summary.tables:
        print(f"\nby {table.category} (unknown: {table.unknown_count})")
        print_table(
            [
                [
                    r.group,
                    str(r.count),
                    "" if r.selection_rate is None else f"{r.selection_rate:.3f}",
                    "excluded (<2%)"
                    if r.excluded
                    else ("" if r.impact_ratio is None else f"{r.impact_ratio:.3f}"),
                ]
                for r in table.rows
            ],
            ["CATEGORY", "INDIVIDUALS", f"{summary.basis.upper()} RATE", "IMPACT RATIO"],
        )
    if args.out:
        print(f"\nwrote {args.out}")
    return 0


def run_missing(args: argparse.Namespace) -> int:
    from signoff.services import documents

    with open_db(args) as db:
        gaps = documents.missing(db, args.name, args.version)
    if args.json:
        print_json([g.to_dict() for g in gaps])
    elif not gaps:
        print("nothing is missing: every clause of the control map is answered by recorded evidence")
    else:
        print_table(
            [[g.clause.framework, g.clause.title, ", ".join(g.missing)] for g in gaps],
            ["FRAMEWORK", "CLAUSE", "NOT RECORDED"],
        )
    return 0
