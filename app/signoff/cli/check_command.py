"""``signoff check`` (the CI gate) and ``signoff waivers`` (accepted exceptions to policy rules).

``check`` exits 0 when every rule passes or is waived (insufficient data is reported, not blocking),
1 when a rule fails or evidence the policy requires is missing, and 2 for bad input, so a pipeline
can gate a release on it. Its ``--json`` output is documented in docs/json-output.md.
"""

from __future__ import annotations

import argparse
from datetime import date

from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN, SIGNING
from signoff.cli.passwords import PasswordReader
from signoff.domain.policy import RuleStatus


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser(
        "check",
        parents=[SIGNED_IN],
        description="Evaluate a policy file for a model version: validate and drift-compare its logs, "
        "take its latest recorded analyses, apply the stored waivers, and record the evaluation. "
        "Exit 0 when every rule passes or is waived (insufficient data does not block), 1 when a rule "
        "fails or required evidence is missing, 2 for bad input.",
    )
    check.add_argument(
        "--policy",
        required=True,
        metavar="FILE",
        help="policy YAML file, or the name of a shipped policy (default, lending-four-fifths, "
        "employment-nyc-ll144)",
    )
    check.add_argument("name", metavar="NAME", help="registered model name")
    check.add_argument("version", metavar="VERSION", help="model version")
    check.add_argument(
        "--log",
        type=int,
        action="append",
        metavar="ID",
        help="use only this log (repeatable; default: every log of the model version)",
    )
    check.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="judge waivers as of this day (default: today, UTC)",
    )
    add_json_flag(check)
    check.set_defaults(handler=run_check)

    waivers = subparsers.add_parser(
        "waivers",
        description="Waivers turn a failing rule into an accepted exception on the record, for one "
        "model version, until a date. They are never edited; grant a new one instead.",
    )
    commands = waivers.add_subparsers(dest="waivers_command", metavar="COMMAND", required=True)
    add = commands.add_parser(
        "add",
        parents=[SIGNING],
        help="grant a waiver (approver or administrator; asks for your password)",
        description="Grant a waiver for a rule of a policy, for one model version: a signed act of an "
        "approver or administrator, who types their password and signs it with their key. Recorded in the "
        "audit log with who granted it, why and until when; `signoff verify` checks its signature.",
    )
    add.add_argument("name", metavar="NAME", help="registered model name")
    add.add_argument("version", metavar="VERSION", help="model version")
    add.add_argument("--rule", required=True, metavar="ID", help="the rule's id in the policy file")
    add.add_argument(
        "--scope", default="*", help="attribute, group or column the waiver covers (default *: every scope)"
    )
    add.add_argument("--until", required=True, type=_day, metavar="YYYY-MM-DD", help="last day it applies")
    add.add_argument("--justification", required=True, metavar="TEXT", help="why the failure is accepted")
    add_json_flag(add)
    add.set_defaults(handler=run_waiver_add)

    listing = commands.add_parser(
        "list", help="list waivers", description="Every waiver of a model version, oldest first."
    )
    listing.add_argument("name", metavar="NAME", help="registered model name")
    listing.add_argument("version", metavar="VERSION", help="model version")
    add_json_flag(listing)
    listing.set_defaults(handler=run_waiver_list)


def _observed(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "-"
    text = f"{value:.4g}"
    if low is not None and high is not None:
        text += f" [{low:.4g}, {high:.4g}]"
    return text


def run_check(args: argparse.Namespace) -> int:
    from signoff.services.policy import check_policy

    with open_db(args) as db:
        check = check_policy(
            db,
            name=args.name,
            version=args.version,
            policy_file=args.policy,
            log_ids=args.log,
            today=args.date,
            actor=actor(args),
        )
    if args.json:
        print_json(check.to_dict())
        return check.exit_code
    evaluation = check.evaluation
    print(
        f"policy {check.policy.name} (sha256 {check.policy.version[:12]}) for {check.model_version.name} "
        f"version {check.model_version.version}: {evaluation.status.value.upper()}"
    )
    if evaluation.verdicts:
        print_table(
            [
                [
                    v.rule.id,
                    v.scope,
                    v.status.value,
                    _observed(v.value, v.ci_low, v.ci_high),
                    f"{v.rule.on.value} {v.rule.operator.value} {v.rule.threshold:g}",
                    v.reason,
                ]
                for v in evaluation.verdicts
            ],
            ["RULE", "SCOPE", "STATUS", "OBSERVED [95% CI]", "REQUIRED", "WHY"],
        )
    for analysis in evaluation.missing_analyses:
        print(f"missing: no {analysis} analysis of this model version; the policy requires one")
    counts = ", ".join(f"{evaluation.count(s)} {s.value}" for s in RuleStatus if evaluation.count(s))
    print(f"{counts or 'no rules'}; evaluation recorded as analysis run {check.run.id}")
    return check.exit_code


def run_waiver_add(args: argparse.Namespace) -> int:
    from signoff.services.policy import add_waiver

    with open_db(args) as db:
        password = PasswordReader(args.password_stdin).read(
            f"password for {args.signer} (granting a waiver): "
        )
        waiver = add_waiver(
            db,
            username=args.signer,
            password=password,
            name=args.name,
            version=args.version,
            rule_id=args.rule,
            scope=args.scope,
            until=args.until,
            justification=args.justification,
        )
    if args.json:
        print_json(waiver.to_dict())
    else:
        print(
            f"waiver {waiver.id}: rule {waiver.rule_id} at scope {waiver.scope} waived until "
            f"{waiver.until.isoformat()}, granted by {waiver.granted_by}"
        )
    return 0


def run_waiver_list(args: argparse.Namespace) -> int:
    from signoff.services.policy import list_waivers

    with open_db(args) as db:
        waivers = list_waivers(db, name=args.name, version=args.version)
    if args.json:
        print_json([w.to_dict() for w in waivers])
    elif not waivers:
        print(f"no waivers for {args.name} version {args.version}")
    else:
        print_table(
            [
                [str(w.id), w.rule_id, w.scope, w.until.isoformat(), w.granted_by, w.justification]
                for w in waivers
            ],
            ["ID", "RULE", "SCOPE", "UNTIL", "GRANTED BY", "JUSTIFICATION"],
        )
    return 0
