"""The Policy page's attribute table: the shipped lending policy's ``sex`` and ``race`` read from a team
export's ``Gender`` and ``Ethnicity``, and the binding recorded with the evaluation."""

from __future__ import annotations

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.ui.pages.policy_page import NOT_IN_LOG, PolicyPage
from team_export import write_team_export


def test_the_policy_page_binds_attributes_to_the_logs_columns(qtbot, context, tmp_path):
    version = add_model_version(context.db, name="credit", version="1", actor="tester")
    export = write_team_export(tmp_path / "credit.csv")
    mapping = ColumnMapping(
        label="Actual_Outcome",
        prediction="Model_Decision",
        sensitive=("Gender", "Ethnicity"),
        features=("Age",),
        prediction_map=(("Approved", "Repaid"), ("Declined", "Defaulted")),
        positive_label="Repaid",
        category_map=(("Gender", "female", "Female"),),
    )
    import_log(context.db, export.path, model="credit", version="1", mapping=mapping)
    page = PolicyPage(context)
    qtbot.addWidget(page)
    page.show()
    context.select_version(version)
    page.policy.setCurrentIndex(page.policy.findData("lending-four-fifths"))
    combos = page.binding_combos
    assert list(combos) == ["sex", "race"]
    assert combos["sex"].currentText() == "Gender" and combos["race"].currentText() == "Ethnicity"
    assert [combos["sex"].itemText(i) for i in range(combos["sex"].count())] == [
        NOT_IN_LOG, "Gender", "Ethnicity", "Age",
    ]  # fmt: skip
    page.run_check()
    qtbot.waitUntil(lambda: page.check is not None, timeout=120000)
    assert page.check.attribute_binding == {"sex": "Gender", "race": "Ethnicity"}
    scopes = set(page.verdict_model.column_texts("Scope"))
    assert {"Gender", "Ethnicity"} <= scopes and "sex" not in scopes
    assert page.check.run.result["attribute_binding"] == {"sex": "Gender", "race": "Ethnicity"}
