"""Model versions and the audit log as use cases: each change leaves exactly one audit event."""

from __future__ import annotations

import pytest

from signoff.domain.errors import InputError, NotFoundError
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.services.identity import os_login_name
from signoff.services.models import add_model_version, get_model_version, list_model_versions


def test_adding_a_model_version_records_who_did_it(db):
    added = add_model_version(db, name="credit risk", version="3", description="GBM, Zoë's retrain")
    assert get_model_version(db, "credit risk", "3") == added
    (event,) = list_audit_events(db)
    assert (event.action, event.entity, event.actor) == (
        "model.added",
        f"model_version:{added.id}",
        os_login_name(),
    )
    assert event.payload["description"] == "GBM, Zoë's retrain"
    add_model_version(db, name="credit risk", version="4", actor="reviewer@bank")
    assert list_audit_events(db, limit=1)[0].actor == "reviewer@bank"
    assert [v.version for v in list_model_versions(db)] == ["3", "4"]
    assert verify_audit_log(db).ok


def test_a_duplicate_or_blank_version_is_refused_and_leaves_no_event(db):
    add_model_version(db, name="m", version="1")
    with pytest.raises(InputError, match="already exists"):
        add_model_version(db, name="m", version="1")
    with pytest.raises(InputError):
        add_model_version(db, name=" ", version="1")
    assert len(list_audit_events(db)) == 1


def test_an_unknown_model_version_says_how_to_add_it(db):
    with pytest.raises(NotFoundError, match="signoff models add churn 9"):
        get_model_version(db, "churn", "9")
