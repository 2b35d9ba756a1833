"""The Data page shows how a log was read (interpretations, unlabelled rows, spelling warnings) as
plain text, so a value from the file is never taken for markup."""

from __future__ import annotations

from PySide6.QtCore import Qt

from signoff.domain.prediction_log import ColumnMapping
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.ui.pages.data_page import DataPage


def test_the_validation_tab_says_how_the_log_was_read(qtbot, context, tmp_path):
    version = add_model_version(context.db, name="m", version="1")
    path = tmp_path / "log.csv"
    rows = ["group,label,prediction"] + [f"{g},{lbl},{p}" for g, lbl, p in (
        ("<b>A</b>", "Repaid", "Approved"), ("<b>a</b>", "", "Declined"), ("<b>A</b>", "Defaulted", "Declined"),
    )]  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    mapping = ColumnMapping(
        label="label",
        prediction="prediction",
        sensitive=("group",),
        prediction_map=(("Approved", "Repaid"), ("Declined", "Defaulted")),
    )
    import_log(context.db, path, model="m", version="1", mapping=mapping)
    page = DataPage(context)
    qtbot.addWidget(page)
    page.show()
    context.select_version(version)
    qtbot.waitUntil(lambda: "Read as" in page.report_label.text(), timeout=10000)
    qtbot.waitUntil(lambda: page.rows_model.rowCount() == 3, timeout=15000)  # the rows' job is done
    text = page.report_label.text()
    assert "Read as: prediction 'Approved' means label 'Repaid'." in text
    assert "1 row has no label yet" in text
    assert "Warning: group: '<b>A</b>' (2) and '<b>a</b>' (1) differ only in case" in text
    assert page.report_label.textFormat() == Qt.TextFormat.PlainText
