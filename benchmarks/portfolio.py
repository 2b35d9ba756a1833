"""The Portfolio page's read with 5,000 models and 50,000 versions (issue 19): a fixed number of queries.

Fills a fresh SQLite file (or, with ``--postgresql URL``, an empty PostgreSQL database) in bulk: every
model with ten versions, an inventory record with a risk assessment, a policy verdict and a review with
findings on its current version; each approved one (a third) signed with two conditions, one overdue. Then times ``services.inventory.portfolio`` (counting its SQL
statements) and, when Qt is there, filling the page's table model, sorting and filtering it.

    python benchmarks/portfolio.py [--models 5000] [--versions 10] [--postgresql postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy

from signoff.domain.canonical import canonical_json
from signoff.services.inventory import portfolio
from signoff.storage import open_database


def fill(url: str, models: int, versions: int) -> None:
    open_database(url).close()
    engine = sqlalchemy.create_engine(url)
    tables = sqlalchemy.MetaData()
    tables.reflect(engine)
    naive = "sqlite" in url
    now = datetime(2026, 6, 1, tzinfo=UTC)
    when = now.replace(tzinfo=None) if naive else now
    blob = "0" * 64

    def json_text(value) -> str:
        return canonical_json(value).decode()

    with engine.begin() as connection:
        # The guards (migration 0008) refuse rows that did not come through the use cases, e.g. a review
        # that does not start as a draft; this throwaway database is filled directly, so they go first.
        # The portfolio read being measured runs no trigger.
        if naive:
            triggers = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in triggers.fetchall():
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
        else:
            triggers = connection.exec_driver_sql(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
            for name, table in triggers.fetchall():
                connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON {table}')
        connection.execute(
            tables.tables["evidence_blob"].insert(),
            [{"sha256": blob, "size": 0, "media_type": "application/json", "created_at": when}],
        )
        connection.execute(
            tables.tables["app_user"].insert(),
            [
                {
                    "username": "ann",
                    "full_name": "Ann",
                    "email": "a@example.org",
                    "roles": '["reviewer"]',
                    "disabled": False,
                    "created_at": when,
                    "failed_attempts": 0,
                    "password_hash": "x",
                    "public_key": b"k",
                    "sealed_private_key": b"k",
                }
            ],
        )
        connection.execute(
            tables.tables["model_version"].insert(),
            [
                {
                    "id": m * versions + v + 1,
                    "name": f"model-{m:05d}",
                    "version": str(v + 1),
                    "description": "",
                    "source": "manual",
                    "created_at": when,
                    "attributes": "{}",
                }
                for m in range(models)
                for v in range(versions)
            ],
        )
        current = [m * versions + versions for m in range(models)]
        connection.execute(
            tables.tables["inventory_record"].insert(),
            [
                {
                    "model_name": f"model-{m:05d}",
                    "version": "",
                    "values": json_text({"owner": "ann", "stage": ("development", "production")[m % 2]}),
                    "stage_history": "[]",
                    "risk": json_text(
                        {
                            "assessment": {"tier": m % 3 + 1},
                            "intervals": {"1": 12, "2": 24, "3": 36},
                            "override": None,
                        }
                    ),
                    "revision": 1,
                    "updated_at": when,
                    "updated_by": "ann",
                }
                for m in range(models)
            ],
        )
        connection.execute(
            tables.tables["analysis_run"].insert(),
            [
                {
                    "kind": "policy",
                    "model_version_id": version_id,
                    "request_sha256": f"{version_id:064x}",
                    "inputs": "{}",
                    "parameters": "{}",
                    "engine_version": "bench",
                    "result": json_text({"status": ("pass", "fail", "insufficient")[version_id % 3]}),
                    "result_sha256": blob,
                    "created_at": when,
                    "created_by": "ann",
                }
                for version_id in current
            ],
        )
        connection.execute(
            tables.tables["review"].insert(),
            [
                {
                    "id": i + 1,
                    "model_version_id": version_id,
                    "title": "",
                    "state": ("in_review", "approved", "draft")[i % 3],
                    "version": 1,
                    "opened_by": "ann",
                    "opened_at": when,
                    "bundle_hash": blob,
                    "requirements": "[]",
                    "decided_at": when if i % 3 == 1 else None,
                }
                for i, version_id in enumerate(current)
            ],
        )
        connection.execute(
            tables.tables["finding"].insert(),
            [
                {
                    "review_id": i + 1,
                    "number": 1,
                    "type": "observation",
                    "severity": "low",
                    "title": "t",
                    "description": "",
                    "author": "ann",
                    "status": "open",
                    "resolution": "",
                    "created_at": when,
                    "updated_at": when,
                    "updated_by": "ann",
                }
                for i in range(0, models, 2)
            ],
        )
        approved = [i for i in range(models) if i % 3 == 1]
        connection.execute(
            tables.tables["signature"].insert(),
            [
                {
                    "id": i + 1,
                    "review_id": i + 1,
                    "signer": "ann",
                    "printed_name": "Ann",
                    "role": "approver",
                    "meaning": "approved_with_conditions",
                    "signed_at": when,
                    "bundle_hash": blob,
                    "signature": b"s",
                    "public_key_fingerprint": blob,
                    "justification": "bench",
                    "conditions": "[]",
                }
                for i in approved
            ],
        )
        connection.execute(
            tables.tables["review_condition"].insert(),
            [
                {
                    "review_id": i + 1,
                    "signature_id": i + 1,
                    "number": number,
                    "text": "re-check",
                    "owner": "ann",
                    "due": due,
                    "status": "open",
                    "evidence": "",
                }
                for i in approved
                for number, due in ((1, date(2026, 1, 1)), (2, date(2099, 1, 1)))
            ],
        )
    if not naive:
        # What autovacuum does after a bulk load: without statistics the planner picks nested loops.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def measure(url: str, label: str, repeats: int = 3) -> None:
    db = open_database(url)
    statements = []
    sqlalchemy.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    best, rows = float("inf"), []
    for _ in range(repeats):
        statements.clear()
        start = time.perf_counter()
        rows = portfolio(db)
        best = min(best, time.perf_counter() - start)
    print(
        f"{label}: portfolio of {len(rows):,} models read in {best:.2f} s ({len(statements)} SQL statements)"
    )
    db.close()
    try:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication

        from signoff.ui.pages.portfolio_page import COLUMNS, PortfolioModel
    except ImportError:
        return
    app = QApplication.instance() or QApplication([])
    model = PortfolioModel()
    start = time.perf_counter()
    model.set_rows(rows)
    model.sort(COLUMNS.index("Next review due"), Qt.SortOrder.DescendingOrder)
    model.set_filters(text="production", quick="All models")
    print(f"{label}: table model filled, sorted and filtered in {time.perf_counter() - start:.2f} s")
    del app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--postgresql", metavar="URL", help="an empty PostgreSQL database to fill as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'portfolio.db'}"
        start = time.perf_counter()
        fill(url, args.models, args.versions)
        print(
            f"SQLite: filled {args.models:,} models x {args.versions} versions in {time.perf_counter() - start:.1f} s"
        )
        measure(url, "SQLite")
    if args.postgresql:
        fill(args.postgresql, args.models, args.versions)
        measure(args.postgresql, "PostgreSQL")


if __name__ == "__main__":
    main()
