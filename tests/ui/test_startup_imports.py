"""Starting the app must not load the heavy libraries: the window has to be usable within 3 s.

pandas, scipy, SHAP, scikit-learn, plotly or QtWebEngine cost from a few tenths of a second to seconds
each at start-up (docs/performance.md, "Desktop start"). The main window imports pages and wizards only
when they are first shown, so a fresh process that draws the window must not have loaded any of them.
Run in a child process: this test process has long imported them all.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "sklearn",
    "shap",
    "numba",
    "xgboost",
    "lightgbm",
    "plotly",
    "reportlab",
    "alembic",
    "requests",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
]

CHILD = """
import json, sys
from signoff.entry import main
from signoff.ui.main_window import IMPORT_WIZARDS, PAGE_TYPES
import signoff.ui.application  # what it imports itself (settings_page for the saved URL) is fine
already = set(sys.modules)
code = main(["--db", sys.argv[1], "app", "--screenshot", sys.argv[2]])
later = [e.target.partition(":")[0] for e in PAGE_TYPES[1:]] + [w[2].partition(":")[0] for w in IMPORT_WIZARDS]
print(json.dumps({
    "code": code,
    "heavy": [m for m in json.loads(sys.argv[3]) if m in sys.modules],
    "first_page": PAGE_TYPES[0].target.partition(":")[0] in sys.modules,
    "built_early": sorted({m for m in later if m in sys.modules and m not in already}),
}))
"""


def test_the_first_window_loads_no_heavy_library_and_no_other_page(tmp_path, subprocess_env):
    db = f"sqlite:///{tmp_path / 'start.db'}"
    subprocess.run(  # create the database first: migrating it is a one-off cost, with Alembic
        [sys.executable, "-m", "signoff", "--db", db, "models", "list"],
        env=subprocess_env,
        check=True,
        capture_output=True,
    )
    out = tmp_path / "window.png"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, db, str(out), json.dumps(HEAVY)],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and out.stat().st_size > 0
    assert report["first_page"] is True
    assert report["heavy"] == []
    assert report["built_early"] == []


CLI_CHILD = """
import contextlib, io, json, sys
from signoff.cli.main import COMMANDS
from signoff.entry import main
asked = [["--help"], ["--version"], ["no-such-command"], ["--db", "x.db", "modls", "list"]]
asked += [[c.name, "--help"] for c in COMMANDS]
asked += [["analyze", kind, "--help"] for kind in ("fairness", "performance", "monitoring", "drift", "validation")]
asked += [["analyze", "fairnes"], ["analyze", "fairness", "m", "1", "--log", "1", "--sensitve", "sex"]]
codes = []
for argv in asked:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            codes.append(main(argv))
        except SystemExit as stop:
            codes.append(stop.code)
print(json.dumps({"codes": codes, "heavy": [m for m in json.loads(sys.argv[1]) if m in sys.modules]}))
"""


def test_help_version_and_usage_errors_load_no_heavy_library(subprocess_env):
    """``signoff --help``, ``--version``, every command's help and a mistyped word answer at once.

    A CI gate calls the tool many times; SQLAlchemy alone costs more than a second on a busy machine
    (benchmarks/startup.py, docs/performance.md). One child asks all of them in turn, so a heavy
    module loaded by any of them is still in ``sys.modules`` at the end.
    """
    heavy = [*HEAVY, "sqlalchemy", "PySide6", "yaml", "pypdf", "argon2", "cryptography"]
    result = subprocess.run(
        [sys.executable, "-c", CLI_CHILD, json.dumps(heavy)],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    # help and version succeed; every mistyped word or flag is a usage error (exit 2), not a crash
    assert report["codes"][:2] == [0, 0]
    assert report["codes"][2:4] == [2, 2]
    assert set(report["codes"][4:-2]) == {0}
    assert report["codes"][-2:] == [2, 2]
