"""Model files attached as evidence, and trust decisions for pickles, recorded in the audit log.

The pickle here runs ``os.system`` when unpickled; a marker file shows whether that ever happened.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from signoff.analysis.model_loading import load_model, sha256_file
from signoff.domain.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from signoff.domain.explanation import ModelFormat
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.services.model_artifacts import attach_model_file, materialised_artifacts, model_artifacts
from signoff.services.models import add_model_version, get_model_version
from signoff.services.trust import scan_model_artifact, trust_model_artifact, trusted_artifact_hashes
from signoff.services.verify import verify_database

PASSWORD = "risk officer password"


def add_account(db, username: str, roles: frozenset[Role]) -> None:
    admin = next((u for u in users.list_users(db) if Role.ADMIN in u.roles), None)
    users.add_user(
        db,
        admin,
        username=username,
        full_name=username.replace(".", " ").title(),
        email=f"{username}@example.org",
        roles=roles if admin else roles | {Role.ADMIN},
        password=PASSWORD,
    )


class RunsCodeOnLoad:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_attached_file_is_evidence_and_comes_back_byte_for_byte(db, tmp_path):
    add_model_version(db, name="credit", version="1")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3))
    path = tmp_path / "model.skops"
    sio.dump(LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)), path)
    attached = attach_model_file(db, name="credit", version="1", path=path, actor="ana")
    assert attached["sha256"] == sha256_file(path)
    model_version = get_model_version(db, "credit", "1")
    assert model_artifacts(db, model_version) == {"model.skops": attached["sha256"]}
    with materialised_artifacts(db, model_version) as files:
        assert files["model.skops"].read_bytes() == path.read_bytes()
        assert load_model(files).artifact.format is ModelFormat.SKOPS
    event = list_audit_events(db, action="model.artifact_attached")[0]
    assert (event.actor, event.payload["sha256"]) == ("ana", attached["sha256"])
    review = scan_model_artifact(db, name="credit", version="1")
    assert review.scan is None and not review.needs_trust
    with pytest.raises(InputError, match="needs no trust decision"):
        trust_model_artifact(db, name="credit", version="1", reviewed=review, username="x", password="")


def test_a_version_without_files_says_how_to_add_one(db):
    add_model_version(db, name="bare", version="1")
    with pytest.raises(NotFoundError, match="signoff models attach"):
        scan_model_artifact(db, name="bare", version="1")


def test_pickle_trust_is_recorded_with_hash_scan_and_actor(db, tmp_path):
    marker = tmp_path / "MARKER"
    add_model_version(db, name="legacy", version="2")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(RunsCodeOnLoad(marker)))
    attach_model_file(db, name="legacy", version="2", path=path)

    review = scan_model_artifact(db, name="legacy", version="2")
    assert review.needs_trust and review.scan is not None
    assert review.scan.verdict == "dangerous imports found"
    model_version = get_model_version(db, "legacy", "2")
    with materialised_artifacts(db, model_version) as files, pytest.raises(PermissionDenied):
        load_model(files, trusted_pickle_sha256=trusted_artifact_hashes(db))
    assert not marker.exists()

    add_account(db, "risk.officer", frozenset({Role.APPROVER}))
    add_account(db, "ci-bot", frozenset({Role.SERVICE}))
    add_account(db, "rita", frozenset({Role.REVIEWER}))
    for refused in ("ci-bot", "rita"):  # only an approver or administrator trusts a pickle
        with pytest.raises(PermissionDenied, match="role needed to trust a pickle model file"):
            trust_model_artifact(
                db, name="legacy", version="2", reviewed=review, username=refused, password=PASSWORD
            )
    assert review.sha256 not in trusted_artifact_hashes(db)
    decision = trust_model_artifact(
        db, name="legacy", version="2", reviewed=review, username="risk.officer", password=PASSWORD
    )
    assert decision.artifact_sha256 == sha256_file(path) == review.sha256
    event = list_audit_events(db, action="model.artifact_trusted")[0]
    assert event.actor == "risk.officer" and event.payload["manifest"]["decided_by"] == "risk.officer"
    assert len(bytes.fromhex(event.payload["signature"])) == 64 and verify_database(db).ok
    assert event.payload["artifact_sha256"] == review.sha256
    assert event.payload["scan"]["scanner"].startswith("picklescan")
    assert review.sha256 in trusted_artifact_hashes(db)
    assert scan_model_artifact(db, name="legacy", version="2").already_trusted
    assert verify_audit_log(db).ok
    assert not marker.exists()  # trusting records a decision; it loads nothing

    # A file swapped after the review is not covered by that review.
    other = tmp_path / "other" / "model.pkl"
    other.parent.mkdir()
    other.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    attach_model_file(db, name="legacy", version="2", path=other)
    with pytest.raises(ConflictError, match="changed since it was reviewed"):
        trust_model_artifact(
            db, name="legacy", version="2", reviewed=review, username="risk.officer", password=PASSWORD
        )


def test_artifact_paths_cannot_leave_the_folder_they_are_written_to():
    from signoff.services.model_artifacts import _safe_relative

    assert _safe_relative("model/MLmodel").parts == ("model", "MLmodel")
    for hostile in ("../outside.pkl", "/etc/passwd", "model/../../x", "..\\..\\x", ""):
        with pytest.raises(InputError, match="would leave the artifact folder"):
            _safe_relative(hostile)
