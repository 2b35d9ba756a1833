"""The exported report as an auditor gets it: PAdES-signed under the workspace root, PDF/A-3b, checkable alone.

The oracles are independent of Signoff's own checks: pyHanko's validator (trusting only the workspace
root read from the database), pikepdf (XMP metadata, output intent, attachments, its PDF/A validator),
poppler's pdftotext for the cover, and tampering done by hand with pyHanko and pikepdf.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from pikepdf import pdfa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from review_world import ANALYST
from signoff.domain.authority import ROOT
from signoff.services.audit import list_audit_events
from signoff.storage import open_database


def attachments_of(world_url: str) -> set[str]:
    """report.json, the count tables, the manifest, the root and one certificate per key the review's
    signatures name."""
    with open_database(world_url) as db, db.transaction(write=False) as uow:
        keys = {s.public_key_fingerprint for s in uow.reviews.iter_signatures()}
    return {
        "report.json",
        "count-tables.json",
        "evidence-manifest.json",
        "workspace-root.cer",
        *(f"signer-{k[:16]}.cer" for k in keys),
    }


NO_HEAVY_IMPORTS = "PySide6", "pandas", "shap", "sqlalchemy"  # the file alone: no database layer either


def workspace_root(url: str) -> bytes:
    """The root certificate as the database keeps it (the trust anchor an auditor is given separately)."""
    with open_database(url) as db, db.transaction(write=False) as uow:
        root = uow.authority.get(ROOT)
    assert root is not None
    return root.certificate_der


def pyhanko_status(data: bytes, root_der: bytes, index: int = 0):
    signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root_der)], allow_fetching=False, revocation_mode="soft-fail"
    )
    return validate_pdf_signature(signatures[index], context), len(signatures)


def verify_offline(path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict, list[str]]:
    """``signoff verify PATH --json`` in a fresh process: exit code, JSON, and the heavy modules it loaded."""
    script = (
        "import sys, io, contextlib\n"
        "from signoff.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['verify', sys.argv[1], '--json', *{list(extra)!r}])\n"
        f"heavy = sorted(m for m in {NO_HEAVY_IMPORTS!r} if m in sys.modules)\n"
        "print(code); print(','.join(heavy)); print(out.getvalue())\n"
    )
    app = str(Path(__file__).resolve().parents[2] / "app")
    base = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DB"}
    environment = {**base, "PYTHONPATH": app, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    code, heavy, output = done.stdout.split("\n", 2)
    return int(code), json.loads(output), [m for m in heavy.split(",") if m]


def failed(verdict: dict) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in verdict["checks"] if c["ok"] is False}


def test_pyhanko_finds_the_signature_intact_trusted_and_covering_the_whole_file(world, exported):
    path, _, text = exported
    root = workspace_root(world.url)
    status, count = pyhanko_status(path.read_bytes(), root)
    assert count == 1
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    # Signed on behalf of the exporting account, which the signature names.
    signature = PdfFileReader(io.BytesIO(path.read_bytes())).embedded_signatures[0].sig_object
    assert signature["/Name"] == ANALYST
    assert f"exported by {ANALYST}" in signature["/Reason"]
    # The cover prints the root's fingerprint, and the audit log recorded that root when it was made.
    fingerprint = hashlib.sha256(root).hexdigest()
    cover = re.sub(r"\s+", "", text.split("\f")[0])
    assert f"rootcertificate,SHA-256{fingerprint}" in cover
    with open_database(world.url) as db:
        created = list_audit_events(db, action="authority.created")
    assert [e.payload["root_sha256"] for e in created] == [fingerprint]


def test_the_file_is_pdfa_3b_with_its_attachments_associated(world, exported):
    path, _, _ = exported
    attachments = attachments_of(world.url)
    assert len(attachments) == 6  # bob's and carol's sign-off keys
    raw = path.read_bytes()
    assert re.match(rb"%PDF-1\.[4-7]", raw)  # PDF/A-3 is PDF 1.7 at most
    with pikepdf.open(path) as pdf:
        with pdf.open_metadata() as xmp:
            assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
        assert "/Version" not in pdf.Root or str(pdf.Root.Version).startswith("/1.")
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        profile = intent.DestOutputProfile
        assert int(profile.N) == 3
        assert profile.read_bytes()[16:20] == b"RGB "  # the ICC header's colour space
        assert set(pdf.attachments) == attachments
        associated = {str(spec.F): str(spec.AFRelationship) for spec in pdf.Root.AF}
        assert set(associated) == attachments
        assert associated["report.json"] == "/Data"
        root = pdf.attachments["workspace-root.cer"].get_file().read_bytes()
        x509.load_der_x509_certificate(root)  # a real certificate
    # pikepdf's allowlist validator finds no violation in the signed file (it cannot vouch for the
    # signature form and embedded files it does not parse: those are "unsupported", not violations).
    report = pdfa.validate_written(io.BytesIO(raw), "3b")
    assert [f for f in report.findings if f.kind == "violation"] == []


def test_offline_verify_holds_without_qt_pandas_or_shap_and_plain_verify_goes_offline(
    world, exported, tmp_path
):
    path, _, _ = exported
    attachments = attachments_of(world.url)
    code, verdict, heavy = verify_offline(path, "--offline")
    assert (code, verdict["ok"], heavy) == (0, True, [])
    names = [c["name"] for c in verdict["checks"]]
    assert "PAdES signature" in names
    assert "root certificate fingerprint (printed on the cover)" in names
    assert {
        f"attachment {name} matches the manifest" for name in attachments - {"evidence-manifest.json"}
    } <= set(names)
    assert "signature 2 (Carol Çelik, approved) verifies under its embedded certificate" in names
    # No --db, no SIGNOFF_DB and no default database file: the file alone is checked.
    code, plain, heavy = verify_offline(path, env={"XDG_DATA_HOME": str(tmp_path / "empty")})
    assert (code, heavy) == (0, [])
    assert [c["name"] for c in plain["checks"]] == names
    assert not (tmp_path / "empty").exists()  # no database was created on the way


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def byte_range(data: bytes) -> list[int]:
    return [int(n) for n in re.search(rb"/ByteRange\s*\[\s*([\d\s]+)\]", data).group(1).split()]


@pytest.mark.parametrize("where", ["first signed range", "second signed range", "signature padding"])
def test_one_changed_byte_anywhere_is_caught(world, exported, tmp_path, where):
    path, _, _ = exported
    raw = path.read_bytes()
    _, first, second, length = byte_range(raw)
    at = {
        "first signed range": first // 2,
        "second signed range": second + length // 2,
        "signature padding": second - 2,  # the last hex digit before ">": zero padding after the CMS
    }[where]
    changed = flip(raw, at)
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(changed)
    code, verdict, _ = verify_offline(tampered, "--offline")
    assert code == 1
    if where == "signature padding":
        # pyHanko ignores what follows the CMS object; Signoff's check of the container does not.
        assert pyhanko_status(changed, workspace_root(world.url))[0].intact
        assert (
            "bytes after the signature container (its padding) were changed"
            in failed(verdict)["PAdES signature"]
        )
    else:
        try:
            refused = not pyhanko_status(changed, workspace_root(world.url))[0].intact
        except PdfReadError:  # the byte broke the file's structure: pyHanko cannot even read it
            refused = True
        assert refused
        assert failed(verdict)["PAdES signature"]


def other_authority() -> tuple[bytes, bytes]:
    """A certificate and key that do not come from the workspace: (certificate DER, PKCS#8 key DER)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mallory")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.DER), private


def sign_with(data: bytes, certificate: bytes, key: bytes) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore(),
    )
    metadata = signers.PdfSignatureMetadata(field_name="Mallory", md_algorithm="sha256")
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), metadata, signer=signer).getvalue()


@pytest.mark.parametrize("how", ["signature replaced", "second signature added"])
def test_a_signature_by_another_key_is_caught(world, exported, tmp_path, how):
    path, _, _ = exported
    raw = path.read_bytes()
    certificate, key = other_authority()
    # Replaced: the document as it was before signing (its first revision), signed by someone else.
    base = raw[: raw.index(b"%%EOF") + len(b"%%EOF")] + b"\n" if how == "signature replaced" else raw
    resigned = sign_with(base, certificate, key)
    (tmp_path / "resigned.pdf").write_bytes(resigned)
    code, verdict, _ = verify_offline(tmp_path / "resigned.pdf", "--offline")
    assert code == 1
    problem = failed(verdict)["PAdES signature"]
    root = workspace_root(world.url)
    if how == "signature replaced":
        assert not pyhanko_status(resigned, root)[0].trusted
        assert "(Mallory) does not chain to the embedded workspace root" in problem
    else:
        first, count = pyhanko_status(resigned, root)
        assert count == 2 and first.coverage != SignatureCoverageLevel.ENTIRE_FILE
        assert "carries 2 signatures, not one" in problem


def test_a_signer_certificate_from_another_authority_is_named(world, exported, tmp_path):
    """An attacker puts in a certificate for carol's name over their own key, issued by their own root,
    and saves the file again."""
    path, _, _ = exported
    with open_database(world.url) as db, db.transaction(write=False) as uow:
        carol = next(s for s in uow.reviews.iter_signatures() if s.signer == "carol").public_key_fingerprint
    attachment = f"signer-{carol[:16]}.cer"
    forged = forged_certificate("carol")
    tampered = tmp_path / "forged.pdf"
    with pikepdf.open(path) as pdf:
        pdf.attachments[attachment].obj.EF.F.write(forged)
        pdf.save(tampered)
    code, verdict, _ = verify_offline(tampered, "--offline")
    problems = failed(verdict)
    assert code == 1
    assert "the manifest states" in problems[f"attachment {attachment} matches the manifest"]
    assert problems["signature 2 (Carol Çelik, approved) verifies under its embedded certificate"] == (
        f"{attachment} was not issued by the embedded workspace root"
    )
    assert "PAdES signature" in problems


def forged_certificate(username: str) -> bytes:
    """A certificate naming ``username`` over a fresh Ed25519 key, signed by a root that is not the workspace's."""
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, username)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Signoff workspace root")]))
        .public_key(Ed25519PrivateKey.generate().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(issuer_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def test_a_removed_page_is_caught(exported, tmp_path):
    path, _, _ = exported
    shorter = tmp_path / "shorter.pdf"
    with pikepdf.open(path) as pdf:
        del pdf.pages[-1]
        pdf.save(shorter)
    code, verdict, _ = verify_offline(shorter, "--offline")
    assert code == 1
    assert "PAdES signature" in failed(verdict)


def test_a_damaged_root_certificate_is_named_not_a_traceback(exported, tmp_path):
    path, _, _ = exported
    damaged = tmp_path / "damaged-root.pdf"
    with pikepdf.open(path) as pdf:
        pdf.attachments["workspace-root.cer"].obj.EF.F.write(b"not a certificate")
        pdf.save(damaged)
    code, verdict, _ = verify_offline(damaged, "--offline")
    problems = failed(verdict)
    assert code == 1
    assert problems["PAdES signature"].startswith("the signature cannot be validated")
    assert (
        "the embedded root certificate is" in problems["root certificate fingerprint (printed on the cover)"]
    )
    assert "workspace-root.cer matches the manifest" in " ".join(problems)
