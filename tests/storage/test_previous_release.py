"""A database written by the previous release opens, verifies and reads back byte for byte.

The fixture (``tests/fixtures/previous_release``) was written by earlier code and is never rebuilt, so
these are golden tests in the strict sense: the hashes compared here were computed by that code when it
stored each result and when two people signed the review. Re-encoding a decoded result must give the
same canonical bytes, whatever the domain types' (de)serialisation becomes.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from signoff.domain.analysis_kinds import ANALYSIS_KINDS
from signoff.domain.canonical import canonical_hash, canonical_json
from signoff.domain.policy import PolicyEvaluation
from signoff.domain.registry_snapshot import RegistrySnapshot
from signoff.services import open_database
from signoff.services.analysis_runs import list_analyses
from signoff.services.reviews import show
from signoff.services.verify import verify_database

FIXTURE = Path(__file__).parents[1] / "fixtures" / "previous_release" / "wave2.db.gz"
SIGNED_BUNDLE = (
    "2cb8b9db7452345e51d50b57aa1d172c9fadbad69c56ae0ff28ef9a94b5ac530"  # printed by `review show 1` then
)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    path = tmp_path_factory.mktemp("previous") / "wave2.db"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    db = open_database(f"sqlite:///{path}")  # migrates to today's schema
    yield db
    db.close()


def test_it_migrates_and_verifies_in_full(previous):
    verdict = verify_database(previous)
    assert verdict.ok, verdict.to_dict()
    assert verdict.signatures_checked == 2 and verdict.blobs_rehashed > 0


def test_every_stored_result_re_encodes_to_the_bytes_it_was_hashed_from(previous):
    runs = list_analyses(previous)
    # every kind of stored result there is (policy evaluations are runs outside the registry)
    assert {run.kind for run in runs} == {*ANALYSIS_KINDS, "policy"}
    for run in runs:
        if run.kind == "policy":
            evaluation = PolicyEvaluation.from_dict(run.result).to_dict()
            if "attribute_binding" in run.result:
                evaluation["attribute_binding"] = run.result["attribute_binding"]
            encoded = evaluation
        else:
            kind = ANALYSIS_KINDS[run.kind]
            encoded = run.result_as(kind.result_type).to_dict()
        assert canonical_hash(encoded) == run.result_sha256, f"run {run.id} ({run.kind})"


def test_the_signed_evidence_bundle_re_assembles_to_the_hash_the_signatures_bind(previous):
    status = show(previous, 1)
    assert {s.bundle_hash for s in status.review.signatures} == {SIGNED_BUNDLE}
    assert status.recorded_bundle_hash == SIGNED_BUNDLE
    assert status.bundle.hash == SIGNED_BUNDLE, "today's code assembles other bytes from the same evidence"


def test_every_registry_snapshot_re_encodes_to_its_evidence(previous):
    """A snapshot is stored as evidence under the SHA-256 of its canonical JSON."""
    with previous.transaction(write=False) as uow:
        snapshots = uow.registry.all_snapshots()
        assert snapshots
        for info in snapshots:
            stored = uow.evidence.read_bytes(info.content_sha256)
            snapshot = RegistrySnapshot.from_dict(json.loads(stored))
            assert canonical_json(snapshot.to_dict()) == stored, info.source_uri
