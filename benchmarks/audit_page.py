"""The Audit trail page over 100,000 events: opening it and changing a filter stay under a second.

Fills a fresh SQLite file with chained ``log.imported`` events in bulk (``audit_verify.fill``), then times
building the page (the newest 5,000 events, worded, one line a row) and a model filter, offscreen.

    python benchmarks/audit_page.py [--events 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from audit_verify import fill
from PySide6.QtWidgets import QApplication

from signoff.storage import open_database
from signoff.ui.context import AppContext
from signoff.ui.pages.audit_page import AuditPage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'audit.db'}"
        fill(url, args.events)
        db = open_database(url)
        context = AppContext(db, actor="bench")
        started = time.perf_counter()
        page = AuditPage(context)
        page.resize(1280, 800)
        page.show()
        app.processEvents()
        opened = time.perf_counter() - started
        started = time.perf_counter()
        page.kind.setCurrentIndex(page.kind.findData("log"))
        app.processEvents()
        filtered = time.perf_counter() - started
        print(
            f"{args.events:,} events: page open with {page.model.rowCount():,} rows in {opened:.2f} s, "
            f"a kind filter in {filtered:.2f} s   (target < 1 s each)"
        )
        page.close()
        context.close()
        db.close()


if __name__ == "__main__":
    main()
