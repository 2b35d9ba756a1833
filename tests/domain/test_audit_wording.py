"""Audit events in words: before and after named, nothing cut short, unknown payloads field by field."""

from __future__ import annotations

from datetime import UTC, datetime

from signoff.domain.audit import AuditEvent
from signoff.domain.audit_wording import describe, event_kind

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _event(action: str, payload: dict) -> AuditEvent:
    return AuditEvent(sequence=1, occurred_at=AT, actor="zoe", action=action, entity="x:1", payload=payload)


def test_a_finding_edit_names_each_changed_field_before_and_after():
    text = describe(
        _event(
            "review.finding_edited",
            {
                "finding": {"title": "Gap for women", "severity": "high", "status": "open"},
                "before": {"title": "Gap for women", "severity": "medium", "status": "open"},
                "bundle_hash": "ab" * 32,
            },
        )
    )
    assert text == "Finding edited: severity from medium to high"


def test_a_signature_states_the_review_before_and_after():
    text = describe(
        _event(
            "review.signed",
            {"meaning": "approved_with_conditions", "state_before": "submitted", "state_after": "approved"},
        )
    )
    assert text == "Signed as approved with conditions: review from submitted to approved"


def test_an_unknown_action_is_written_field_by_field_in_full():
    long_reason = "because " * 100
    text = describe(_event("custom.thing", {"reason": long_reason, "rows": 12345, "tags": {"a": "b"}}))
    assert text == f"reason: {long_reason}; rows: 12345; tags: a = b"
    generic = describe(_event("custom.changed", {"before": "low", "after": "high", "key": "tier"}))
    assert generic == "from low to high; key: tier"


def test_kinds_in_words():
    assert event_kind("review.signed") == "Reviews and signatures"
    assert event_kind("waiver.granted") == "Waivers"
    assert event_kind("brand_new.thing") == "Brand new"
