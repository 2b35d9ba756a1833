"""The Policy page on a real database: verdicts per rule judged by hand from PSI computed with numpy on
the source rows, a waiver granted in the dialog, and a refused waiver shown as an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from analysis_world import build_world
from PySide6.QtCore import QDate

from signoff.domain.users import Role
from signoff.services import users
from signoff.services.audit import list_audit_events
from signoff.services.models import get_model_version
from signoff.services.policy import list_waivers
from signoff.ui.pages.policy_page import PolicyPage

POLICY = """\
format: signoff-policy/1
name: ui-test
title: Inputs stay put
min_group_size: 30
required_analyses: [validation, drift]
rules:
  - id: stable-inputs
    metric: drift.psi
    scope: "*"
    operator: "<"
    threshold: 0.1
  - id: clean-import
    metric: validation.quarantined_share
    scope: overall
    operator: "<="
    threshold: 0.01
  - id: four-fifths
    metric: fairness.impact_ratio
    scope: "sex=*"
    operator: ">="
    threshold: 0.8
"""
PSI_EPSILON = 1e-4  # the stated convention: a share of 0 counts as 1e-4


def psi_by_hand(reference, current, *, categorical: bool = False) -> float:
    """PSI as the conventions state it: bins cut at the reference's deciles, right-closed."""
    if categorical:
        categories = sorted(set(reference) | set(current))
        ref = np.array([(reference == c).sum() for c in categories], dtype=float)
        cur = np.array([(current == c).sum() for c in categories], dtype=float)
    else:
        edges = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
        ref = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=len(edges) + 1)
        cur = np.bincount(np.searchsorted(edges, current, side="left"), minlength=len(edges) + 1)
    r = np.where(ref == 0, PSI_EPSILON, ref / ref.sum())
    c = np.where(cur == 0, PSI_EPSILON, cur / cur.sum())
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.fixture
def world(context, tmp_path):
    return build_world(context.db, tmp_path)


@pytest.fixture
def policy_file(tmp_path) -> Path:
    path = tmp_path / "ui-test.yaml"
    path.write_text(POLICY)
    return path


APPROVER_PASSWORD = "zoe password 666"


def _sign_in_approver(context) -> None:
    """Waivers are signed acts of an approver or administrator: sign one in, as the desktop would."""
    users.add_user(context.db, None, username="zoe", full_name="Zoë Ñúñez", email="zoe@example.org",
                   roles=frozenset({Role.ADMIN, Role.APPROVER}), password=APPROVER_PASSWORD)  # fmt: skip
    context.sign_in(users.sign_in(context.db, "zoe", APPROVER_PASSWORD))


def _page(qtbot, context) -> PolicyPage:
    page = PolicyPage(context)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def _verdicts(page) -> dict[tuple[str, str], str]:
    model = page.verdict_model
    return {
        (rule, scope): verdict
        for rule, scope, verdict in zip(
            model.column_texts("Rule"),
            model.column_texts("Scope"),
            model.column_texts("Verdict"),
            strict=True,
        )
    }


def test_shipped_policies_are_offered(qtbot, context, request):
    page = _page(qtbot, context)
    shipped = sorted(
        p.stem for p in (Path(request.config.rootpath) / "resources" / "policies").glob("*.yaml")
    )
    assert [page.policy.itemText(i) for i in range(page.policy.count())] == shipped
    assert not page.check_button.isEnabled()


def test_verdicts_match_the_thresholds_by_hand_and_a_waiver_turns_a_failure_into_waived(
    qtbot, context, world, policy_file, qtmodeltester, screenshots
):
    page = _page(qtbot, context)
    context.select_version(get_model_version(context.db, "credit", "1"))
    assert "has not been checked" in page.status.text()
    page.add_policy_file(policy_file)
    page.run_check()
    qtbot.waitUntil(lambda: page.evaluation is not None, timeout=60000)
    qtmodeltester.check(page.verdict_model)
    qtmodeltester.check(page.waiver_model)

    expected = {}
    observed = {}
    for column in ("f0", "f1", "f2", "prediction"):
        psi = psi_by_hand(
            world.reference[column].to_numpy(),
            world.production[column].to_numpy(),
            categorical=column == "prediction",
        )
        observed[column] = psi
        expected[("stable-inputs", column)] = "✔ pass" if psi < 0.1 else "✘ fail"
    expected[("clean-import", "overall")] = "✔ pass"  # nothing was quarantined in either log
    expected[("four-fifths", "sex=*")] = "∅ missing"  # no fairness analysis was run
    assert _verdicts(page) == expected
    assert expected[("stable-inputs", "f0")] == "✘ fail"  # the moved column fails, by hand too
    model = page.verdict_model
    for row, (rule, scope) in enumerate(
        zip(model.column_texts("Rule"), model.column_texts("Scope"), strict=True)
    ):
        if rule == "stable-inputs":
            assert float(model.text(row, model.columns.index("Observed"))) == pytest.approx(
                observed[scope], rel=1e-3
            )
            assert model.text(row, model.columns.index("Threshold")) == "< 0.1"
    assert page.overall.text().startswith("✘ FAIL")
    assert page.grab().save(str(screenshots / "policy-1-verdicts.png"))

    # Waive the failed f0 rule in the dialog.
    assert not page.waive_button.isEnabled()
    f0 = next(
        r for r, (rule, scope) in enumerate(_verdicts(page)) if (rule, scope) == ("stable-inputs", "f0")
    )
    page.verdict_table.selectRow(f0)
    assert page.waive_button.isEnabled()
    _sign_in_approver(context)
    dialog = page.open_waiver_dialog()
    qtbot.waitExposed(dialog)
    assert dialog.scope.text() == "f0"
    assert dialog.granted_by.text() == "Zoë Ñúñez (zoe)"  # no free text: the signed-in account
    until = datetime.now(UTC).date() + timedelta(days=30)
    dialog.justification.setPlainText("Applicants moved after the autumn campaign; re-fit planned for Q1.")
    dialog.until.setDate(QDate(until))
    dialog.password.setText(APPROVER_PASSWORD)
    assert dialog.grab().save(str(screenshots / "policy-2-waiver-dialog.png"))
    with qtbot.waitSignal(dialog.accepted, timeout=30000):  # closes (and is deleted) once stored
        dialog.add_button.click()
    qtbot.waitUntil(lambda: _verdicts(page).get(("stable-inputs", "f0")) == "⚑ waived", timeout=60000)
    [waiver] = list_waivers(context.db, name="credit", version="1")
    assert (waiver.rule_id, waiver.scope, waiver.until, waiver.granted_by, waiver.printed_name) == (
        "stable-inputs",
        "f0",
        until,
        "zoe",
        "Zoë Ñúñez",
    )
    assert page.waiver_model.column_texts("Rule") == ["stable-inputs"]
    assert page.waiver_model.column_texts("In force") == ["✔ yes"]
    assert page.overall.text().startswith("∅ MISSING")  # no failure left, but fairness is missing
    assert page.grab().save(str(screenshots / "policy-3-waived.png"))


def test_a_waiver_without_a_real_justification_is_refused_and_nothing_is_stored(
    qtbot, context, world, policy_file
):
    page = _page(qtbot, context)
    context.select_version(get_model_version(context.db, "credit", "1"))
    page.add_policy_file(policy_file)
    page.run_check()
    qtbot.waitUntil(lambda: page.evaluation is not None, timeout=60000)
    page.verdict_table.selectRow(page.verdict_model.column_texts("Verdict").index("✘ fail"))
    _sign_in_approver(context)
    dialog = page.open_waiver_dialog()
    dialog.justification.setPlainText("ok")
    dialog.password.setText(APPROVER_PASSWORD)
    events = len(list_audit_events(context.db))
    with qtbot.waitSignal(context.job_error, timeout=30000) as blocker:
        dialog.add_button.click()
    assert "justification" in blocker.args[1] and blocker.args[2] == ""
    qtbot.waitUntil(lambda: "justification" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible()
    assert list_waivers(context.db, name="credit", version="1") == []
    assert len(list_audit_events(context.db)) == events


def test_ctrl_r_runs_only_the_shown_pages_analysis(qtbot, context, world, policy_file):
    from PySide6.QtCore import Qt

    from signoff.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):  # shortcuts go to the active window only
        window.show()
        window.activateWindow()
    context.select_version(get_model_version(context.db, "credit", "1"))
    window.show_page("Policy")
    page = window.pages["policy"]
    page.add_policy_file(policy_file)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    # The hidden Explain and Drift pages have the same shortcut and did not start anything.
    assert window.pages["explain"].jobs.job is None and window.pages["drift"].drift_jobs.job is None
    assert page.jobs.job is not None, page.status.text()
    qtbot.waitUntil(lambda: page.evaluation is not None, timeout=60000)


def test_the_chooser_shows_the_recorded_policy_and_a_waiver_rechecks_with_it(
    qtbot, context, world, policy_file
):
    import hashlib

    from signoff.services.analysis_runs import latest_analysis
    from signoff.services.policy import check_policy

    # Checked elsewhere (the CLI, a colleague) against a file the page has never been offered.
    version = get_model_version(context.db, "credit", "1")
    first = check_policy(context.db, name="credit", version="1", policy_file=policy_file, actor="ci")
    context.select_version(version)
    page = _page(qtbot, context)
    assert page.policy.currentText() == "ui-test (as recorded)"
    assert Path(page.policy.currentData()).read_text() == POLICY
    assert page.overall.text().startswith("✘ FAIL") and "ui-test" in page.overall.text()

    page.policy.setCurrentIndex(page.policy.findText("default"))  # the reader looks at another policy
    f0 = next(r for r, key in enumerate(_verdicts(page)) if key == ("stable-inputs", "f0"))
    page.verdict_table.selectRow(f0)
    done = []
    page.add_waiver(
        "stable-inputs",
        scope="f0",
        justification="Applicants moved after the autumn campaign; re-fit planned for Q1.",
        until=datetime.now(UTC).date() + timedelta(days=30),
        granted_by="Zoë Ñúñez",
        on_done=done.append,
    )
    qtbot.waitUntil(lambda: _verdicts(page).get(("stable-inputs", "f0")) == "⚑ waived", timeout=60000)
    assert done == [None]
    latest = latest_analysis(context.db, kind="policy", model_version_id=version.id)
    assert latest.id != first.run.id
    assert latest.result["policy"] == {
        "name": "ui-test",
        "version": hashlib.sha256(POLICY.encode()).hexdigest(),
    }
    assert page.policy.currentText() == "ui-test (as recorded)"
