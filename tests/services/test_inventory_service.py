"""The inventory through the real services on SQLite and PostgreSQL: edits, audit, tier, calendar, bundle."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest

from review_world import PASSWORDS
from signoff.domain.errors import InputError, NotFoundError, PermissionDenied
from signoff.domain.inventory import DueState, PortfolioCounts, add_months
from signoff.services import inventory, reviews


def _events(db, action):
    with db.transaction(write=False) as uow:
        return [e for e in reversed(uow.audit.list()) if e.action == action]


def test_fields_are_recorded_per_model_and_version_and_every_edit_is_audited(world_db, world):
    inventory.set_fields(
        world_db,
        "credit",
        {"owner": "carol", "stage": "production", "purpose": "Credit limits"},
        actor="alice",
    )
    view = inventory.set_fields(world_db, "credit", {"limitations": "thin files"}, version="4", actor="bob")
    assert view.entry.values == {"owner": "carol", "stage": "production", "purpose": "Credit limits"}
    (version,) = view.versions
    assert version.values["limitations"] == "thin files" and version.values["owner"] == "carol"
    assert view.record.stage_history[0].stage == "production" and view.record.stage_history[0].by == "alice"
    first, second = _events(world_db, "inventory.updated")
    assert (first.actor, first.entity) == ("alice", "inventory:credit")
    assert first.payload["changes"]["owner"] == {"before": None, "after": "carol"}
    assert (second.entity, second.payload["changes"]) == (
        "inventory:credit@4",
        {"limitations": {"before": None, "after": "thin files"}},
    )
    with pytest.raises(InputError, match="already reads like that"):
        inventory.set_fields(world_db, "credit", {"owner": "carol"}, actor="alice")


def test_bad_input_is_refused_and_nothing_is_stored(world_db, world, world_db_url, dump_tables):
    before = dump_tables(world_db_url)
    with pytest.raises(InputError, match="no account 'mallory'"):
        inventory.set_fields(world_db, "credit", {"purpose": "x", "owner": "mallory"})
    with pytest.raises(InputError, match="stage cannot be 'live'"):
        inventory.set_fields(world_db, "credit", {"stage": "live"})
    with pytest.raises(NotFoundError, match="no model named 'debit'"):
        inventory.set_fields(world_db, "debit", {"purpose": "x"})
    with pytest.raises(NotFoundError, match="has no version '9'; its versions: 4"):
        inventory.set_fields(world_db, "credit", {"purpose": "x"}, version="9")
    assert dump_tables(world_db_url) == before


def test_the_tier_comes_from_the_rubric_and_only_an_approver_overrides_it(world_db, world):
    view = inventory.assess_risk(
        world_db, "credit", {"materiality": "high", "complexity": "medium", "reliance": "low"}, actor="alice"
    )
    assert (view.entry.tier, view.entry.tier_overridden) == (2, False)  # 3 x 2 x 1 = 6
    sha = view.record.risk["evidence_sha256"]
    with world_db.transaction(write=False) as uow:
        stored = json.loads(uow.evidence.read_bytes(sha))
    assert stored["answers"] == {"materiality": "high", "complexity": "medium", "reliance": "low"}
    assert stored["score"] == 6 and stored["assessed_by"] == "alice"
    with pytest.raises(PermissionDenied, match="approver"):
        inventory.override_tier(world_db, "alice", "credit", "1", justification="regulator asked")
    with pytest.raises(InputError, match="needs a justification"):
        inventory.override_tier(world_db, "carol", "credit", "1", justification=" ")
    view = inventory.override_tier(world_db, "carol", "credit", "tier 1", justification="regulator asked")
    assert (view.entry.tier, view.entry.tier_overridden) == (1, True)
    (event,) = _events(world_db, "inventory.tier_overridden")
    assert (event.actor, event.payload["tier_before"], event.payload["justification"]) == (
        "carol",
        2,
        "regulator asked",
    )


def _approve(db, world):
    opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id)
    reviews.submit(db, "alice", opened.review.id)
    reviews.sign(db, opened.review.id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    return reviews.sign(
        db, opened.review.id, username="carol", password=PASSWORDS["carol"], meaning="approved"
    )


def test_the_next_review_follows_the_last_approval_and_the_bundle_holds_the_record(world_db, world):
    inventory.set_fields(world_db, "credit", {"owner": "carol", "intended_use": "limit setting"})
    inventory.assess_risk(
        world_db, "credit", {"materiality": "high", "complexity": "high", "reliance": "high"}
    )
    approved = _approve(world_db, world)
    decided = approved.review.decided_at.date()
    due = add_months(decided, 12)  # tier 1: yearly
    (entry,) = inventory.list_inventory(world_db, today=decided)
    assert (entry.tier, entry.next_due, entry.due) == (1, due, DueState.SCHEDULED)
    assert inventory.list_inventory(world_db, overdue=True, today=decided) == []
    assert [
        e.model for e in inventory.list_inventory(world_db, due_within=30, today=due - timedelta(days=30))
    ] == ["credit"]
    assert inventory.list_inventory(world_db, due_within=30, today=due - timedelta(days=31)) == []
    (late,) = inventory.list_inventory(world_db, overdue=True, today=due + timedelta(days=1))
    assert late.due is DueState.OVERDUE
    signature = approved.review.signatures[-1]
    with world_db.transaction(write=False) as uow:
        signed = json.loads(uow.evidence.read_bytes(signature.bundle_hash))
    assert signed["inventory"]["values"] == {"owner": "carol", "intended_use": "limit setting"}
    assert signed["inventory"]["risk_tier"] == 1
    # An edit after signing changes the live bundle: the signature no longer covers the evidence.
    inventory.set_fields(world_db, "credit", {"intended_use": "limit setting and pricing"})
    assert reviews.show(world_db, approved.review.id).review.is_stale


def test_export_writes_csv_and_xlsx_with_no_formulas(world_db, world, tmp_path):
    from openpyxl import load_workbook

    inventory.set_fields(world_db, "credit", {"owner": "carol", "purpose": '=HYPERLINK("http://x")'})
    inventory.export_inventory(world_db, format="csv", out=tmp_path / "i.csv")
    with (tmp_path / "i.csv").open(encoding="utf-8", newline="") as stream:
        header, row = list(csv.reader(stream))
    assert header[:5] == ["model", "versions", "current_version", "owner", "backup_owner"]
    assert row[:4] == ["credit", "1", "4", "carol"]
    assert row[header.index("purpose")] == '\'=HYPERLINK("http://x")'  # text, never a formula
    inventory.export_inventory(world_db, format="xlsx", out=tmp_path / "i.xlsx")
    sheet = load_workbook(tmp_path / "i.xlsx").active
    rows = list(sheet.values)
    assert rows[1][:4] == ("credit", 1, "4", "carol")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    with pytest.raises(InputError, match="choose one of csv, xlsx"):
        inventory.export_inventory(world_db, format="ods", out=tmp_path / "i.ods")


def test_a_model_card_prefills_only_what_the_owner_accepts(db):
    from signoff.resources import resource_path
    from signoff.services.registry_import import import_model_card

    import_model_card(db, resource_path("demo", "model-card.md"), model="adult", version="1")
    offered = {p.field: p for p in inventory.proposals(db, "adult")}
    assert set(offered) == {"purpose", "intended_use", "out_of_scope", "training_data"}
    assert offered["out_of_scope"].value.startswith("Any real decision about a person.")
    assert offered["out_of_scope"].source == "model-card snapshot 1 (v1): card section 'Out-of-scope uses'"
    assert inventory.show_inventory(db, "adult").record is None  # nothing is filled in silently
    view = inventory.accept_proposals(db, "adult", ["intended_use", "out_of_scope"], actor="ann")
    assert view.entry.values == {
        "intended_use": offered["intended_use"].value,
        "out_of_scope": offered["out_of_scope"].value,
    }
    (event,) = _events(db, "inventory.updated")
    assert event.actor == "ann" and set(event.payload["accepted_from"]) == {"intended_use", "out_of_scope"}
    assert {p.field for p in inventory.proposals(db, "adult")} == {"purpose", "training_data"}
    with pytest.raises(InputError, match="no proposal for limitations"):
        inventory.accept_proposals(db, "adult", ["limitations"])


def test_the_portfolio_reads_the_current_versions_verdict_review_and_open_findings(world_db, world):
    opened = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id)
    reviews.add_finding(world_db, "alice", opened.review.id, type="limitation", severity="low", title="a")
    reviews.add_finding(world_db, "alice", opened.review.id, type="observation", severity="info", title="b")
    reviews.update_finding(world_db, "alice", opened.review.id, 2, status="resolved", resolution="fixed")
    reviews.submit(world_db, "alice", opened.review.id)
    with world_db.transaction() as uow:
        uow.analysis_runs.add(
            kind="policy",
            model_version_id=world.model_version_id,
            inputs={"policy": "1" * 64},
            parameters={},
            engine_version="test",
            result={"status": "fail"},
            created_by="dave",
        )
    (row,) = inventory.portfolio(world_db)
    assert (row.entry.current_version, row.review_state, row.open_findings, row.verdict) == (
        "4",
        "in_review",
        1,
        "fail",
    )
    with world_db.transaction() as uow:
        uow.models.add(name="credit", version="5")  # newer and not reviewed: the current version now
        uow.models.add(name="aaa", version="1")
    rows = inventory.portfolio(world_db)
    assert [(r.entry.model, r.entry.current_version, r.review_state, r.verdict) for r in rows] == [
        ("aaa", "1", None, None),
        ("credit", "5", None, None),
    ]


def test_open_conditions_of_an_approval_join_the_review_calendar_and_the_portfolio(world_db, world):
    inventory.assess_risk(
        world_db, "credit", {"materiality": "high", "complexity": "high", "reliance": "high"}
    )  # tier 1: revalidation twelve months after the approval
    opened = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id)
    reviews.submit(world_db, "alice", opened.review.id)
    reviews.sign(world_db, opened.review.id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    today = reviews.show(world_db, opened.review.id).review.opened_at.date()
    soon, later = today + timedelta(days=20), today + timedelta(days=100)
    approved = reviews.sign(
        world_db,
        opened.review.id,
        username="carol",
        password=PASSWORDS["carol"],
        meaning="approved_with_conditions",
        justification="pilot only",
        conditions=[
            f"monthly drift check|owner=bob|due={soon}",
            f"retrain on Q3 data|owner=alice|due={later}",
        ],
    )
    drift, retrain = approved.conditions
    decided = approved.review.decided_at.date()
    assert decided == today  # so the revalidation (a year on) is never due in this test

    (entry,) = inventory.list_inventory(world_db, today=today)
    assert (entry.due, entry.open_conditions) == (DueState.SCHEDULED, 2)
    assert [(c.text, c.owner, c.due, c.state) for c in entry.conditions] == [
        ("monthly drift check", "bob", soon, DueState.DUE_SOON),
        ("retrain on Q3 data", "alice", later, DueState.SCHEDULED),
    ]
    # Only the condition brings the model into the calendar; only the due condition is listed.
    (due,) = inventory.list_inventory(world_db, due_within=30, today=today)
    assert due.to_dict()["conditions"] == [
        {
            "condition_id": drift.id,
            "model": "credit",
            "version": "4",
            "condition": "monthly drift check",
            "owner": "bob",
            "due": soon.isoformat(),
            "status": "open",
            "due_state": "due-soon",
        }
    ]
    assert due.to_dict()["due"] == "scheduled" and due.to_dict()["open_conditions"] == 2
    assert inventory.list_inventory(world_db, due_within=19, today=today) == []
    assert inventory.list_inventory(world_db, overdue=True, today=soon) == []  # due that day: not late
    (late,) = inventory.list_inventory(world_db, overdue=True, today=soon + timedelta(days=1))
    assert [(c.condition_id, c.state) for c in late.conditions] == [(drift.id, DueState.OVERDUE)]

    counts = PortfolioCounts.of(inventory.portfolio(world_db, today=soon + timedelta(days=1)))
    assert (counts.overdue, counts.due_soon) == (1, 0)
    counts = PortfolioCounts.of(inventory.portfolio(world_db, today=today))
    assert (counts.overdue, counts.due_soon) == (0, 1)

    reviews.close_condition(world_db, "bob", drift.id, evidence="drift report of week 3")
    assert inventory.list_inventory(world_db, overdue=True, today=soon + timedelta(days=1)) == []
    (row,) = inventory.portfolio(world_db, today=today)
    assert (row.entry.open_conditions, [c.condition_id for c in row.entry.conditions]) == (1, [retrain.id])
    assert inventory.show_inventory(world_db, "credit").to_dict()["open_conditions"] == 1
    # A newer version is the current one: its count is 0, but version 4's obligation stays on the calendar.
    with world_db.transaction() as uow:
        uow.models.add(name="credit", version="5")
    (row,) = inventory.portfolio(world_db, today=later + timedelta(days=1))
    assert row.entry.open_conditions == 0 and row.entry.calendar_due is DueState.OVERDUE
    assert [(c.version, c.state) for c in row.entry.conditions] == [("4", DueState.OVERDUE)]
