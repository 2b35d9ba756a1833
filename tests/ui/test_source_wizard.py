"""The log wizard's "a table or files where they are": a Parquet file registered in place, then analysed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from signoff.services.fairness import analyze_fairness
from signoff.services.logs import list_logs
from signoff.services.models import add_model_version
from signoff.ui.main_window import MainWindow
from signoff.ui.wizards.log_wizard import LogImportWizard


def test_log_wizard_registers_files_where_they_are(qtbot, context, tmp_path, screenshots):
    add_model_version(context.db, name="credit", version="1", actor="tester")
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "y_true": rng.integers(0, 2, 300),
            "prediction": rng.integers(0, 2, 300),
            "sex": rng.choice(["F", "M"], 300),
        }
    )
    path = tmp_path / "lake" / "part-0.parquet"
    path.parent.mkdir()
    frame.to_parquet(path, index=False)
    window = MainWindow(context)
    qtbot.addWidget(window)
    log_wizard = window.open_wizard(LogImportWizard)
    wizard = log_wizard.open_source_wizard()
    assert not log_wizard.isVisible()

    page = wizard.source_page
    page.url.setText(f"duckdb://{tmp_path}/lake/*.parquet")
    page.read_columns()
    qtbot.waitUntil(page.isComplete, timeout=60000)
    assert page.columns == {"y_true": "int64", "prediction": "int64", "sex": "string"}
    assert wizard.grab().save(str(screenshots / "wizard-source-1-where.png"))

    wizard.next()
    mapping = wizard.mapping_page
    assert mapping.single("label") == "y_true" and mapping.single("prediction") == "prediction"
    mapping.set_sensitive(["sex"])
    wizard.next()
    qtbot.waitUntil(lambda: wizard.register_page.outcome is not None, timeout=60000)
    assert wizard.grab().save(str(screenshots / "wizard-source-3-registered.png"))
    [log] = list_logs(context.db)
    assert log.rows == 300 and log.mapping.sensitive == ("sex",)
    run = analyze_fairness(context.db, name="credit", version="1", log_id=log.id, n_resamples=0)
    women = frame[frame["sex"] == "F"]
    assert run.result.segments[0].groups[0].metrics["selection_rate"] == women["prediction"].mean()


def test_a_bad_url_is_shown_on_the_page_and_nothing_is_stored(qtbot, context, tmp_path):
    add_model_version(context.db, name="credit", version="1", actor="tester")
    window = MainWindow(context)
    qtbot.addWidget(window)
    wizard = window.open_wizard(LogImportWizard).open_source_wizard()
    page = wizard.source_page
    page.url.setText(f"duckdb://{tmp_path}/missing.parquet")
    page.read_columns()
    qtbot.waitUntil(lambda: "does not exist" in page.status.text(), timeout=60000)
    assert not page.isComplete() and list_logs(context.db) == []
