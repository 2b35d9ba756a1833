"""The registry import wizards driven for real: an MLflow server, a SageMaker export, a model card.

Each runs its job on a real SQLite database; the version page then shows what was stored.
"""

from __future__ import annotations

import json

from signoff.services.models import list_model_versions
from signoff.ui.main_window import MainWindow
from signoff.ui.wizards.registry_wizards import (
    MlflowImportWizard,
    ModelCardImportWizard,
    SagemakerImportWizard,
)

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/ui-credit/{}"


def _finish(qtbot, wizard, screenshots, name):
    wizard.show()
    assert wizard.grab().save(str(screenshots / f"wizard-{name}-1-request.png"))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.result_page.result is not None, timeout=30000)
    assert wizard.grab().save(str(screenshots / f"wizard-{name}-2-result.png"))
    return wizard.result_page.result


def test_mlflow_wizard_fetches_names_and_imports_one_model(qtbot, context, mlflow_server, screenshots):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server)
    mlflow.set_tracking_uri(mlflow_server)
    mlflow.set_experiment("ui-wizard")
    with mlflow.start_run() as run:
        mlflow.log_param("depth", 3)
    client.create_registered_model("ui-wizard-model")
    client.create_model_version("ui-wizard-model", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("ui-wizard-model", "champion", "1")

    window = MainWindow(context)
    qtbot.addWidget(window)
    wizard = window.open_wizard(MlflowImportWizard)
    page = wizard.request_page
    assert not page.isComplete()
    qtbot.keyClicks(page.url, mlflow_server)
    page.fetch.click()
    qtbot.waitUntil(lambda: page.models.count() > 0, timeout=20000)
    names = [page.models.item(r).text() for r in range(page.models.count())]
    assert "ui-wizard-model" in names
    page.models.item(names.index("ui-wizard-model")).setCheckState(page.models.item(0).checkState().Checked)
    assert page.chosen_models() == ["ui-wizard-model"]
    result = _finish(qtbot, wizard, screenshots, "mlflow")
    assert result.versions == 1
    assert "1 version(s)" in wizard.result_page.text.toPlainText()
    stored = [(v.name, v.version) for v in list_model_versions(context.db)]
    assert stored == [("ui-wizard-model", "1")]

    registry = window.pages["registry"]
    qtbot.waitUntil(lambda: registry.model.rowCount() == 1, timeout=3000)
    registry.select(list_model_versions(context.db)[0])
    details = registry.details
    assert details.isVisibleTo(registry)
    assert "champion" in details.aliases.text()
    window.resize(1280, 800)
    window.show()
    for tab in range(details.count()):
        details.setCurrentIndex(tab)
        assert window.grab().save(str(screenshots / f"version-page-tab-{tab + 1}.png"))
    lineage_text = " ".join(
        details.lineage_form.itemAt(i).widget().toolTip()
        for i in range(details.lineage_form.count())
        if details.lineage_form.itemAt(i).widget() is not None
    )
    assert run.info.run_id in lineage_text


def test_mlflow_wizard_shows_a_refused_address_as_a_message(qtbot, context):
    wizard = MlflowImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    # A local mlruns folder is a common mistake; the importer refuses it with a sentence, fast.
    qtbot.keyClicks(wizard.request_page.url, "file:///tmp/mlruns")
    wizard.next()
    qtbot.waitUntil(lambda: "Nothing was imported" in wizard.result_page.text.toPlainText(), timeout=30000)
    assert "http:// or https://" in wizard.result_page.text.toPlainText()
    assert "Traceback" not in wizard.result_page.text.toPlainText()
    assert list_model_versions(context.db) == []


def _package(version: int) -> dict:
    return {
        "ModelPackageGroupName": "ui-credit",
        "ModelPackageVersion": version,
        "ModelPackageArn": ARN.format(version),
        "ModelPackageDescription": f"version {version}",
        "CreationTime": "2026-02-01T10:00:00.123000+00:00",
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "PendingManualApproval",
    }


def test_sagemaker_wizard_imports_an_export_with_a_card(qtbot, context, tmp_path, screenshots):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([_package(1), _package(2)]), encoding="utf-8")
    card = tmp_path / "card.json"
    content = {
        "model_overview": {"model_name": "ui-credit"},
        "intended_uses": {"risk_rating": "High"},
        "model_package_details": {"model_package_arn": ARN.format(2)},
    }
    card.write_text(json.dumps({"ModelCardName": "c", "Content": json.dumps(content)}), encoding="utf-8")
    wizard = SagemakerImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.request_page.export.setText(str(export))
    wizard.request_page.card.setText(str(card))
    result = _finish(qtbot, wizard, screenshots, "sagemaker")
    assert result.source_kind == "sagemaker" and result.versions == 2
    assert sorted(v.version for v in list_model_versions(context.db)) == ["1", "2"]


def test_model_card_wizard_imports_a_readme(qtbot, context, tmp_path, screenshots):
    readme = tmp_path / "README.md"
    readme.write_text(
        "---\nlicense: mit\nlanguage: en\n---\n# Zoë's classifier\nIt sorts.\n", encoding="utf-8"
    )
    wizard = ModelCardImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.request_page.card.setText(str(readme))
    wizard.request_page.model.setText("zoe-classifier")
    wizard.request_page.version.setText("7")
    result = _finish(qtbot, wizard, screenshots, "model-card")
    assert result.versions == 1
    assert [(v.name, v.version) for v in list_model_versions(context.db)] == [("zoe-classifier", "7")]
