"""The audit report's inventory page prints the inventory of record the bound bundle holds."""

from __future__ import annotations

from audit_samples import known_case

from signoff.reporting.audit_report import build_audit_report
from signoff.reporting.content import KeyValues


def _inventory_items(report) -> dict[str, str]:
    section = next(s for s in report.sections if s.title == "Inventory record")
    return dict(next(b for b in section.blocks if isinstance(b, KeyValues)).items)


def test_the_record_of_the_bundle_comes_first_on_the_inventory_page():
    inventory = {
        "values": {"owner": "olga", "intended_use": "Credit limits", "nyc_ll144_aedt": False},
        "stage_history": [{"stage": "production", "since": "2026-03-01", "by": "olga"}],
        "risk_tier": 1,
    }
    items = _inventory_items(build_audit_report(known_case(inventory=inventory)))
    assert items == {
        "Owner": "olga",
        "Intended use": "Credit limits",
        "NYC LL144 automated employment decision tool": "no",
        "Lifecycle": "production since 2026-03-01",
        "Risk tier": "1",
    }
    # Without a record the page is as before: the registry's fields first.
    assert "Description" in _inventory_items(build_audit_report(known_case()))
