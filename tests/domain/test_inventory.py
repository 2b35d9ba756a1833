"""The inventory's rules: field values, stage history, the rubric's tiers, the calendar, proposals."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from signoff.domain.errors import InputError
from signoff.domain.inventory import (
    DueState,
    InventoryRecord,
    OpenCondition,
    add_months,
    apply_changes,
    check_value,
    due_state,
    effective_values,
    inventory_entry,
    parse_assignments,
    proposals_from_registry,
)
from signoff.importers.risk_rubric import load_rubric, parse_rubric


def test_values_are_checked_with_the_known_choices_in_the_message():
    assert check_value("stage", "Production") == "production"
    assert check_value("nyc_ll144_aedt", "yes") is True
    assert check_value("fair_lending", "no") is False
    assert check_value("eu_ai_act_annex_iii", "critical infrastructure") == "critical-infrastructure"
    assert check_value("purpose", "  ") is None  # an empty value clears the field
    with pytest.raises(InputError, match="stage cannot be 'prod'; choose one of development, validation"):
        check_value("stage", "prod")
    with pytest.raises(
        InputError, match="unknown inventory field 'colour'; known fields: owner, backup_owner"
    ):
        check_value("colour", "red")
    with pytest.raises(InputError, match="stage_date must be a date as YYYY-MM-DD"):
        check_value("stage_date", "07/12/2026")
    with pytest.raises(InputError, match="is not FIELD=VALUE"):
        parse_assignments(["owner"])
    with pytest.raises(InputError, match="given twice"):
        parse_assignments(["owner=a", "owner=b"])


def test_each_stage_is_kept_with_its_date():
    record = InventoryRecord("churn")
    values, history, diff = apply_changes(
        record, {"stage": "validation", "stage_date": "2026-01-05"}, by="ann", today=date(2026, 2, 1)
    )
    assert diff == {"stage": {"before": None, "after": "validation"}}
    record = InventoryRecord("churn", values=values, stage_history=history)
    values, history, diff = apply_changes(record, {"stage": "production"}, by="bob", today=date(2026, 3, 9))
    assert [(s.stage, s.since, s.by) for s in history] == [
        ("validation", "2026-01-05", "ann"),
        ("production", "2026-03-09", "bob"),
    ]
    with pytest.raises(InputError, match="stage_date needs a stage"):
        apply_changes(InventoryRecord("x"), {"stage_date": "2026-01-01"}, by="a", today=date(2026, 1, 2))


def test_a_version_overrides_only_what_it_sets():
    model = InventoryRecord("churn", values={"owner": "ann", "limitations": "none known"})
    version = InventoryRecord("churn", "2", values={"limitations": "small sample"})
    assert effective_values(model, version) == {"owner": "ann", "limitations": "small sample"}
    assert effective_values(None, None) == {}


def test_the_shipped_rubric_gives_the_hand_computed_tiers():
    rubric, data = load_rubric()
    # product of scores (low 1, medium 2, high 3); tier 1 from 12, tier 2 from 4, tier 3 below
    cases = {
        ("high", "high", "high"): (27, 1),
        ("high", "medium", "medium"): (12, 1),
        ("high", "medium", "low"): (6, 2),
        ("medium", "medium", "low"): (4, 2),
        ("low", "medium", "low"): (2, 3),
    }
    for (m, c, r), (score, tier) in cases.items():
        assessed = rubric.assess({"materiality": m, "complexity": c, "reliance": r})
        assert (assessed.score, assessed.tier) == (score, tier)
    assert rubric.version == __import__("hashlib").sha256(data).hexdigest()
    assert {t.tier: t.review_interval_months for t in rubric.tiers} == {1: 12, 2: 24, 3: 36}
    with pytest.raises(InputError, match="missing: reliance"):
        rubric.assess({"materiality": "high", "complexity": "high"})
    with pytest.raises(InputError, match="complexity cannot be answered 'huge'; choose one of low, medium"):
        rubric.assess({"materiality": "high", "complexity": "huge", "reliance": "low"})


def test_a_broken_rubric_file_names_each_problem():
    with pytest.raises(InputError, match=r"(?s)file my.yaml.*questions: expected list.*tiers\[0\].min_score"):
        parse_rubric(b"name: x\ntiers:\n  - {tier: 1, review_interval_months: 12}\n", source="my.yaml")


def test_the_calendar_counts_calendar_months_and_flags_due_dates():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 24) == date(2027, 11, 15)
    today = date(2026, 6, 1)
    assert due_state(date(2026, 5, 31), today=today) is DueState.OVERDUE
    assert due_state(date(2026, 7, 1), today=today) is DueState.DUE_SOON  # 30 days ahead
    assert due_state(date(2026, 7, 2), today=today) is DueState.SCHEDULED
    assert due_state(None, today=today) is DueState.NOT_SCHEDULED
    record = InventoryRecord(
        "churn",
        risk={"assessment": {"tier": 2}, "intervals": {"1": 12, "2": 24}, "override": {"tier": 1}},
    )
    entry = inventory_entry("churn", ["1", "2"], record, datetime(2025, 5, 20, 9, 0), today=today)
    assert (entry.tier, entry.tier_overridden, entry.next_due, entry.due) == (
        1,
        True,
        date(2026, 5, 20),
        DueState.OVERDUE,
    )


def test_open_conditions_take_their_own_due_state_and_the_most_urgent_date_leads():
    today = date(2026, 6, 1)
    record = InventoryRecord("churn", risk={"assessment": {"tier": 3}, "intervals": {"3": 36}})
    conditions = [  # given out of order: listed soonest first
        OpenCondition(9, "churn", "2", "retrain", "bob", date(2026, 9, 1), "open"),
        OpenCondition(4, "churn", "1", "fix labels", "ann", date(2026, 5, 30), "in_remediation"),
        OpenCondition(7, "churn", "2", "drift check", "bob", date(2026, 6, 20), "open"),
    ]
    entry = inventory_entry(
        "churn", ["1", "2"], record, datetime(2025, 1, 1), today=today, conditions=conditions
    )
    # Revalidation 36 months after 2025-01-01 is 2028-01-01: scheduled; the conditions are not.
    assert entry.due is DueState.SCHEDULED and entry.calendar_due is DueState.OVERDUE
    assert [(c.condition_id, c.state) for c in entry.conditions] == [
        (4, DueState.OVERDUE),
        (7, DueState.DUE_SOON),  # 19 days ahead
        (9, DueState.SCHEDULED),
    ]
    assert entry.open_conditions == 2  # those of the current version, "2"
    calm = inventory_entry(
        "churn", ["1", "2"], record, datetime(2025, 1, 1), today=today, conditions=[conditions[0]]
    )
    assert calm.calendar_due is DueState.SCHEDULED
    unscheduled = inventory_entry("churn", ["1"], None, None, today=today)
    assert unscheduled.calendar_due is DueState.NOT_SCHEDULED and unscheduled.to_dict()["conditions"] == []


def test_proposals_come_from_the_newest_record_and_skip_agreeing_fields():
    newer = {"card": {"intended_uses": "Rank applicants", "limitations": "US data only"}, "description": ""}
    older = {"card": {"summary": "Old summary", "intended_uses": "Old use"}, "description": "desc"}
    found = proposals_from_registry(
        [
            ("sagemaker snapshot 2 (v2)", "sagemaker", newer),
            ("sagemaker snapshot 1 (v1)", "sagemaker", older),
        ],
        {"limitations": "US data only"},
    )
    assert [(p.field, p.value, p.source) for p in found] == [
        ("purpose", "Old summary", "sagemaker snapshot 1 (v1): card.summary"),
        ("intended_use", "Rank applicants", "sagemaker snapshot 2 (v2): card.intended_uses"),
    ]


def test_a_markdown_cards_sections_go_to_the_fields_their_headings_name():
    # As the model-card importer stores the demo card: out-of-scope text sits in "limitations".
    record = {
        "card": {
            "summary": "Model description\nA binary classifier.",
            "intended_uses": "Intended uses\nA teaching example.\n\nIt stands in for credit pre-screening.",
            "limitations": "Out-of-scope uses\nAny real decision about a person.\n\nKnown limitations\n1994 data.",
            "training_details": "Training data\nadult.data, 32,561 rows.",
        }
    }
    found = {p.field: p.value for p in proposals_from_registry([("card", "model-card", record)], {})}
    assert found == {
        "purpose": "A binary classifier.",
        "intended_use": "A teaching example.\n\nIt stands in for credit pre-screening.",
        "out_of_scope": "Any real decision about a person.",
        "limitations": "1994 data.",
        "training_data": "adult.data, 32,561 rows.",
    }
