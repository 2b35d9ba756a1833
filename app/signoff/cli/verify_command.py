"""``signoff verify``: check the audit chain and every electronic signature in the database."""

from __future__ import annotations

import argparse

from signoff.cli.common import add_json_flag, open_db, print_json
from signoff.services.verify import verify_database

EXIT_VERIFIED = 0
EXIT_PROBLEMS = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="check the audit log and every signature",
        description="Recompute the audit log's hash chain and check every signature against its signer's "
        "stored public key and the audit log's record of it. Exit 0 when all is intact; exit 1 naming "
        "what does not match.",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with open_db(args) as db:
        verdict = verify_database(db)
    if args.json:
        print_json(verdict.to_dict())
    else:
        chain = verdict.chain
        if chain.ok:
            print(f"audit log intact: {chain.events_checked} events, head hash {chain.head_hash}")
        else:
            print(f"audit log BROKEN at event {chain.first_bad_sequence}: {chain.reason}")
        print(f"signatures checked: {verdict.signatures_checked}, problems: {len(verdict.problems)}")
        for problem in verdict.problems:
            print(
                f"  signature {problem.signature_id} (review {problem.review_id}, {problem.signer}): {problem.problem}"
            )
    return EXIT_VERIFIED if verdict.ok else EXIT_PROBLEMS
