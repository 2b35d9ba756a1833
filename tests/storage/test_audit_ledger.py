"""The audit ledger in the database: append-only by the database's own rules, verified end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy

from signoff.domain.audit import verify_chain
from signoff.storage import open_database


def _append(db, count: int, start: int = 0) -> None:
    with db.transaction() as uow:
        for i in range(start, start + count):
            uow.audit.append(
                actor="alice", action="test.event", entity=f"thing:{i}", payload={"i": i, "name": "Zoë"}
            )


def test_appended_events_form_a_chain_that_verifies(db):
    _append(db, 5)
    with db.transaction(write=False) as uow:
        events = list(uow.audit.iter_events())
        verdict = uow.audit.verify()
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert verify_chain(events).ok  # the domain's own check agrees on what was read back
    assert verdict.ok and verdict.events_checked == 5 and verdict.head_hash == events[-1].hash
    seen = []
    with db.transaction(write=False) as uow:
        assert uow.audit.verify(visit=seen.append) == verdict  # one read for the check and the events
    assert seen == events


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_or_delete_events(db, db_url, statement):
    _append(db, 3)
    engine = sqlalchemy.create_engine(db_url)
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql(statement + " WHERE sequence = 2")
    engine.dispose()
    with db.transaction(write=False) as uow:
        assert uow.audit.verify().ok


def test_an_edit_after_dropping_the_trigger_names_the_edited_event(db, raw_sql, drop_audit_triggers):
    _append(db, 6)
    drop_audit_triggers()
    raw_sql("UPDATE audit_event SET payload = :p WHERE sequence = 4", p='{"i":99,"name":"Zoë"}')
    with db.transaction(write=False) as uow:
        verdict = uow.audit.verify()
    assert not verdict.ok and verdict.first_bad_sequence == 4 and "altered" in verdict.reason


def test_a_deleted_event_is_named(db, raw_sql, drop_audit_triggers):
    _append(db, 6)
    drop_audit_triggers()
    raw_sql("DELETE FROM audit_event WHERE sequence = 3")
    with db.transaction(write=False) as uow:
        verdict = uow.audit.verify()
    assert not verdict.ok and verdict.first_bad_sequence == 3


def test_events_cut_off_the_end_are_noticed(db, raw_sql, drop_audit_triggers):
    _append(db, 6)
    drop_audit_triggers()
    raw_sql("DELETE FROM audit_event WHERE sequence >= 5")
    with db.transaction(write=False) as uow:
        verdict = uow.audit.verify()
    assert not verdict.ok and verdict.first_bad_sequence == 5 and "removed from the end" in verdict.reason


def test_an_appended_forgery_with_a_valid_hash_is_noticed(db, raw_sql):
    from signoff.domain.audit import chain_event

    _append(db, 3)
    with db.transaction(write=False) as uow:
        last = uow.audit.head()
    forged = chain_event(
        last, occurred_at=last.occurred_at, actor="mallory", action="review.approved", entity="x"
    )
    raw_sql(
        "INSERT INTO audit_event (sequence, occurred_at, actor, action, entity, payload, previous_hash, hash) "
        "VALUES (:s, :t, 'mallory', 'review.approved', 'x', '{}', :p, :h)",
        s=forged.sequence,
        t=last.occurred_at.replace(tzinfo=None) if db.dialect == "sqlite" else last.occurred_at,
        p=forged.previous_hash,
        h=forged.hash,
    )
    with db.transaction(write=False) as uow:
        verdict = uow.audit.verify()
    assert not verdict.ok and verdict.first_bad_sequence == 4 and "outside Signoff" in verdict.reason


def test_appends_wait_for_each_other_across_processes(db, db_url, tmp_path, subprocess_env):
    """Two processes appending at once: the chain stays one unbroken line."""
    script = tmp_path / "append.py"
    script.write_text(
        "import sys\n"
        "from signoff.storage import open_database\n"
        "db = open_database(sys.argv[1])\n"
        "for i in range(30):\n"
        "    with db.transaction() as uow:\n"
        "        uow.audit.append(actor=sys.argv[2], action='test.concurrent', entity=f'n:{i}')\n"
        "db.close()\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), db_url, name], env=subprocess_env, stderr=subprocess.PIPE, text=True
        )
        for name in ("first", "second")
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    with db.transaction(write=False) as uow:
        verdict = uow.audit.verify()
        actors = {e.actor for e in uow.audit.iter_events()}
    assert verdict.ok and verdict.events_checked == 60
    assert actors == {"first", "second"}


def test_listeners_hear_of_events_only_after_commit(db):
    heard = []
    db.subscribe(heard.append)
    with pytest.raises(RuntimeError), db.transaction() as uow:
        uow.audit.append(actor="a", action="test.rolled_back", entity="x")
        assert heard == []
        raise RuntimeError("abandon the transaction")
    assert heard == []
    with db.transaction() as uow:
        uow.audit.append(actor="a", action="test.kept", entity="x")
        assert heard == []
    assert [e.action for e in heard] == ["test.kept"]
    with db.transaction(write=False) as uow:
        assert [e.action for e in uow.audit.list()] == ["test.kept"]


def test_listing_filters_by_action_prefix_and_entity(db):
    with db.transaction() as uow:
        uow.audit.append(actor="a", action="log.imported", entity="prediction_log:1")
        uow.audit.append(actor="a", action="model.added", entity="model_version:1")
        uow.audit.append(actor="b", action="log.imported", entity="prediction_log:2")
    with db.transaction(write=False) as uow:
        assert [e.sequence for e in uow.audit.list(action="log")] == [3, 1]
        assert [e.sequence for e in uow.audit.list(entity="model_version:1")] == [2]
        assert [e.sequence for e in uow.audit.list(limit=2)] == [3, 2]
        assert [e.sequence for e in uow.audit.list(actor="b")] == [3]


def test_reopening_keeps_the_chain(db_url):
    db = open_database(db_url)
    _append(db, 2)
    db.close()
    db = open_database(db_url)
    _append(db, 2, start=2)
    with db.transaction(write=False) as uow:
        assert uow.audit.verify().events_checked == 4
    db.close()
