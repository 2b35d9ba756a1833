"""The log wizard's "a table or files where they are": a Parquet file registered in place, then analysed."""

from __future__ import annotations

import keyring.core
import numpy as np
import pandas as pd
from keyrings.alt.file import PlaintextKeyring

from postgres_roles import password_role
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


def test_a_password_typed_in_the_wizard_goes_to_the_keyring_not_the_database(
    qtbot, context, postgres_server, monkeypatch, dump_tables
):
    """A PostgreSQL role that must authenticate; the password typed on the page reaches the real
    file-based keyring (keyrings.alt, chosen by PYTHON_KEYRING_BACKEND) and nothing else."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # chosen afresh from the environment
    secret = "wizard-Secret-91"
    url = password_role(postgres_server, pd.DataFrame({"y": [0, 1], "yhat": [1, 1]}), secret)
    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.open_wizard(LogImportWizard).open_source_wizard().source_page
    page.url.setText(url)
    page.table.setText("predictions")
    page.read_columns()  # no password anywhere yet: the engine refuses
    qtbot.waitUntil(lambda: "no password supplied" in page.status.text(), timeout=60000)

    page.password.setText(secret)
    page.read_columns()
    qtbot.waitUntil(page.isComplete, timeout=60000)
    assert page.columns == {"y": "int64", "yhat": "int64"} and page.password.text() == ""
    account = url.split("://", 1)[1].split(":", 1)[0]
    assert PlaintextKeyring().get_password("signoff", account) == secret
    assert secret not in repr(dump_tables(context.db.url))
