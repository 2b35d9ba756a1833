"""``signoff report NAME VERSION --out FILE.pdf``: export the audit report of a model version."""

from __future__ import annotations

import argparse
from pathlib import Path

from signoff.cli.common import StatusLine, actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN
from signoff.cli.passwords import PasswordReader


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report",
        parents=[SIGNED_IN],
        description="Write the compliance audit report of a model version as a PDF: policy verdicts, data, "
        "performance, fairness, explanations, drift, findings, the signature manifest and the audit trail, "
        "with its content attached as report.json. Bound to the given review, else the version's latest "
        "review. The same evidence always gives the same bytes; the export is recorded in the audit log. "
        "Check a report later with `signoff verify FILE.pdf`.",
    )
    report.add_argument("name", metavar="NAME", help="registered model name")
    report.add_argument("version", metavar="VERSION", help="model version")
    report.add_argument("--review", type=int, metavar="ID", help="the review to report (default: the latest)")
    report.add_argument(
        "-o", "--out", required=True, type=Path, metavar="FILE.pdf", help="where to write the PDF"
    )
    report.add_argument(
        "--sign-as-me",
        action="store_true",
        help="sign the PDF with your own certificate from the workspace CA (your password is asked again; "
        "with --password-stdin, the next line) instead of the workspace key on your behalf",
    )
    add_json_flag(report)
    report.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from signoff.services.report import export_report  # reportlab and pypdf load only for this command

    with StatusLine() as progress, open_db(args) as db:
        own_password = None
        if args.sign_as_me:
            own_password = PasswordReader(args.password_stdin).read(
                f"password for {actor(args)} (signing the report as yourself): "
            )
        exported = export_report(
            db,
            name=args.name,
            version=args.version,
            out=args.out,
            actor=actor(args),
            review_id=args.review,
            progress=progress,
            sign_as_me_password=own_password,
        )
    if args.json:
        print_json(exported.to_dict())
        return 0
    print(f"report written: {exported.path}")
    print(f"sha256:    {exported.sha256}")
    print(f"report id: {exported.report_id}")
    print(f"pages:     {exported.pages}")
    print(f"bundle:    {exported.bundle_hash or 'none (no review)'}")
    return 0
