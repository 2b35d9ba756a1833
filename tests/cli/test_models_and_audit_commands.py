"""``signoff models`` and ``signoff audit`` as a user runs them, on both engines."""

from __future__ import annotations

import json

from signoff.domain.audit import chain_event
from signoff.services.audit import list_audit_events
from signoff.services.models import add_model_version


def test_models_add_then_list_as_json(signed_in_cli, db_url, db):
    added = signed_in_cli("models", "add", "credit risk", "3", "--description", "Zoë's GBM", db=db_url)
    assert added.returncode == 0, added.stderr
    assert "credit risk" in added.stdout
    add_model_version(db, name="churn", version="1")
    listed = signed_in_cli("models", "list", "--json", db=db_url)
    assert listed.returncode == 0, listed.stderr
    versions = json.loads(listed.stdout)
    assert [(v["name"], v["version"], v["description"]) for v in versions] == [
        ("churn", "1", ""),
        ("credit risk", "3", "Zoë's GBM"),
    ]
    assert list_audit_events(db, action="model.added")[-1].payload["name"] == "credit risk"


def test_adding_the_same_version_twice_is_a_one_paragraph_error(signed_in_cli, db_url, db):
    add_model_version(db, name="churn", version="1")
    again = signed_in_cli("models", "add", "churn", "1", db=db_url)
    assert again.returncode == 2
    assert again.stderr.strip().startswith("signoff:") and "already exists" in again.stderr
    assert "Traceback" not in again.stderr and again.stderr.strip().count("\n") == 0


def _four_events(db):
    for version in ("1", "2", "3", "4"):
        add_model_version(db, name="m", version=version)


def test_audit_verify_and_log_on_an_intact_chain(signed_in_cli, db_url, db):
    _four_events(db)
    intact = signed_in_cli("audit", "verify", db=db_url)
    assert intact.returncode == 0 and "intact: 4 events" in intact.stdout
    log = json.loads(
        signed_in_cli("audit", "log", "--json", "--action", "model", "--limit", "3", db=db_url).stdout
    )
    assert [e["sequence"] for e in log] == [4, 3, 2]
    assert log[0]["hash"] == list_audit_events(db, limit=1)[0].hash


def test_audit_verify_names_an_edited_event(signed_in_cli, db_url, db, raw_sql, drop_audit_triggers):
    _four_events(db)
    drop_audit_triggers()
    raw_sql("UPDATE audit_event SET actor = 'mallory' WHERE sequence = 3")
    broken = signed_in_cli("audit", "verify", db=db_url)
    assert broken.returncode == 1 and "BROKEN at event 3" in broken.stdout


def test_audit_verify_names_a_deleted_event(signed_in_cli, db_url, db, raw_sql, drop_audit_triggers):
    _four_events(db)
    drop_audit_triggers()
    raw_sql("DELETE FROM audit_event WHERE sequence = 2")
    result = signed_in_cli("audit", "verify", "--json", db=db_url)
    assert result.returncode == 1 and json.loads(result.stdout)["first_bad_sequence"] == 2


def test_audit_verify_names_an_event_inserted_in_the_middle(
    signed_in_cli, db_url, db, raw_sql, drop_audit_triggers
):
    """A forger renumbers the later events and slips a well-formed event in at 2: the chain breaks at 3."""
    _four_events(db)
    first = list_audit_events(db)[-1]
    forged = chain_event(
        first, occurred_at=first.occurred_at, actor="mallory", action="review.approved", entity="x"
    )
    drop_audit_triggers()
    for sequence in (4, 3, 2):  # from the end, so the primary key never collides
        raw_sql("UPDATE audit_event SET sequence = sequence + 1 WHERE sequence = :s", s=sequence)
    raw_sql(
        "INSERT INTO audit_event (sequence, occurred_at, actor, action, entity, payload, previous_hash, hash) "
        "SELECT 2, occurred_at, 'mallory', 'review.approved', 'x', '{}', :p, :h FROM audit_event WHERE sequence = 1",
        p=forged.previous_hash,
        h=forged.hash,
    )
    result = signed_in_cli("audit", "verify", "--json", db=db_url)
    assert result.returncode == 1 and json.loads(result.stdout)["first_bad_sequence"] == 3
