"""The hash chain itself, independent of any database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from signoff.domain.audit import GENESIS_HASH, chain_event, verify_chain
from signoff.domain.canonical import canonical_json, sha256_hex


def _chain(n: int):
    events, previous = [], None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        previous = chain_event(
            previous,
            occurred_at=start + timedelta(seconds=i),
            actor="alice",
            action="test.event",
            entity=f"thing:{i}",
            payload={"i": i, "name": "Zoë"},
        )
        events.append(previous)
    return events


def test_hash_is_sha256_of_the_canonical_content():
    first = _chain(1)[0]
    expected = sha256_hex(
        b'{"action":"test.event","actor":"alice","entity":"thing:0","occurred_at":"2026-01-01T00:00:00.000000Z",'
        b'"payload":{"i":0,"name":"Zo\xc3\xab"},"previous_hash":"'
        + GENESIS_HASH.encode()
        + b'","sequence":1}'
    )
    assert first.hash == expected
    assert canonical_json({"b": 1, "a": [1.5, None]}) == b'{"a":[1.5,null],"b":1}'


def test_intact_chain_verifies():
    events = _chain(5)
    verdict = verify_chain(events)
    assert verdict.ok and verdict.events_checked == 5 and verdict.head_hash == events[-1].hash


def test_altered_removed_and_reordered_events_are_named():
    events = _chain(5)
    altered = [*events[:2], replace(events[2], actor="mallory"), *events[3:]]
    assert verify_chain(altered).first_bad_sequence == 3
    removed = events[:2] + events[3:]
    assert verify_chain(removed).first_bad_sequence == 3
    swapped = [events[0], events[2], events[1], *events[3:]]
    assert verify_chain(swapped).first_bad_sequence == 2


def test_a_stored_event_hashes_exactly_like_the_event():
    from signoff.domain.audit import StoredAuditEvent

    for event in _chain(5):
        stored = StoredAuditEvent(
            event.sequence,
            event.occurred_at,
            event.actor,
            event.action,
            event.entity,
            canonical_json(event.payload).decode("utf-8"),
            event.previous_hash,
            event.hash,
        )
        assert stored.computed_hash() == event.hash
    assert verify_chain([stored]).first_bad_sequence == 1  # a lone event 5 is not a chain
    tricky = chain_event(
        None,
        occurred_at=datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC),
        actor='Zoë "quoted" \\ back\nslash',
        action="a.b",
        entity="e:1",
        payload={"nested": {"z": [1, 2.5, None, True], "a": "Łukasz"}},
    )
    stored = StoredAuditEvent(
        1,
        tricky.occurred_at,
        tricky.actor,
        "a.b",
        "e:1",
        canonical_json(tricky.payload).decode(),
        tricky.previous_hash,
        "",
    )
    assert stored.computed_hash() == tricky.hash
