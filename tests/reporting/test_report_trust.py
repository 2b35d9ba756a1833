"""Who signs the PDF: the workspace CA made at first start with its keys encrypted outside the database, the
exporter's own certificate (--sign-as-me), and an organisation's CA imported from a PKCS#12 file.

Oracles: pyHanko's validator trusting only the root the test expects (read from the database, or the
organisation root the test generated itself with cryptography), cryptography reading the stored keys,
pikepdf's PDF/A validator, and the file system's permission bits.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pikepdf import pdfa
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from report_world import NAME, VERSION
from test_signed_report import workspace_root

from review_world import ANALYST, ANALYST_PASSWORD, PASSWORDS, analyst_token
from signoff.domain.audit_wording import describe
from signoff.domain.authority import DOCUMENT_SIGNING, ROOT
from signoff.domain.errors import InputError, PermissionDenied
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.audit import list_audit_events
from signoff.services.authority import (
    PASSPHRASE_VARIABLE,
    authority_summary,
    document_signing,
    personal_signing,
)
from signoff.services.authority import import_ca as import_ca_service
from signoff.services.report import export_report
from signoff.services.report_offline import verify_report_offline
from signoff.storage import open_database

APP = Path(__file__).resolve().parents[2] / "app"
ADMIN_PASSWORD = "first admin password 9"
P12_PASSWORD = "organisation p12 password"


def cli(url: str, *args: str, stdin: str = "", token: str | None = None, env: dict | None = None):
    environment = {**os.environ, "PYTHONPATH": str(APP), **(env or {})}
    if token is not None:
        environment["SIGNOFF_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "signoff", "--db", url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def copy_world(world, folder: Path) -> str:
    target = folder / "copy.db"
    shutil.copyfile(world.url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def pyhanko_status(data: bytes, root_der: bytes):
    (signature,) = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root_der)], allow_fetching=False, revocation_mode="soft-fail"
    )
    return validate_pdf_signature(signature, context), signature


def show(url: str) -> dict:
    done = cli(url, "authority", "show", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ------------------------------------------------------------------------------- first start, encryption


def test_first_start_makes_the_ca_with_keys_encrypted_under_a_0600_file_and_a_copy_cannot_sign(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(PASSPHRASE_VARIABLE)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with open_database(url) as db:
        users.add_user(
            db,
            None,
            username="ann",
            full_name="Ann Admin",
            email="ann@example.org",
            roles=frozenset({Role.ADMIN}),
            password=ADMIN_PASSWORD,
        )
        (created,) = list_audit_events(db, action="authority.created")
        with db.transaction(write=False) as uow:
            root, signing = uow.authority.get(ROOT), uow.authority.get(DOCUMENT_SIGNING)
    key_file = tmp_path / "new.db.signing-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    passphrase = key_file.read_text().strip().encode()
    for stored in (root, signing):
        with pytest.raises(TypeError):  # encrypted: unreadable without the passphrase
            serialization.load_der_private_key(stored.private_key_der, password=None)
        serialization.load_der_private_key(stored.private_key_der, password=passphrase)
    fingerprint = hashlib.sha256(root.certificate_der).hexdigest()
    assert created.actor == "ann" and created.payload["root_sha256"] == fingerprint
    assert fingerprint in describe(created)  # the audit trail in words names the root
    assert show(url)["root_sha256"] == fingerprint

    # The database copied without its key file: it refuses to sign, naming the missing file.
    (tmp_path / "copy").mkdir()
    shutil.copyfile(tmp_path / "new.db", tmp_path / "copy" / "new.db")
    with open_database(f"sqlite:///{tmp_path / 'copy' / 'new.db'}") as copy:
        with pytest.raises(PermissionDenied, match=r"cannot sign reports.*new\.db\.signing-key.*not there"):
            document_signing(copy, actor="ann")
        # Another database's passphrase does not open these keys either.
        monkeypatch.setenv(PASSPHRASE_VARIABLE, "some other workspace's passphrase")
        with pytest.raises(PermissionDenied, match="does not open the root key"):
            document_signing(copy, actor="ann")


def test_keys_stored_unencrypted_by_the_previous_release_are_encrypted_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv(PASSPHRASE_VARIABLE)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with open_database(url) as db:
        authority = document_signing(db, actor="ann")  # made without a user, as the first export did
        # What document_signing hands out: the keys decrypted in memory, PKCS#8 in the clear.
        plain = {ROOT: authority.root.private_key_der, DOCUMENT_SIGNING: authority.signing.private_key_der}
    # The 0011 release: the same rows with the keys in the clear, and no key file.
    with open_database(url) as db, db.transaction() as uow:
        for role, key in plain.items():
            uow.authority.encrypt_private_key(role, key)
    (tmp_path / "old.db.signing-key").unlink()
    with open_database(url) as db:
        again = document_signing(db, actor="ann")
        (event,) = list_audit_events(db, action="authority.keys_encrypted")
        with db.transaction(write=False) as uow:
            stored = uow.authority.get(ROOT)
    assert again.root.certificate_der == authority.root.certificate_der
    assert sorted(event.payload["roles"]) == [DOCUMENT_SIGNING, ROOT]
    with pytest.raises(TypeError):
        serialization.load_der_private_key(stored.private_key_der, password=None)
    assert (tmp_path / "old.db.signing-key").exists()


def test_a_report_export_without_the_passphrase_is_refused_and_writes_nothing(world, tmp_path):
    url = copy_world(world, tmp_path)
    out = tmp_path / "report.pdf"
    token = analyst_token(url)
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_VARIABLE}
    done = subprocess.run(
        [sys.executable, "-m", "signoff", "--db", url, "report", NAME, VERSION, "--out", str(out)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(APP), "SIGNOFF_TOKEN": token},
        check=False,
    )
    assert done.returncode == 4
    assert "cannot sign reports" in done.stderr and "copy.db.signing-key" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


# ------------------------------------------------------------------------------- the exporter's own key


def test_sign_as_me_names_the_person_chains_to_the_workspace_root_and_stays_pdfa(world, tmp_path):
    url = copy_world(world, tmp_path)
    out = tmp_path / "mine.pdf"
    done = cli(
        url,
        "report",
        NAME,
        VERSION,
        "--out",
        str(out),
        "--sign-as-me",
        "--password-stdin",
        stdin=ANALYST_PASSWORD + "\n",
        token=analyst_token(url),
    )
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    status, signature = pyhanko_status(raw, workspace_root(url))
    assert status.intact and status.valid and status.trusted
    subject = signature.signer_cert.subject.native
    assert (subject["common_name"], subject["user_id"]) == ("Ann Analyst", ANALYST)
    assert "signed by analyst with their own certificate" in str(signature.sig_object["/Reason"])
    assert [f for f in pdfa.validate_written(io.BytesIO(raw), "3b").findings if f.kind == "violation"] == []
    assert raw.startswith(b"%PDF-1.")
    with open_database(url) as db:
        (issued,) = list_audit_events(db, action="authority.personal_certificate_issued")
    assert issued.payload["certificate_sha256"] == hashlib.sha256(signature.signer_cert.dump()).hexdigest()
    # A wrong password signs nothing.
    with open_database(url) as db, pytest.raises(PermissionDenied, match="wrong username or password"):
        export_report(
            db,
            name=NAME,
            version=VERSION,
            out=tmp_path / "wrong.pdf",
            actor=ANALYST,
            sign_as_me_password="not my password at all",
        )
    assert not (tmp_path / "wrong.pdf").exists()


def test_a_password_change_gets_a_new_personal_certificate_and_a_service_account_none(world, tmp_path):
    url = copy_world(world, tmp_path)
    with open_database(url) as db:
        first = personal_signing(db, "carol", PASSWORDS["carol"]).signing.certificate_der
        assert personal_signing(db, "carol", PASSWORDS["carol"]).signing.certificate_der == first
        # The key was sealed under the old password, which no longer opens it: a new certificate follows.
        users.change_password(db, "carol", PASSWORDS["carol"], "carol's new password 4")
        second = personal_signing(db, "carol", "carol's new password 4").signing.certificate_der
        assert second != first
        issued = list_audit_events(db, action="authority.personal_certificate_issued")
        assert sorted(e.payload["certificate_sha256"] for e in issued) == sorted(
            hashlib.sha256(c).hexdigest() for c in (first, second)
        )

        admin = next(u for u in users.list_users(db) if Role.ADMIN in u.roles)
        users.add_user(
            db,
            admin,
            username="pipeline",
            full_name="CI pipeline",
            email="ci@example.org",
            roles=frozenset({Role.SERVICE}),
            password="pipeline password 1",
        )
        with pytest.raises(PermissionDenied, match="service account"):
            personal_signing(db, "pipeline", "pipeline password 1")


# ------------------------------------------------------------------------------- an organisation's CA


def _certificate(subject, issuer, public_key, signing_key, *, ca, days=(-1, 365)):
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Bank"),
        ]
    )


def organisation_p12(
    *, ca: bool = True, expired: bool = False, intermediate: bool = False
) -> tuple[bytes, bytes]:
    """A PKCS#12 file of an organisation CA (ECDSA root, RSA issuing CA below it when ``intermediate``)
    and the organisation's root certificate (DER)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    days = (-400, -10) if expired else (-1, 365)
    root = _certificate(
        _name("Acme Root CA"), _name("Acme Root CA"), root_key.public_key(), root_key, ca=ca, days=days
    )
    key, certificate, chain = root_key, root, None
    if intermediate:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = _certificate(
            _name("Acme Issuing CA"), root.subject, key.public_key(), root_key, ca=True
        )
        chain = [root]
    data = pkcs12.serialize_key_and_certificates(
        b"acme",
        key,
        certificate,
        chain,
        serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
    )
    return data, root.public_bytes(serialization.Encoding.DER)


def import_ca(url: str, path: Path, file_password: str = P12_PASSWORD):
    return cli(
        url,
        "authority",
        "import-ca",
        str(path),
        "--user",
        ANALYST,
        "--password-stdin",
        "--json",
        stdin=f"{file_password}\n{ANALYST_PASSWORD}\n",
    )


def test_import_ca_refuses_a_bad_pkcs12_and_leaves_the_database_as_it_was(world, tmp_path):
    url = copy_world(world, tmp_path)
    analyst_token(url)  # the analyst account exists, an administrator
    with open_database(url) as db:
        before = authority_summary(db)
    cases = {
        "wrong password, or not a PKCS#12 file": (organisation_p12()[0], "guess"),
        "is not a certificate authority": (organisation_p12(ca=False)[0], P12_PASSWORD),
        "cannot issue certificates now": (organisation_p12(expired=True)[0], P12_PASSWORD),
    }
    for message, (data, file_password) in cases.items():
        with open_database(url) as db, pytest.raises(InputError, match=message):
            import_ca_service(
                db,
                username=ANALYST,
                password=ANALYST_PASSWORD,
                pkcs12_data=data,
                pkcs12_password=file_password,
            )
    (tmp_path / "acme.p12").write_bytes(organisation_p12()[0])
    done = import_ca(url, tmp_path / "acme.p12", "guess")
    assert done.returncode == 2
    assert "wrong password, or not a PKCS#12 file" in done.stderr and "Traceback" not in done.stderr
    with open_database(url) as db:
        assert authority_summary(db) == before
        assert list_audit_events(db, action="authority.ca_imported") == []


@pytest.mark.parametrize("intermediate", [False, True], ids=["organisation root", "issuing CA below it"])
def test_an_imported_organisation_ca_signs_reports_that_chain_to_the_organisation_root(
    world, tmp_path, intermediate
):
    url = copy_world(world, tmp_path)
    analyst_token(url)
    data, organisation_root = organisation_p12(intermediate=intermediate)
    (tmp_path / "acme.p12").write_bytes(data)
    done = import_ca(url, tmp_path / "acme.p12")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["root_sha256"] == hashlib.sha256(organisation_root).hexdigest()
    out = tmp_path / "acme.pdf"
    with open_database(url) as db:
        export_report(
            db, name=NAME, version=VERSION, out=out, actor=ANALYST, sign_as_me_password=ANALYST_PASSWORD
        )
    raw = out.read_bytes()
    status, signature = pyhanko_status(raw, organisation_root)
    assert status.intact and status.valid and status.trusted
    assert signature.signer_cert.subject.native["common_name"] == "Ann Analyst"
    assert not pyhanko_status(raw, workspace_root(url))[0].trusted  # the workspace's own root no longer
    cover = subprocess.run(
        ["pdftotext", "-l", "1", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    printed = hashlib.sha256(organisation_root).hexdigest()
    assert " ".join(cover.split()).count(f"under the organisation root certificate, SHA-256 {printed}") == 1
    assert "workspace root" not in cover
    verdict = verify_report_offline(out)
    assert verdict.ok, [c for c in verdict.checks if c.ok is False]
    assert "signature 2 (Carol Çelik, approved) verifies under its embedded certificate" in [
        c.name for c in verdict.checks if c.ok
    ]
    with open_database(url) as db:
        (event,) = list_audit_events(db, action="authority.ca_imported")
        from signoff.services.signed_acts import verify_signed_acts

        assert verify_signed_acts(db) == []
    assert event.payload["manifest"]["root_sha256"] == hashlib.sha256(organisation_root).hexdigest()


def test_on_a_team_database_the_passphrase_comes_from_the_environment(postgres_server, monkeypatch):
    url = postgres_server.create_database("signoff_template")
    monkeypatch.delenv(PASSPHRASE_VARIABLE)
    with open_database(url) as db:
        # No passphrase at the first administrator: the authority waits for the first export...
        users.add_user(
            db,
            None,
            username="ann",
            full_name="Ann Admin",
            email="ann@example.org",
            roles=frozenset({Role.ADMIN}),
            password=ADMIN_PASSWORD,
        )
        assert list_audit_events(db, action="authority.created") == []
        # ...which refuses, saying what to set, and stores nothing.
        with pytest.raises(PermissionDenied, match=f"set {PASSPHRASE_VARIABLE}"):
            document_signing(db, actor="ann")
        assert list_audit_events(db, action="authority.created") == []
        monkeypatch.setenv(PASSPHRASE_VARIABLE, "the team's passphrase")
        made = document_signing(db, actor="ann")
        with db.transaction(write=False) as uow:
            stored = uow.authority.get(ROOT)
    serialization.load_der_private_key(stored.private_key_der, password=b"the team's passphrase")
    assert stored.certificate_der == made.root.certificate_der
