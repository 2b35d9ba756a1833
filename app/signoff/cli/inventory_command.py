"""``signoff inventory``: the model inventory of record (owners, purpose, stage, scope, risk tier, dates).

``set`` records fields of a model (or of one version where it differs), ``assess`` scores the risk rubric,
``override`` lets an approver set another tier with a justification, ``proposals``/``accept`` take values
offered by imported model cards and registries, ``list`` shows the review calendar, ``export`` writes it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN, SIGNING
from signoff.cli.passwords import PasswordReader
from signoff.domain.audit import format_utc
from signoff.domain.inventory import EXPORT_FORMATS, FIELDS_BY_NAME, parse_assignments

if TYPE_CHECKING:
    from signoff.services.inventory import InventoryView


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "inventory",
        help="the model inventory: owners, purpose, stage, regulatory scope, risk tier, review dates",
        description="The inventory of record for every model. Every change is an audited event.",
    )
    commands = group.add_subparsers(dest="inventory_command", metavar="COMMAND", required=True)

    set_ = commands.add_parser(
        "set",
        parents=[SIGNED_IN],
        help="set inventory fields of a model or of one version",
        description="Set FIELD=VALUE pairs on model NAME's record (or, with --version, where that version "
        "differs). An empty value clears a field. `signoff inventory fields` lists the fields.",
    )
    set_.add_argument("name", metavar="NAME", help="registered model name")
    set_.add_argument("assignments", nargs="+", metavar="FIELD=VALUE")
    set_.add_argument("--version", metavar="V", help="record this for one version only")
    add_json_flag(set_)
    set_.set_defaults(handler=run_set)

    fields = commands.add_parser(
        "fields", help="list the inventory fields and their allowed values", description="List the fields."
    )
    add_json_flag(fields)
    fields.set_defaults(handler=run_fields)

    show = commands.add_parser(
        "show",
        help="show a model's inventory record",
        description="Show model NAME's record, each version's differences and lineage, its risk tier and "
        "review dates.",
    )
    show.add_argument("name", metavar="NAME")
    add_json_flag(show)
    show.set_defaults(handler=run_show)

    listing = commands.add_parser(
        "list",
        help="list every model with its owner, stage, tier and next review date",
        description="List every registered model with its record and review calendar: the next "
        "revalidation and the due dates of the open conditions set by approvals with conditions.",
    )
    listing.add_argument(
        "--overdue",
        action="store_true",
        help="only models whose revalidation or an open condition of an approval is overdue",
    )
    listing.add_argument(
        "--due-within",
        type=int,
        metavar="DAYS",
        help="only models whose revalidation or an open condition is due within DAYS days (or overdue)",
    )
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    export = commands.add_parser(
        "export",
        help="write the inventory to a CSV file or an Excel workbook",
        description="Write every model's inventory record and review dates to a file.",
    )
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("-o", "--out", required=True, metavar="F", help="file to write")
    export.set_defaults(handler=run_export)

    assess = commands.add_parser(
        "assess",
        parents=[SIGNED_IN],
        help="score the risk rubric's questions into a risk tier",
        description="Answer the risk rubric (default: the shipped one) for model NAME; the answers and the "
        "rubric's SHA-256 are stored as evidence, and the tier sets the review interval.",
    )
    assess.add_argument("name", metavar="NAME")
    assess.add_argument(
        "answers", nargs="+", metavar="QUESTION=ANSWER", help="e.g. materiality=high complexity=medium"
    )
    assess.add_argument("--rubric", metavar="NAME_OR_FILE", help="a rubric file or a shipped rubric's name")
    add_json_flag(assess)
    assess.set_defaults(handler=run_assess)

    override = commands.add_parser(
        "override",
        parents=[SIGNING],
        help="set another risk tier than the rubric's (approvers, with a justification)",
        description="Override model NAME's risk tier. Needs the approver role and a justification.",
    )
    override.add_argument("name", metavar="NAME")
    override.add_argument("--tier", required=True, help="the tier to set, e.g. 1")
    override.add_argument("--justification", required=True, help="why the rubric's tier is wrong here")
    add_json_flag(override)
    override.set_defaults(handler=run_override)

    offered = commands.add_parser(
        "proposals",
        help="show values the imported registries and model cards offer for the record",
        description="Show, field by field, what imported model cards, MLflow and SageMaker records say "
        "that differs from the record. Nothing is changed until `signoff inventory accept`.",
    )
    offered.add_argument("name", metavar="NAME")
    offered.add_argument("--version", metavar="V", help="the proposals for one version's record")
    add_json_flag(offered)
    offered.set_defaults(handler=run_proposals)

    accept = commands.add_parser(
        "accept",
        parents=[SIGNED_IN],
        help="accept proposals into the record",
        description="Accept the proposals shown by `signoff inventory proposals` (all, or the --field ones).",
    )
    accept.add_argument("name", metavar="NAME")
    accept.add_argument("--version", metavar="V", help="accept into one version's record")
    accept.add_argument("--field", action="append", metavar="FIELD", help="a field to accept (repeat)")
    add_json_flag(accept)
    accept.set_defaults(handler=run_accept)


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _print_view(view: InventoryView, as_json: bool) -> int:
    if as_json:
        print_json(view.to_dict())
        return 0
    entry = view.entry
    print(f"model {view.model}: {entry.versions} version(s), current {entry.current_version}")
    for name in FIELDS_BY_NAME:
        if name in entry.values:
            print(f"  {name}: {_value_text(entry.values[name])}")
    record = view.record
    if record and record.stage_history:
        print(
            "  stage history: "
            + "; ".join(f"{s.stage} since {s.since} ({s.by})" for s in record.stage_history)
        )
    tier = (
        "not assessed"
        if entry.tier is None
        else f"{entry.tier}{' (overridden)' if entry.tier_overridden else ''}"
    )
    print(f"  risk tier: {tier}")
    if record and record.risk and record.risk.get("override"):
        override = record.risk["override"]
        print(f"    override by {override['by']}: {override['justification']}")
    approval = format_utc(entry.last_approval) if entry.last_approval else "none"
    due = entry.next_due.isoformat() if entry.next_due else "not scheduled"
    print(f"  last approval: {approval}; next review due: {due} ({entry.due.value})")
    for condition in entry.conditions:
        print(
            f"  open condition {condition.condition_id} of v{condition.version}: {condition.text} "
            f"(owner {condition.owner}), due {condition.due} ({condition.state.value})"
        )
    for audit in view.ll144_audits:
        state = "valid" if audit["valid"] else "EXPIRED"
        print(
            f"  NYC LL144 bias audit of v{audit['version']}: {audit['audit_date']}, {state} until "
            f"{audit['valid_until']} (distributed {audit['distribution_date']}, analysis run {audit['run_id']})"
        )
    for version in view.versions:
        own = version.to_dict()["own_values"]
        if own or version.datasets:
            print(f"  version {version.version}:")
            for name, value in own.items():
                print(f"    {name}: {_value_text(value)}")
            for dataset in version.datasets:
                print(
                    f"    dataset {dataset.get('name', '')} ({dataset.get('context') or 'unspecified'}): "
                    f"digest {dataset.get('digest', '')}"
                )
    return 0


def run_set(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        view = inventory.set_fields(
            db, args.name, parse_assignments(args.assignments), version=args.version, actor=actor(args)
        )
    return _print_view(view, args.json)


def run_fields(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    fields = inventory.inventory_fields()
    if args.json:
        print_json([f.to_dict() for f in fields])
    else:
        print_table(
            [[f.name, f.kind.value, ", ".join(f.choices), f.description] for f in fields],
            ["FIELD", "KIND", "CHOICES", "MEANING"],
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        return _print_view(inventory.show_inventory(db, args.name), args.json)


def run_list(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        entries = inventory.list_inventory(db, overdue=args.overdue, due_within=args.due_within)
    if args.json:
        print_json([e.to_dict() for e in entries])
        return 0
    if not entries:
        print("no models match")
        return 0
    print_table(
        [
            [
                e.model,
                e.current_version or "",
                _value_text(e.values.get("owner")),
                _value_text(e.values.get("stage")),
                "" if e.tier is None else str(e.tier),
                e.next_due.isoformat() if e.next_due else "",
                e.due.value,
                str(e.open_conditions) if e.open_conditions else "",
            ]
            for e in entries
        ],
        ["MODEL", "CURRENT", "OWNER", "STAGE", "TIER", "NEXT DUE", "DUE", "OPEN CONDITIONS"],
    )
    conditions = sorted((c for e in entries for c in e.conditions), key=lambda c: (c.due, c.condition_id))
    if conditions:
        print("\nconditions of approvals, not yet closed:")
        print_table(
            [
                [c.owner, c.model, c.version, c.text, c.due.isoformat(), c.state.value, str(c.condition_id)]
                for c in conditions
            ],
            ["OWNER", "MODEL", "VERSION", "CONDITION", "DUE", "STATE", "ID"],
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        path = inventory.export_inventory(db, format=args.format, out=args.out)
    print(f"wrote {path}")
    return 0


def run_assess(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        view = inventory.assess_risk(
            db, args.name, parse_assignments(args.answers), rubric=args.rubric, actor=actor(args)
        )
    return _print_view(view, args.json)


def run_override(args: argparse.Namespace) -> int:
    from signoff.services import inventory
    from signoff.services.users import authenticate

    with open_db(args) as db:
        name = args.signer
        user = authenticate(
            db, name, PasswordReader(args.password_stdin).read(f"password for {name} (overriding the tier): ")
        )
        view = inventory.override_tier(db, user, args.name, args.tier, justification=args.justification)
    return _print_view(view, args.json)


def run_proposals(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        found = inventory.proposals(db, args.name, version=args.version)
    if args.json:
        print_json([p.to_dict() for p in found])
    elif not found:
        print("no proposals: the record agrees with every imported registry record")
    else:
        print_table(
            [[p.field, p.value, _value_text(p.current), p.source] for p in found],
            ["FIELD", "PROPOSED", "NOW", "FROM"],
        )
        print(f"accept with `signoff inventory accept {args.name} --field FIELD` (or all without --field)")
    return 0


def run_accept(args: argparse.Namespace) -> int:
    from signoff.services import inventory

    with open_db(args) as db:
        view = inventory.accept_proposals(db, args.name, args.field, version=args.version, actor=actor(args))
    return _print_view(view, args.json)
