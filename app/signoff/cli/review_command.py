"""``signoff review``: open a review of a model version, write findings, submit, sign, revoke, show.

Every change names who makes it with ``--user`` and asks for that person's password; a signature
asks for it again by design (Part 11 §11.200). ``--expect-version`` and ``--bundle-hash`` (both shown
by ``review show``) make a change apply only to the review exactly as it was shown.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from signoff.cli.common import add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN, SIGNING
from signoff.cli.passwords import PasswordReader
from signoff.domain.audit import format_utc
from signoff.domain.errors import InputError
from signoff.domain.review import SignatureMeaning

if TYPE_CHECKING:
    from signoff.domain.evidence_bundle import ReviewStatus

EXIT_OK = 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "review",
        description="Reviews: an evidence bundle (model version, chosen logs, analyses, policy evaluation, "
        "findings) with one hash, signed with a meaning by reviewers and approvers.",
    )
    commands = group.add_subparsers(dest="review_command", metavar="COMMAND", required=True)

    def changing(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--expect-version",
            type=int,
            metavar="N",
            help="refuse if the review is no longer at this version",
        )
        add_json_flag(parser)

    open_ = commands.add_parser(
        "open",
        parents=[SIGNED_IN],
        help="open a draft review of a model version",
        description="Open a draft review of model NAME version VERSION over the chosen prediction logs "
        "(default: all its logs) and the version's latest analyses. Needs the reviewer role.",
    )
    open_.add_argument("name", metavar="NAME")
    open_.add_argument("version", metavar="VERSION")
    open_.add_argument(
        "--log", type=int, action="append", metavar="ID", help="a prediction log to include (repeat)"
    )
    open_.add_argument("--title", default="", help="what the review is for")
    open_.add_argument(
        "--require",
        action="append",
        metavar="ROLE=COUNT",
        help="signatures needed, e.g. --require reviewer=1 --require approver=2 (default: one of each)",
    )
    open_.add_argument(
        "--policy",
        metavar="NAME_OR_FILE",
        help="take the signatures needed from this policy's required_signatures (a file or a shipped policy)",
    )
    open_.add_argument("--supersedes", type=int, metavar="REVIEW", help="an earlier review this one replaces")
    changing(open_)
    open_.set_defaults(handler=run_open)

    show = commands.add_parser(
        "show",
        help="show a review, its signatures and who must still sign",
        description="Show a review as it stands now: state, evidence bundle hash, findings, signatures (each "
        "marked whether it covers the current evidence) and who must still sign.",
    )
    show.add_argument("review_id", type=int, metavar="REVIEW")
    add_json_flag(show)
    show.set_defaults(handler=run_show)

    listing = commands.add_parser("list", help="list reviews", description="List every review, newest last.")
    listing.add_argument("--model-version-id", type=int, help="only reviews of this model version")
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)

    finding = commands.add_parser(
        "finding",
        parents=[SIGNED_IN],
        help="add or edit a finding",
        description="Without NUMBER: add a finding (needs --type, --severity, --title). With NUMBER: edit "
        "that finding (status, resolution, severity, title, description). Changes the evidence bundle, so "
        "earlier signatures become stale.",
    )
    finding.add_argument("review_id", type=int, metavar="REVIEW")
    finding.add_argument("number", type=int, nargs="?", metavar="NUMBER")
    finding.add_argument("--type", help="validation_issue, limitation, policy_exception or observation")
    finding.add_argument("--severity", help="info, low, medium, high or critical")
    finding.add_argument("--title")
    finding.add_argument("--description")
    finding.add_argument("--status", help="open, resolved or accepted (accepting a risk needs an approver)")
    finding.add_argument("--resolution", help="how it was resolved or why the risk is accepted")
    finding.add_argument("--owner", metavar="NAME", help="the account that must remedy it (an obligation)")
    finding.add_argument("--due", type=_day, metavar="YYYY-MM-DD", help="by when it must be remedied")
    changing(finding)
    finding.set_defaults(handler=run_finding)

    logs = commands.add_parser(
        "logs",
        parents=[SIGNED_IN],
        help="add or remove prediction logs of a review",
        description="Change which prediction logs are the review's evidence (draft or in review only).",
    )
    logs.add_argument("review_id", type=int, metavar="REVIEW")
    logs.add_argument("--add", type=int, action="append", default=[], metavar="ID")
    logs.add_argument("--remove", type=int, action="append", default=[], metavar="ID")
    changing(logs)
    logs.set_defaults(handler=run_logs)

    submit = commands.add_parser(
        "submit",
        parents=[SIGNED_IN],
        help="submit a draft for signatures",
        description="Submit a draft review for signatures.",
    )
    submit.add_argument("review_id", type=int, metavar="REVIEW")
    changing(submit)
    submit.set_defaults(handler=run_submit)

    sign = commands.add_parser(
        "sign",
        parents=[SIGNING],
        help="sign a review (asks for your password)",
        description="Sign the review's current evidence bundle with a meaning: reviewed (reviewer), approved, "
        "approved_with_conditions or rejected (approver). Your password is asked for at every signature. "
        "The person who opened the review or produced its analyses cannot sign as approver.",
    )
    sign.add_argument("review_id", type=int, metavar="REVIEW")
    sign.add_argument("--meaning", required=True, choices=[m.value for m in SignatureMeaning])
    sign.add_argument("--bundle-hash", metavar="SHA256", help="refuse unless this is the evidence's hash now")
    sign.add_argument(
        "--justification",
        metavar="TEXT",
        help="approved_with_conditions: why the model may be used despite what is open (signed with it)",
    )
    sign.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="TEXT|owner=NAME|due=YYYY-MM-DD",
        help="approved_with_conditions: an obligation with its owner and due date (repeat; signed with it)",
    )
    changing(sign)
    sign.set_defaults(handler=run_sign)

    revoke = commands.add_parser(
        "revoke",
        parents=[SIGNED_IN],
        help="revoke an approval, with a reason",
        description="Revoke an approved review (approver or administrator); the reason is recorded.",
    )
    revoke.add_argument("review_id", type=int, metavar="REVIEW")
    revoke.add_argument("--reason", required=True)
    changing(revoke)
    revoke.set_defaults(handler=run_revoke)


def _requirements(specs: list[str] | None):
    if not specs:
        return None
    parsed = []
    for spec in specs:
        role, _, count = spec.partition("=")
        try:
            parsed.append({"role": role, "count": int(count or "1")})
        except ValueError:
            raise InputError(f"--require {spec!r}: write ROLE=COUNT, e.g. approver=2") from None
    return parsed


def _print(status: ReviewStatus, as_json: bool) -> int:
    if as_json:
        print_json(status.to_dict())
        return EXIT_OK
    review = status.review
    print(f"review {review.id}: {review.title or '(untitled)'}")
    print(f"  state            {review.state.value} (version {review.version})")
    for problem in status.integrity_problems:
        print(f"  NOT VERIFIED: {problem}")
    print(
        f"  model version    {status.bundle.model_version['name']} v{status.bundle.model_version['version']}"
    )
    print(f"  opened           {format_utc(review.opened_at)} by {review.opened_by}")
    print(f"  evidence bundle  {status.bundle.hash}")
    verdict_lines = status.verdict.lines()
    print(f"  policy verdict   {verdict_lines[0]}")
    for line in verdict_lines[1:]:
        print(f"                   {line}")
    logs = ", ".join(f"{log.log_id} ({log.role}, {log.evidence_sha256[:12]})" for log in status.bundle.logs)
    print(f"  logs             {logs}")
    runs = ", ".join(f"{a.run_id} ({a.kind} by {a.produced_by})" for a in status.bundle.analyses) or "none"
    print(f"  analyses         {runs}")
    if review.is_stale:
        print("  STALE: the evidence changed after some signatures; they do not cover the current evidence")
    if review.revocation is not None:
        r = review.revocation
        print(f"  revoked          {format_utc(r.at)} by {r.by}: {r.reason}")
    outstanding = review.outstanding()
    if outstanding:
        needed = ", ".join(f"{r.count} {r.role.value}{'s' if r.count > 1 else ''}" for r in outstanding)
        print(
            f"  must still sign  {needed} (not: {', '.join(sorted(review.ineligible_approvers()))} as approver)"
        )
    if review.findings:
        print("findings:")
        print_table(
            [
                [
                    str(f.number),
                    f.type.value,
                    f.severity.value,
                    f.status.value + (" (OVERDUE)" if f.is_overdue(datetime.now(UTC).date()) else ""),
                    f.title,
                    f.author,
                    f.owner or "-",
                    f.due.isoformat() if f.due else "-",
                ]
                for f in review.findings
            ],
            ["#", "type", "severity", "status", "title", "author", "owner", "due"],
        )
    if status.conditions:
        today = datetime.now(UTC).date()
        print("conditions:")
        print_table(
            [
                [
                    str(c.id),
                    c.terms.text,
                    c.terms.owner,
                    c.terms.due.isoformat(),
                    c.status.value + (" (OVERDUE)" if c.is_overdue(today) else ""),
                ]
                for c in status.conditions
            ],
            ["id", "condition", "owner", "due", "status"],
        )
    if review.signatures:
        print("signatures:")
        print_table(
            [
                [
                    str(s.id),
                    s.printed_name,
                    s.signer,
                    s.role.value,
                    s.meaning.label,
                    format_utc(s.signed_at),
                    s.bundle_hash[:12],
                    "NOT VERIFIED"
                    if review.is_unverified(s)
                    else "current"
                    if review.covers_current_evidence(s)
                    else "STALE",
                ]
                for s in review.signatures
            ],
            [
                "id",
                "printed name",
                "username",
                "role",
                "meaning",
                "signed (UTC)",
                "bundle",
                "covers evidence",
            ],
        )
    return EXIT_OK


def run_open(args: argparse.Namespace) -> int:
    from signoff.services import reviews
    from signoff.services.models import get_model_version

    with open_db(args) as db:
        actor = args.account
        version = get_model_version(db, args.name, args.version)
        status = reviews.open_review(
            db,
            actor,
            model_version_id=version.id,
            log_ids=args.log,
            title=args.title,
            required_signatures=_requirements(args.require),
            policy_file=args.policy,
            supersedes=args.supersedes,
        )
    return _print(status, args.json)


def run_show(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        return _print(reviews.show(db, args.review_id), args.json)


def run_list(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        statuses = reviews.list_reviews(db, model_version_id=args.model_version_id)
    if args.json:
        print_json([s.to_dict() for s in statuses])
        return EXIT_OK
    rows = [
        [
            str(s.review.id),
            f"{s.bundle.model_version['name']} v{s.bundle.model_version['version']}",
            s.review.state.value,
            "stale" if s.review.is_stale else "",
            s.review.opened_by,
            s.review.title,
        ]
        for s in statuses
    ]
    print_table(rows, ["id", "model version", "state", "stale", "opened by", "title"])
    return EXIT_OK


def run_finding(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        actor = args.account
        if args.number is None:
            missing = [flag for flag in ("type", "severity", "title") if getattr(args, flag) is None]
            if missing:
                raise InputError(f"a new finding needs {', '.join('--' + m for m in missing)}")
            status = reviews.add_finding(
                db,
                actor,
                args.review_id,
                type=args.type,
                severity=args.severity,
                title=args.title,
                description=args.description or "",
                expected_version=args.expect_version,
                owner=args.owner or "",
                due=args.due,
            )
        else:
            if args.type is not None:
                raise InputError("a finding's type cannot change; add a new finding instead")
            status = reviews.update_finding(
                db,
                actor,
                args.review_id,
                args.number,
                status=args.status,
                resolution=args.resolution,
                severity=args.severity,
                title=args.title,
                description=args.description,
                expected_version=args.expect_version,
                owner=args.owner,
                due=args.due,
            )
    return _print(status, args.json)


def run_logs(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        actor = args.account
        status = reviews.change_logs(
            db, actor, args.review_id, add=args.add, remove=args.remove, expected_version=args.expect_version
        )
    return _print(status, args.json)


def run_submit(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        actor = args.account
        status = reviews.submit(db, actor, args.review_id, expected_version=args.expect_version)
    return _print(status, args.json)


def run_sign(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        name = args.signer
        password = PasswordReader(args.password_stdin).read(
            f"password for {name} (signing review {args.review_id}): "
        )
        status = reviews.sign(
            db,
            args.review_id,
            username=name,
            password=password,
            meaning=args.meaning,
            expected_version=args.expect_version,
            bundle_hash=args.bundle_hash,
            justification=args.justification,
            conditions=args.condition,
        )
    return _print(status, args.json)


def run_revoke(args: argparse.Namespace) -> int:
    from signoff.services import reviews

    with open_db(args) as db:
        actor = args.account
        status = reviews.revoke(
            db, actor, args.review_id, reason=args.reason, expected_version=args.expect_version
        )
    return _print(status, args.json)
