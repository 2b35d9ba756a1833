"""``signoff conditions``: the obligations set by approvals with conditions, and closing them.

``list`` shows every condition with its owner, due date and status (``--overdue``: only those past due
and not closed); ``close ID --evidence TEXT`` records that a condition was met (its owner, an approver
or an administrator), or with ``--accept-risk`` that an approver accepts it unmet, signing that decision.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.cli.passwords import PasswordReader


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "conditions",
        help="obligations set by approvals with conditions",
        description="Each condition of an approval with conditions is an obligation: what, its owner (an "
        "account), its due date and its status (open, in remediation, closed with evidence, risk accepted).",
    )
    commands = group.add_subparsers(dest="conditions_command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list",
        help="list conditions, soonest due first",
        description="List every condition, soonest due first; overdue ones are marked. Exit 0.",
    )
    listing.add_argument("--overdue", action="store_true", help="only conditions past due and not closed")
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    close = commands.add_parser(
        "close",
        parents=[SIGNED_IN],
        help="close a condition with the evidence that it was met",
        description="Close a condition, recording the evidence that it was met (its owner, an approver or an "
        "administrator). With --accept-risk an approver closes it unmet, accepting the risk.",
    )
    close.add_argument("condition_id", type=int, metavar="ID")
    close.add_argument("--evidence", required=True, metavar="TEXT", help="what shows the condition is met")
    close.add_argument(
        "--accept-risk",
        action="store_true",
        help="close it unmet, accepting the risk: an approver's signed act (asks for the password again)",
    )
    add_json_flag(close)
    close.set_defaults(handler=run_close)


def run_list(args: argparse.Namespace) -> int:
    from signoff.services.reviews import list_conditions

    today = datetime.now(UTC).date()
    with open_db(args) as db:
        conditions = list_conditions(db, overdue_on=today if args.overdue else None)
    if args.json:
        print_json([c.to_dict(today) for c in conditions])
        return 0
    if not conditions:
        print("no overdue conditions" if args.overdue else "no conditions")
        return 0
    print_table(
        [
            [
                str(c.id),
                c.model,
                str(c.review_id),
                c.terms.text,
                c.terms.owner,
                c.terms.due.isoformat(),
                c.status.value + (" OVERDUE" if c.is_overdue(today) else ""),
            ]
            for c in conditions
        ],
        ["id", "model version", "review", "condition", "owner", "due", "status"],
    )
    return 0


def run_close(args: argparse.Namespace) -> int:
    from signoff.services.reviews import close_condition

    today = datetime.now(UTC).date()
    with open_db(args) as db:
        password = None
        if args.accept_risk:  # a signed act: the approver types their password again to sign it
            password = PasswordReader(args.password_stdin).read(
                f"password for {actor(args)} (accepting the risk of condition {args.condition_id}): "
            )
        condition = close_condition(
            db,
            actor(args),
            args.condition_id,
            evidence=args.evidence,
            accept_risk=args.accept_risk,
            password=password,
        )
    if args.json:
        print_json(condition.to_dict(today))
    else:
        print(f"condition {condition.id} {condition.status.value.replace('_', ' ')} by {condition.closed_by}")
    return 0
