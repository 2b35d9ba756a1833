"""``signoff report`` and ``signoff verify FILE.pdf`` end to end on a real workspace built through the services.

The PDF is read back with poppler's ``pdftotext`` and ``pdffonts``; the expected numbers are the hand-computed
fairness table in ``report_world``, the signers and the finding are what the world's users typed.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import pikepdf
import pytest
from report_world import EXPECTED, FINDING, NAME, RESOLUTION, VERSION, pdf_text
from scipy.stats import binomtest

from signoff.services import reviews
from signoff.services.audit import list_audit_events
from signoff.services.fairness import analyze_fairness
from signoff.storage import open_database

APP = Path(__file__).resolve().parents[2] / "app"
SECTION_TITLES = (
    "Cover",
    "Summary",
    "Inventory record",
    "Lineage",
    "Data",
    "Performance",
    "Fairness",
    "Explainability",
    "Drift and monitoring",
    "Findings and waivers",
    "Signature manifest",
    "Audit trail",
    "Appendix: regulatory mapping",
)


def lines_with(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if all(n in line for n in needles)]


def test_export_prints_path_hash_id_and_pages(exported):
    path, stdout, _ = exported
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"report written: {path}" in stdout
    assert f"sha256:    {digest}" in stdout
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    count = re.search(r"^Pages:\s+(\d+)", pages, re.M).group(1)
    assert f"pages:     {count}" in stdout
    assert re.search(r"report id: RPT-[0-9a-f]{16}", stdout)


def test_every_section_heading_is_present_in_order(exported):
    _, _, text = exported
    body = text[text.index("\f") :]  # past the cover's contents list
    positions = [
        re.search(rf"^\s*{n}\s+{re.escape(title)}\s*$", body, re.M).start()
        for n, title in enumerate(SECTION_TITLES[1:], start=2)
    ]
    assert positions == sorted(positions)
    assert re.search(r"^\s*1\s+Cover\s*$", text, re.M)


@pytest.mark.parametrize("group", list(EXPECTED))
def test_hand_computed_counts_selection_rates_and_impact_ratios_are_printed(exported, group):
    _, _, text = exported
    n, rate, ratio = EXPECTED[group]
    fairness = text[text.index("Counts and selection rates by sex") :]
    row = [line for line in fairness.splitlines() if re.match(rf"\s*{group}\s+{n}\s", line)]
    assert row, group
    cells = re.split(r"\s{2,}", row[0].strip())
    assert cells[2] == rate, row
    assert cells[4] == (ratio if ratio is not None else "excluded"), row
    positives = round(float(rate) * n)
    wilson = binomtest(positives, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert cells[3] == f"[{wilson.low:.3f}, {wilson.high:.3f}]", row


def test_unknown_count_and_excluded_small_category_are_stated(exported):
    _, _, text = exported
    flat = re.sub(r"\s+", " ", text)
    assert "Unknown (missing value): 9 rows" in flat
    assert "excluded from the impact ratio as small categories: Other" in flat
    assert "reference group: Male" in flat


def words_in_order(phrase: str, text: str) -> bool:
    pattern = r"(?<!\S)" + r"(?!\S).*?(?<!\S)".join(map(re.escape, phrase.split())) + r"(?!\S)"
    return re.search(pattern, text) is not None


def test_findings_with_author_and_resolution_and_signature_manifest(world, exported):
    path, _, text = exported
    flat = re.sub(r"\s+", " ", text)
    cells = re.sub(r"\s+", " ", pdf_text(path, layout=False))  # each table cell's text in one piece
    findings = cells[cells.index("Findings of review") :]
    # A cell that wraps is read line by line between its neighbours' lines: its words, in order.
    assert words_in_order(FINDING, findings) and words_in_order(RESOLUTION, findings)
    assert lines_with(text, "1 limitation", "alice", "accepted")
    manifest = text[text.index("Electronic signatures") :]
    with open_database(world.url) as db:
        status = reviews.show(db, world.review_id)
    assert len(status.review.signatures) == 2
    for signature, role, meaning in zip(
        status.review.signatures, ("reviewer", "approver"), ("Reviewed", "Approved"), strict=True
    ):
        signed = signature.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        row = lines_with(manifest, signature.printed_name, role, meaning, signed, signature.bundle_hash[:24])
        assert row and row[0].rstrip().endswith("current"), (signature, row)
    assert "Signatures intact: every signature binds the current evidence bundle" in flat
    assert f"Model approved: yes, approved (review {world.review_id})" in flat
    assert "DRAFT" not in text  # an approved version's report carries no draft watermark


def test_each_runs_parameters_are_a_labelled_table_in_words(exported):
    """The world's fairness run: sensitive ("sex",), label y, prediction p, score column score, 200
    resamples, the default smallest group of 30 and the largest group as reference."""
    _, _, text = exported
    lineage = text[
        text.index("Parameters of run 1 (fairness)") : text.index("Parameters of run 2 (performance)")
    ]
    for label, value in (
        ("Sensitive attributes", "sex"),
        ("Label column", "y"),
        ("Prediction column", "p"),
        ("Score column", "score"),
        ("Bootstrap resamples", "200"),
        ("Smallest group size reported", "30"),
        ("Reference group", "the largest group"),
        ("Intersections of attributes", "yes"),
        ("Positive label", "not set"),
    ):
        assert re.search(rf"^\s*{re.escape(label)}\s+{re.escape(value)}\s*$", lineage, re.MULTILINE), label
    runs = text[text.index("Analysis runs cited") : text.index("Import snapshots and registry history")]
    assert not re.search(r"\w=|\['|\{|None|True|False", runs)  # no Python dictionaries, lists or literals


def test_every_font_is_embedded(exported):
    path, _, _ = exported
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = listing.splitlines()[2:]
    assert fonts, listing
    for line in fonts:
        # columns: name type encoding emb sub uni object ID; "emb" is the 4th from the end of the flags
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line), line


def signed_revision(raw: bytes) -> bytes:
    """The document as it was signed: everything up to the end of the first revision (pikepdf writes one)."""
    return raw[: raw.index(b"%%EOF") + len(b"%%EOF")]


def test_a_second_export_is_identical_until_its_own_signature_and_the_export_is_an_audit_event(
    world, exported, signed_in_cli, tmp_path
):
    path, _, _ = exported
    again = tmp_path / "again.pdf"
    done = signed_in_cli("report", NAME, VERSION, "--out", str(again), db=world.url)
    assert done.returncode == 0, done.stderr
    assert signed_revision(again.read_bytes()) == signed_revision(path.read_bytes())
    assert again.read_bytes() != path.read_bytes()  # each export carries its own signature and signing time
    with open_database(world.url) as db:
        events = list_audit_events(db, action="report.exported")
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (path, again)}
    assert digests <= {e.payload["file_sha256"] for e in events}
    assert events[0].payload["file_sha256"] == hashlib.sha256(again.read_bytes()).hexdigest()
    assert events[0].entity == f"model_version:{world.model_version_id}"
    assert events[0].payload["file_name"] == "again.pdf"
    assert not list(tmp_path.glob(".*.part"))  # the temporary file was moved, not left behind


def test_verify_passes_then_fails_naming_the_attachment_after_one_byte_changes(
    world, exported, signed_in_cli, tmp_path
):
    path, _, _ = exported
    ok = signed_in_cli("verify", str(path), db=world.url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "every check holds" in ok.stdout
    assert "signature 2 (Carol Çelik, approved) exists and is valid" in ok.stdout
    # One byte of report.json changed the way a PDF editor would: the attachment rewritten, the file saved.
    tampered = tmp_path / "tampered.pdf"
    with pikepdf.open(path) as pdf:
        stream = pdf.attachments["report.json"].obj.EF.F
        content = stream.read_bytes()
        marker = b'"title":"Cover"'
        assert content.count(marker) == 1
        stream.write(content.replace(marker, b'"title":"Covex"'))
        pdf.save(tampered)
    bad = signed_in_cli("verify", str(tampered), db=world.url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL  content hash (document information)" in bad.stdout
    assert "FAIL  content hash (printed on the cover)" in bad.stdout
    assert "FAIL  PAdES signature: " in bad.stdout
    assert "FAIL  attachment report.json matches the manifest: its SHA-256 is" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_database_verify_without_argument_still_works(world, signed_in_cli):
    done = signed_in_cli("verify", db=world.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit log intact" in done.stdout


def test_user_mistakes_get_a_clear_error_and_change_nothing(world, signed_in_cli, tmp_path):
    signed_in_cli("report", NAME, "99", "--out", str(tmp_path / "x.pdf"), db=world.url)  # signs in first
    with open_database(world.url) as db:
        before = len(list_audit_events(db))
    missing = signed_in_cli("report", NAME, "99", "--out", str(tmp_path / "x.pdf"), db=world.url)
    assert (
        missing.returncode == 2 and "not registered" in missing.stderr and "Traceback" not in missing.stderr
    )
    review = signed_in_cli(
        "report", NAME, VERSION, "--review", "42", "--out", str(tmp_path / "x.pdf"), db=world.url
    )
    assert review.returncode == 2 and "no review 42" in review.stderr
    folder = signed_in_cli("report", NAME, VERSION, "--out", str(tmp_path / "nope" / "x.pdf"), db=world.url)
    assert folder.returncode == 2 and "does not exist" in folder.stderr
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("hello")
    verify = signed_in_cli("verify", str(not_pdf), db=world.url)
    assert verify.returncode == 2 and "Traceback" not in verify.stderr
    assert not (tmp_path / "x.pdf").exists()
    with open_database(world.url) as db:
        assert len(list_audit_events(db)) == before


def test_new_evidence_changes_the_report_and_leaves_signatures_stale(
    world, exported, signed_in_cli, tmp_path
):
    """A re-run analysis changes the evidence: new bytes, and both signatures now bind an older bundle."""
    path, _, _ = exported
    copy = tmp_path / "copy.db"
    shutil.copyfile(world.url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    with open_database(url) as db:
        analyze_fairness(db, name=NAME, version=VERSION, log_id=world.log_id, n_resamples=100, actor="alice")
    later = tmp_path / "later.pdf"
    done = signed_in_cli("report", NAME, VERSION, "--out", str(later), db=url)
    assert done.returncode == 0, done.stderr
    assert later.read_bytes() != path.read_bytes()
    text = pdf_text(later)
    manifest = text[text.index("Electronic signatures") :]
    assert len(lines_with(manifest, "STALE")) == 2
    assert "some signatures are stale" in re.sub(r"\s+", " ", text)
    # Not approved on this evidence: every page says so, and the decision is not confused with the
    # signatures being intact.
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) > 5 and all("DRAFT — NOT APPROVED" in page for page in pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Signatures intact: no." in flat and "Model approved: no." in flat
    verify = signed_in_cli("verify", str(later), db=url)
    assert verify.returncode == 1 and "FAIL  evidence bundle recorded in the database" in verify.stdout


def test_service_reports_progress_pages_and_not_applicable_checks_without_a_review(world, tmp_path):
    """A version with no review and no logs: the report says so, and verify marks bundle and signatures n/a."""
    from signoff.services.models import add_model_version
    from signoff.services.report import export_report, verify_report

    with open_database(world.url) as db:
        add_model_version(db, name="bare-model", version="1", actor="alice")
        stages: list[tuple[float, str]] = []
        out = tmp_path / "bare.pdf"
        exported = export_report(
            db,
            name="bare-model",
            version="1",
            out=out,
            actor="Zoë Ñúñez",
            progress=lambda f, s: stages.append((f, s)),
        )
        verdict = verify_report(db, out)
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert exported.pages == int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert exported.bundle_hash is None and exported.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    checks = {c.name: c.ok for c in verdict.checks}
    assert checks["evidence bundle recorded in the database"] is None
    assert checks["signatures"] is None
    assert checks["export recorded in the audit log"] is True
    assert verdict.ok
    flat = re.sub(r"\s+", " ", pdf_text(out))
    assert "none: this report is not bound to a review" in flat and "Review (signatures): not run" in flat
    assert "Zoë Ñúñez" in flat  # exported by, in a Unicode name


def test_a_broken_chain_is_reported_and_the_excerpt_still_lists_later_events(tmp_path):
    """The audit log is read once for both the check and the excerpt; a break must not cut the excerpt."""
    import sqlalchemy

    from signoff.services.models import add_model_version
    from signoff.services.report import export_report

    url = f"sqlite:///{tmp_path / 'tampered.db'}"
    with open_database(url) as db:
        add_model_version(db, name="other-model", version="1", actor="alice")  # event 1
        add_model_version(db, name="scored-model", version="1", actor="alice")  # event 2
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:  # what someone with file access does
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        connection.exec_driver_sql("UPDATE audit_event SET actor = 'mallory' WHERE sequence = 1")
    engine.dispose()
    out = tmp_path / "scored.pdf"
    with open_database(url) as db:
        export_report(db, name="scored-model", version="1", out=out, actor="alice")
    flat = re.sub(r"\s+", " ", pdf_text(out))
    assert "Audit chain broken at event 1" in flat
    # Written by the service with no signed-in session: the trail says so rather than naming an account.
    assert re.search(
        r"\b2 [\d-]+ [\d:]+ UTC unauthenticated \(OS login alice\) model\.added model_version:2\b", flat
    ), "event 2 missing from the excerpt"


def test_verify_fails_when_the_signer_key_in_the_database_was_swapped(
    world, exported, signed_in_cli, tmp_path
):
    """The report's signature still matches the stored row, but not the signer's key: named, exit 1."""
    import shutil

    import sqlalchemy

    path, _, _ = exported
    copy = tmp_path / "copy.db"
    shutil.copyfile(world.url.removeprefix("sqlite:///"), copy)
    engine = sqlalchemy.create_engine(f"sqlite:///{copy}")
    with engine.begin() as connection:  # someone with file access gives carol another user's key
        connection.exec_driver_sql("DROP TRIGGER app_user_identity_kept")  # after the guard (0008_tamper)
        connection.exec_driver_sql(
            "UPDATE app_user SET public_key = (SELECT public_key FROM app_user WHERE username <> 'carol' LIMIT 1) "
            "WHERE username = 'carol'"
        )
    engine.dispose()
    bad = signed_in_cli("verify", str(path), db=f"sqlite:///{copy}")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    line = next(x for x in bad.stdout.splitlines() if "signature 2 (Carol Çelik, approved)" in x)
    assert line.startswith("FAIL") and "it names a key that is not its signer's public key" in bad.stdout
    assert "does not verify over its record" in bad.stdout
