"""The Portfolio page on a real SQLite database: counts, sorting, filters, click-through, the model."""

from __future__ import annotations

from PySide6.QtCore import Qt

from signoff.services import inventory
from signoff.services.models import add_model_version
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.portfolio_page import COLUMNS, PortfolioModel


def _policy_verdict(db, version_id: int, status: str) -> None:
    with db.transaction() as uow:
        uow.analysis_runs.add(
            kind="policy",
            model_version_id=version_id,
            inputs={"policy": "0" * 64},
            parameters={"policy_name": "test"},
            engine_version="test",
            result={"status": status},
            created_by="tester",
        )


def test_the_portfolio_counts_sorts_filters_and_opens_a_version(qtbot, context, qtmodeltester):
    db = context.db
    add_model_version(db, name="churn", version="1", actor="tester")
    churn2 = add_model_version(db, name="churn", version="2", actor="tester")
    fraud = add_model_version(db, name="fraud", version="7", actor="tester")
    add_model_version(db, name="Zoë pricing", version="1", actor="tester")
    _policy_verdict(db, churn2.id, "fail")
    _policy_verdict(db, fraud.id, "pass")
    inventory.set_fields(db, "fraud", {"stage": "production", "business_unit": "Payments"}, actor="tester")
    for name, answers in (("fraud", ("high", "high", "high")), ("churn", ("low", "medium", "low"))):
        inventory.assess_risk(
            db, name, dict(zip(("materiality", "complexity", "reliance"), answers, strict=True))
        )

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    page = window.pages["portfolio"]
    assert window.stack.currentWidget() is page  # the first page
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10000)
    qtmodeltester.check(page.model)
    assert page.counts.text() == (
        "3 models · 0 overdue · 0 due within 30 days · 1 failing · 0 awaiting sign-off"
    )

    def column(name):
        c = COLUMNS.index(name)
        return [page.model.index(r, c).data() for r in range(page.model.rowCount())]

    assert column("Model") == ["churn", "fraud", "Zoë pricing"]
    assert column("Current version") == ["2", "7", "1"] and column("Verdict") == ["fail", "pass", ""]
    page.table.sortByColumn(
        COLUMNS.index("Tier"), page.table.horizontalHeader().sortIndicatorOrder().DescendingOrder
    )
    assert column("Tier") == ["3", "1", ""]  # tier numbers descending; not assessed last
    page.quick.setCurrentText("Failing")
    assert column("Model") == ["churn"]
    page.quick.setCurrentText("All models")
    page.search.setText("PRODUCTION")  # the text of any column, whatever the case
    assert column("Model") == ["fraud"]
    page.open_row(page.model.index(0, 0))
    assert context.version == fraud
    assert window.stack.currentWidget() is window.pages["registry"]

    # A change elsewhere reaches the page without a reload by hand.
    inventory.set_fields(db, "Zoë pricing", {"stage": "validation"}, actor="tester")
    page.search.clear()
    qtbot.waitUntil(lambda: "validation" in column("Stage"), timeout=10000)


def test_open_conditions_are_a_column_a_filter_and_a_due_date(qtbot, context):
    from datetime import UTC, datetime, timedelta

    from review_world import PASSWORDS, build_world
    from signoff.services import reviews

    db = context.db
    world = build_world(db)  # the people, credit v4 with a log and a fairness run
    add_model_version(db, name="churn", version="1", actor="tester")
    soon = datetime.now(UTC).date() + timedelta(days=12)
    opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id)
    reviews.submit(db, "alice", opened.review.id)
    reviews.sign(db, opened.review.id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    reviews.sign(
        db,
        opened.review.id,
        username="carol",
        password=PASSWORDS["carol"],
        meaning="approved_with_conditions",
        justification="pilot only",
        conditions=[
            f"monthly drift check|owner=bob|due={soon}",
            f"retrain <b>now</b>|owner=alice|due={soon}",
        ],
    )

    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.pages["portfolio"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10000)

    def column(name):
        c = COLUMNS.index(name)
        return [page.model.index(r, c).data() for r in range(page.model.rowCount())]

    assert column("Model") == ["churn", "credit"]
    assert column("Open conditions") == ["", "2"]
    first_id, second_id = (c.id for c in reviews.list_conditions(db))
    tip = page.model.index(1, COLUMNS.index("Open conditions")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == (
        f"<qt>condition {first_id} of v4: monthly drift check — bob, due {soon} (due soon)<br>"
        f"condition {second_id} of v4: retrain &lt;b&gt;now&lt;/b&gt; — alice, due {soon} (due soon)</qt>"
    )  # the approver's words as typed, never markup
    # No tier, so no revalidation date: the conditions alone make credit due.
    assert column("Due") == ["not scheduled", "due soon (condition)"]
    assert page.counts.text() == (
        "2 models · 0 overdue · 1 due within 30 days · 0 failing · 0 awaiting sign-off"
    )
    page.table.sortByColumn(COLUMNS.index("Open conditions"), Qt.SortOrder.DescendingOrder)
    assert column("Model") == ["credit", "churn"]
    page.quick.setCurrentText("Open conditions")
    assert column("Model") == ["credit"]
    page.quick.setCurrentText("All models")
    page.search.setText("condition")
    assert column("Model") == ["credit"]
    page.search.clear()

    # Closing one is an audited event (condition.closed) the page follows by itself.
    (first, _second) = reviews.list_conditions(db)
    reviews.close_condition(db, "bob", first.id, evidence="drift report")
    qtbot.waitUntil(lambda: column("Open conditions") == ["1", ""], timeout=10000)


def test_the_portfolio_model_alone(qtmodeltester):
    qtmodeltester.check(PortfolioModel())


def test_documents_are_exported_from_the_portfolio_in_a_job(qtbot, context, tmp_path):
    from docx import Document
    from PySide6.QtWidgets import QFileDialog

    from signoff.domain.prediction_log import ColumnMapping
    from signoff.services.logs import import_log

    add_model_version(context.db, name="screening", version="2", actor="tester")
    csv = tmp_path / "log.csv"
    csv.write_text(
        "sex,race,y,p\n"
        + "".join(f"{'F' if i % 2 else 'M'},{'A' if i % 3 else 'B'},1,{i % 2}\n" for i in range(60))
    )
    mapping = ColumnMapping(label="y", prediction="p", sensitive=("sex", "race"))
    import_log(context.db, csv, model="screening", version="2", mapping=mapping)
    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.pages["portfolio"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    actions = {a.text(): a for a in page.documents_button.menu().actions()}
    actions["Annex IV as Markdown…"].trigger()
    assert page.documents.dialog is None  # nothing chosen in the table yet
    assert page.document_status.text() == "Choose a model version first."
    page.table.setCurrentIndex(page.model.index(0, 0))

    actions["Annex IV as Markdown…"].trigger()
    page.documents.dialog.selectFile(str(tmp_path / "annex.md"))
    page.documents.dialog.accept()
    qtbot.waitUntil(lambda: page.document_status.text().startswith("Wrote"), timeout=10000)
    assert "1\\(a\\) Intended purpose" in (tmp_path / "annex.md").read_text(encoding="utf-8")

    # The LL144 summary of the chosen log, saved as an editable Word document (the format chosen).
    actions["NYC LL144 bias-audit summary…"].trigger()
    page.documents.dialog.accept()  # the only log, already chosen
    dialog = page.documents.dialog
    assert isinstance(dialog, QFileDialog)
    dialog.selectNameFilter("Word document (*.docx)")
    dialog.filterSelected.emit("Word document (*.docx)")  # what choosing it in the dialog's list does
    dialog.selectFile(str(tmp_path / "ll144"))
    dialog.accept()
    qtbot.waitUntil(lambda: page.document_status.text().endswith("ll144.docx"), timeout=20000)
    headings = [
        p.text for p in Document(str(tmp_path / "ll144.docx")).paragraphs if p.style.name == "Heading 1"
    ]
    assert headings == [
        "1 Bias audit",
        "2 By sex",
        "3 By race/ethnicity",
        "4 By intersection of sex and race/ethnicity",
    ]
