"""``signoff audit``: verify the audit log's hash chain and list its events."""

from __future__ import annotations

import argparse

from signoff.cli.common import add_json_flag, open_db, print_json
from signoff.domain.audit import actor_label, format_utc
from signoff.domain.canonical import canonical_json

EXIT_INTACT = 0
EXIT_BROKEN = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "audit",
        description="The audit log: an append-only hash chain of everything done in Signoff.",
    )
    commands = group.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)

    verify = commands.add_parser(
        "verify",
        help="recompute the audit log's hash chain",
        description="Recompute every event's hash in order. Exit 0 when the chain is intact; exit 1 "
        "naming the first event that was altered, removed or inserted.",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=run_verify)

    log = commands.add_parser(
        "log",
        help="list audit events, newest first",
        description="List audit events, newest first, optionally filtered.",
    )
    log.add_argument("--action", help="only this action, or a group of them (log -> log.imported, ...)")
    log.add_argument("--entity", help="only events about this entity, e.g. prediction_log:3")
    log.add_argument("--actor", help="only events by this actor")
    log.add_argument("--limit", type=_positive, help="at most this many events")
    add_json_flag(log)
    log.set_defaults(handler=run_log)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run_verify(args: argparse.Namespace) -> int:
    from signoff.services.audit import verify_audit_log

    with open_db(args) as db:
        verdict = verify_audit_log(db)
    if args.json:
        print_json(verdict.to_dict())
    elif verdict.ok:
        print(f"audit log intact: {verdict.events_checked} events, head hash {verdict.head_hash}")
    else:
        print(
            f"audit log BROKEN at event {verdict.first_bad_sequence}: {verdict.reason}. "
            f"Events before it ({verdict.first_bad_sequence - 1}) verify; do not trust anything after."
        )
    return EXIT_INTACT if verdict.ok else EXIT_BROKEN


def run_log(args: argparse.Namespace) -> int:
    from signoff.services.audit import list_audit_events

    with open_db(args) as db:
        events = list_audit_events(
            db, action=args.action, entity=args.entity, actor=args.actor, limit=args.limit
        )
    if args.json:
        print_json([e.to_dict() for e in events])
        return 0
    for event in events:
        payload = canonical_json(event.payload).decode("utf-8")
        if len(payload) > 100:
            payload = payload[:97] + "..."
        print(
            f"{event.sequence:>6}  {format_utc(event.occurred_at)}  {actor_label(event)}  {event.action}  "
            f"{event.entity}  {payload}"
        )
    return 0
