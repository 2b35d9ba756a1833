"""``signoff authority show`` (the root a report is checked against) and ``signoff authority import-ca``
(an organisation's CA from a PKCS#12 file becomes the issuer of the workspace's certificates)."""

from __future__ import annotations

import argparse
from pathlib import Path

from signoff.cli.common import add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNING
from signoff.cli.passwords import PasswordReader
from signoff.domain.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "authority",
        description="The certificate authority whose document-signing certificate PAdES-signs every "
        "exported report. Its root certificate's SHA-256 fingerprint is printed on each report's cover.",
    )
    commands = group.add_subparsers(dest="authority_command", metavar="COMMAND", required=True)

    show = commands.add_parser(
        "show",
        help="show the root certificate's fingerprint and who issues the signing certificates",
        description="Show the root a report's signature chains to (its SHA-256 fingerprint, as the cover "
        "prints it), the issuing CA (the workspace's own, or an imported organisation CA), and where the "
        "key-encryption passphrase comes from.",
    )
    add_json_flag(show)
    show.set_defaults(handler=run_show)

    import_ca = commands.add_parser(
        "import-ca",
        parents=[SIGNING],
        help="make an organisation CA (PKCS#12) the issuer of the workspace's certificates (administrator)",
        description="Import an organisation's certificate authority from a PKCS#12 file holding the CA "
        "certificate, its private key and, if the CA is not itself the root, the root that issued it. "
        "The CA then issues the document-signing and personal certificates, and reports embed the "
        "organisation's root. A signed act of an administrator, recorded in the audit log. Passwords: "
        "the PKCS#12 file's, then yours (with --password-stdin: one per line).",
    )
    import_ca.add_argument("file", metavar="FILE.p12", type=Path, help="the CA's PKCS#12 file")
    add_json_flag(import_ca)
    import_ca.set_defaults(handler=run_import_ca)


def _print_summary(summary) -> None:
    print(f"root SHA-256:             {summary.root_sha256}")
    print(f"root:                     {summary.root_subject}")
    print(f"issuer:                   {summary.issuer} ({summary.issuer_subject})")
    print(f"document signing SHA-256: {summary.document_signing_sha256}")
    print(f"created:                  {summary.created_at.isoformat()} by {summary.created_by}")
    encrypted = "encrypted" if summary.keys_encrypted else "NOT encrypted (encrypted at the next export)"
    print(f"private keys:             {encrypted}; passphrase from {summary.passphrase_source}")


def run_show(args: argparse.Namespace) -> int:
    from signoff.services.authority import authority_summary

    with open_db(args) as db:
        summary = authority_summary(db)
    if args.json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
    return 0


def run_import_ca(args: argparse.Namespace) -> int:
    from signoff.services.authority import import_ca

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the PKCS#12 file {str(args.file)!r}: {error.strerror}") from None
    reader = PasswordReader(args.password_stdin)
    with open_db(args) as db:
        file_password = reader.read(f"password of {args.file.name} (empty if none): ")
        password = reader.read(f"password for {args.signer} (importing the CA): ")
        summary = import_ca(
            db, username=args.signer, password=password, pkcs12_data=data, pkcs12_password=file_password
        )
    if args.json:
        print_json(summary.to_dict())
    else:
        print(f"imported the organisation CA {summary.issuer_subject}")
        _print_summary(summary)
    return 0
