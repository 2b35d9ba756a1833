"""Sign a finished report with a PAdES signature (pyHanko) and check one, with the file alone.

Signing is the last step, after the PDF/A conversion, so the signature covers every byte an auditor
reads. The check trusts only the root certificate it is given (the one embedded in the report, whose
fingerprint the cover prints): pyHanko's validator says whether the signed bytes are intact, whether the
signer's certificate chains to that root, and whether anything was appended after signing.
"""

from __future__ import annotations

import binascii
import io
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

SIGNATURE_FIELD = "SignoffReportSignature"
PADES_CHECK = "PAdES signature"


@dataclass(frozen=True)
class PadesVerdict:
    """What the PAdES check found: ``problems`` empty means intact, trusted and covering the whole file."""

    problems: tuple[str, ...]
    signer: str  # the signing certificate's subject, or "" when none could be read
    signed_by: str  # the name the signature states (the exporting account)
    reason: str

    @property
    def ok(self) -> bool:
        return not self.problems


def sign_report(
    pdf: bytes,
    *,
    certificate_der: bytes,
    private_key_der: bytes,
    chain_der: tuple[bytes, ...],
    name: str,
    reason: str,
) -> bytes:
    """``pdf`` with a PAdES baseline signature by ``certificate_der`` appended as an incremental update;
    ``chain_der`` (the issuing CA up to the root) travels in the signature so a validator can build the path."""
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(private_key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in chain_der]),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=name,
        reason=reason,
        location="Signoff",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


def check_signature(pdf: bytes, root_der: bytes) -> PadesVerdict:
    """Validate the report's one PAdES signature against ``root_der`` as the only trusted root."""
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except (PdfError, ValueError, KeyError) as error:
        return PadesVerdict((f"the PDF's signature cannot be read ({error})",), "", "", "")
    if not signatures:
        return PadesVerdict(("the PDF carries no PAdES signature",), "", "", "")
    problems: list[str] = []
    if len(signatures) > 1:
        problems.append(
            f"the PDF carries {len(signatures)} signatures, not one: it was signed again after export"
        )
    embedded = signatures[0]
    signer = signed_by = reason = ""
    try:
        stated = embedded.sig_object
        signed_by, reason = str(stated.get("/Name", "")), str(stated.get("/Reason", ""))
        signer = _common_name(embedded.signer_cert)
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(root_der)],
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        status = validate_pdf_signature(embedded, context)
    except (PdfError, ValueError, KeyError, TypeError) as error:  # a damaged signature or root certificate
        return PadesVerdict(
            (*problems, f"the signature cannot be validated ({error})"), signer, signed_by, reason
        )
    if not status.intact:
        problems.append("the signed bytes were changed after signing: their digest no longer matches")
    elif not status.valid:
        problems.append("the signature value does not verify under the signing certificate's key")
    elif not status.trusted:  # only meaningful for intact bytes: a broken digest also fails the trust check
        problems.append(
            f"the signing certificate ({signer or 'unknown'}) does not chain to the embedded workspace root"
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append(
            "the signature does not cover the whole file: bytes were added after signing "
            f"({status.coverage.name.lower().replace('_', ' ')})"
        )
    problems += _container_problems(pdf, embedded)
    return PadesVerdict(tuple(problems), signer, signed_by, reason)


def _common_name(certificate: asn1_x509.Certificate | None) -> str:
    if certificate is None:
        return ""
    return str(certificate.subject.native.get("common_name") or certificate.subject.human_friendly)


def _container_problems(pdf: bytes, embedded: EmbeddedPdfSignature) -> list[str]:
    """The parts of the signature container no signature covers: its padding and its algorithm list.

    Without this, a byte changed in the zero padding after the CMS object, or in its unsigned list of
    digest algorithms, would go unnoticed, and "one byte changed anywhere" would not always be caught.
    """
    problems = []
    _, first_length, second_start, _ = embedded.byte_range
    gap = pdf[first_length:second_start].strip()
    try:
        container = binascii.unhexlify(gap[1:-1]) if gap[:1] == b"<" and gap[-1:] == b">" else b""
        _, _, _, header, body, _ = asn1_parser.parse(container)
    except (binascii.Error, ValueError) as error:
        return [f"the signature container is not readable hexadecimal DER ({error})"]
    if container[len(header) + len(body) :].strip(b"\x00"):
        problems.append("bytes after the signature container (its padding) were changed")
    signed_data = embedded.signed_data
    used = {info["digest_algorithm"]["algorithm"].native for info in signed_data["signer_infos"]}
    listed = {algorithm["algorithm"].native for algorithm in signed_data["digest_algorithms"]}
    if used != listed:
        problems.append(
            f"the signature container lists digest algorithms {sorted(listed)}, its signer used {sorted(used)}"
        )
    return problems
