"""The longest UI-thread stall while a long analysis runs in the app's worker (target: under 100 ms).

The real main window is built on a real SQLite database holding a 1,000,000-row prediction log; a fairness
analysis (3 attributes with every intersection, 1,000 bootstrap resamples) then runs through
``AppContext.run_job``, exactly as a page starts it. A 5 ms QTimer on the UI thread measures how late each
tick arrives; the longest delay is the longest time a click or a repaint would have waited. The same
measurement with the window idle is printed beside it, as the floor of this machine.

    PYTHONPATH=app QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_stall.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from signoff.domain.prediction_log import ColumnMapping
from signoff.services import open_database
from signoff.services.fairness import analyze_fairness
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.ui.context import AppContext
from signoff.ui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).parent))
from fairness import AGE_EDGES, synthetic_log

TICK_MS = 5


class StallMeter:
    """Records how late each tick of a fast UI-thread timer fires."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.delays.clear()
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        elapsed = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        self.delays.append(max(0.0, elapsed - TICK_MS))

    def summary(self) -> str:
        if not self.delays:
            return "no ticks"
        ordered = sorted(self.delays)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        return (
            f"longest stall {max(ordered):7.1f} ms   p99 {p99:6.1f} ms   median {statistics.median(ordered):5.1f} ms"
            f"   ({len(ordered)} ticks)"
        )


def spin(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory(prefix="signoff-ui-stall-") as tmp:
        tmp_path = Path(tmp)
        log_file = tmp_path / "log.parquet"
        synthetic_log(args.rows).to_parquet(log_file)
        db = open_database(f"sqlite:///{tmp_path / 'bench.sqlite'}")
        add_model_version(db, name="stall", version="1", actor="bench")
        started = time.perf_counter()
        log_id = import_log(
            db,
            log_file,
            model="stall",
            version="1",
            mapping=ColumnMapping(
                label="label", prediction="prediction", scores=("score",), sensitive=("sex", "race", "age")
            ),
            actor="bench",
        ).log.id
        print(f"setup: {args.rows:,} rows imported in {time.perf_counter() - started:.1f} s")

        context = AppContext(db, actor="bench")
        window = MainWindow(context)
        window.show()
        spin(app, 1.0)
        meter = StallMeter()

        meter.start()
        spin(app, 3.0)
        meter.stop()
        print(f"idle window:            {meter.summary()}")

        outcome: dict[str, object] = {}

        def work(control):
            return analyze_fairness(
                db,
                name="stall",
                version="1",
                log_id=log_id,
                bins={"age": AGE_EDGES},
                intersections=True,
                n_resamples=1000,
                actor="bench",
                progress=lambda fraction, message="": control.progress(fraction, message),
            )

        meter.start()
        started = time.perf_counter()
        context.run_job("Fairness analysis", work, lambda result: outcome.setdefault("run", result))
        context.job_error.connect(lambda title, message, detail: outcome.setdefault("error", message))
        while not outcome:
            app.processEvents()
            time.sleep(0.001)
        meter.stop()
        if "error" in outcome:
            raise SystemExit(f"analysis failed: {outcome['error']}")
        print(f"analysis running ({time.perf_counter() - started:5.1f} s): {meter.summary()}")
        window.close()
        context.close()
        db.close()


if __name__ == "__main__":
    main()
