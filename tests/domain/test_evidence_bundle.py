"""The evidence bundle hash: one canonical encoding, and any change to the evidence changes it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from review_fixtures import BOB, NOW, review, signature

from signoff.domain.evidence_bundle import BundleAnalysis, EvidenceBundle
from signoff.domain.prediction_log import ColumnMapping, LogRole, PredictionLog, ValidationReport
from signoff.domain.registry import ModelVersion
from signoff.domain.review import (
    ReviewAction,
    ReviewState,
    SignatureMeaning,
    edit_finding,
    new_finding,
    transition,
)

VERSION = ModelVersion(
    id=3, name="credit", version="4", source="mlflow", attributes={"aliases": ["champion"]}
)


def _log(log_id: int, digest: str) -> PredictionLog:
    return PredictionLog(
        id=log_id,
        model_version_id=3,
        role=LogRole.VALIDATION,
        source_name=f"log{log_id}.csv",
        source_sha256="0" * 64,
        evidence_sha256=digest,
        rows=100,
        mapping=ColumnMapping(label="y", prediction="p"),
        validation=ValidationReport(rows_read=100, rows_kept=100),
    )


LOG_1 = _log(1, "1" * 64)
RUN_5 = BundleAnalysis(run_id=5, kind="fairness", result_sha256="5" * 64, produced_by="dave")
FINDING = new_finding((), type="limitation", severity="medium", title="few young applicants", author="bob")


def _bundle(**changes) -> EvidenceBundle:
    parts = {
        "logs": [LOG_1],
        "analyses": [RUN_5],
        "policy_evaluation_sha256": "e" * 64,
        "findings": [FINDING],
    }
    parts.update(changes)
    return EvidenceBundle.assemble(VERSION, **parts)


def test_the_hash_is_sha256_of_the_canonical_json_written_out_by_hand():
    bundle = EvidenceBundle.assemble(VERSION, [LOG_1])
    by_hand = (
        '{"analyses":[],"findings":[],"format":"signoff.evidence-bundle/1",'
        '"logs":[{"evidence_sha256":"' + "1" * 64 + '","log_id":1,"role":"validation","rows":100,'
        '"source_name":"log1.csv"}],'
        '"model_version":{"attributes":{"aliases":["champion"]},"created_at":null,"description":"",'
        '"id":3,"name":"credit","source":"mlflow","version":"4"},"policy_evaluation_sha256":null}'
    )
    assert json.loads(by_hand) == bundle.content()
    assert bundle.hash == hashlib.sha256(by_hand.encode()).hexdigest()


def test_order_of_the_parts_does_not_matter():
    log_2 = _log(2, "2" * 64)
    run_6 = replace(RUN_5, run_id=6)
    assert (
        _bundle(logs=[LOG_1, log_2], analyses=[RUN_5, run_6]).hash
        == _bundle(logs=[log_2, LOG_1], analyses=[run_6, RUN_5]).hash
    )


def test_every_kind_of_evidence_change_changes_the_hash_and_makes_signatures_stale():
    base = _bundle()
    changed = {
        "a new log": _bundle(logs=[LOG_1, _log(2, "2" * 64)]),
        "a log with other content": _bundle(logs=[_log(1, "9" * 64)]),
        "a re-run analysis": _bundle(analyses=[BundleAnalysis(7, "fairness", "7" * 64, "dave")]),
        "an analysis with another result": _bundle(analyses=[replace(RUN_5, result_sha256="6" * 64)]),
        "an edited finding": _bundle(
            findings=[edit_finding(FINDING, BOB, status="resolved", resolution="oversampled")]
        ),
        "a new finding": _bundle(
            findings=[
                FINDING,
                new_finding([FINDING], type="observation", severity="info", title="ok", author="bob"),
            ]
        ),
        "another policy evaluation": _bundle(policy_evaluation_sha256="f" * 64),
        "other registry attributes": EvidenceBundle.assemble(
            replace(VERSION, attributes={"aliases": []}), [LOG_1], [RUN_5], "e" * 64, [FINDING]
        ),
    }
    hashes = {base.hash} | {bundle.hash for bundle in changed.values()}
    assert len(hashes) == len(changed) + 1, "two different bundles hashed alike"
    signed = transition(
        review(ReviewState.IN_REVIEW, bundle_hash=base.hash),
        ReviewAction.SIGN,
        BOB,
        now=NOW,
        signature=signature(BOB, SignatureMeaning.REVIEWED, base.hash),
    )
    assert not signed.is_stale
    for what, bundle in changed.items():
        now_shown = replace(signed, bundle_hash=bundle.hash)
        assert now_shown.is_stale, what
        assert not now_shown.covers_current_evidence(signed.signatures[0]), what


def test_analysts_are_who_produced_the_runs():
    assert _bundle().analysts == {"dave"}
