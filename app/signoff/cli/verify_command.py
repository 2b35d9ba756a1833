"""``signoff verify [REPORT.pdf]``: check the database (audit chain, signatures) or an exported report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from signoff.cli.common import add_json_flag, open_db, print_json
from signoff.domain.errors import InputError

EXIT_VERIFIED = 0
EXIT_PROBLEMS = 1

_MARK = {True: "ok  ", False: "FAIL", None: "n/a "}


def register(subparsers: argparse._SubParsersAction) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="check the audit log and every signature, or an exported report",
        description="Without an argument: recompute the audit log's hash chain, re-hash every evidence "
        "blob, analysis result and signed evidence bundle, check every signature, signed waiver and trust "
        "decision against its signer's audited keys and the audit log's record of it, and derive each "
        "review's state, each user's roles and keys, each waiver and each condition from the signed and "
        "audited events, naming every row that disagrees. With "
        "REPORT.pdf: check that the report's attached content has the hash printed on its cover, that its "
        "evidence bundle, its signatures and its export exist in the database and are valid, and that the "
        "review state and signature meanings it states follow from the signed events; also that its PAdES "
        "signature, attachments and sign-off signatures hold (with --offline, or no database at hand: the "
        "file alone). Exit 0 when all "
        "holds; exit 1 naming what does not.",
    )
    verify.add_argument("report", nargs="?", type=Path, metavar="REPORT.pdf", help="an exported audit report")
    verify.add_argument(
        "--quick",
        action="store_true",
        help="skip re-hashing every evidence blob (the verdict says so); everything else is checked",
    )
    verify.add_argument(
        "--offline",
        action="store_true",
        help="check REPORT.pdf with the file alone, without any database: its PAdES signature under the "
        "embedded workspace root (fingerprint printed on the cover), every attachment against the embedded "
        "manifest and every sign-off signature against its signer's embedded certificate. Chosen by itself when no "
        "database is named (--db, SIGNOFF_DB) and the default database file does not exist.",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.report is not None or args.offline:
        return _run_report(args)
    from signoff.services.verify import verify_database

    with open_db(args) as db:
        verdict = verify_database(db, quick=args.quick)
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
        if verdict.quick:
            print("evidence blobs: NOT re-hashed (--quick); run without --quick to re-hash every blob")
        else:
            print(f"evidence blobs re-hashed: {verdict.blobs_rehashed}")
        print(f"rows that disagree with their hash or their audited events: {len(verdict.row_problems)}")
        for row in verdict.row_problems:
            print(f"  {row}")
        quick = " (quick: evidence blobs not re-hashed)" if verdict.quick else ""
        print(("verified" if verdict.ok else "NOT verified") + quick)
    return EXIT_VERIFIED if verdict.ok else EXIT_PROBLEMS


def _no_database_at_hand(args: argparse.Namespace) -> bool:
    from signoff.storage.location import ENV_VAR, default_database_path

    return (
        not getattr(args, "db", None) and not os.environ.get(ENV_VAR) and not default_database_path().exists()
    )


def _run_report(args: argparse.Namespace) -> int:
    if args.offline and args.report is None:
        raise InputError("an offline check needs the report to check: signoff verify REPORT.pdf --offline")
    if args.offline or _no_database_at_hand(args):
        from signoff.services.report_offline import verify_report_offline  # no report builder loads

        verdict = verify_report_offline(args.report)
    else:
        from signoff.services.report import verify_report

        with open_db(args) as db:
            verdict = verify_report(db, args.report)
    if args.json:
        print_json(verdict.to_dict())
    else:
        for check in verdict.checks:
            print(f"{_MARK[check.ok]}  {check.name}: {check.detail}")
        failed = [c.name for c in verdict.checks if c.ok is False]
        print(
            f"report {verdict.path}: every check holds"
            if verdict.ok
            else f"report {verdict.path}: {len(failed)} check(s) FAILED: {'; '.join(failed)}"
        )
    return EXIT_VERIFIED if verdict.ok else EXIT_PROBLEMS
