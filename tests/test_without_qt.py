"""Everything but ``signoff.ui`` works in an environment without Qt.

A subprocess makes PySide6 unimportable, imports every other module of the package and runs the
command line, so a stray Qt import anywhere outside ``ui/`` fails here even if import-linter missed it
(for example a dynamic import).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "app"

_PROBE = r"""
import importlib, importlib.abc, json, pkgutil, sys

class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6."):
            raise ImportError("Qt is not installed in this environment")
        return None

sys.meta_path.insert(0, NoQt())
import signoff
imported = []
for module in pkgutil.walk_packages(signoff.__path__, "signoff."):
    # Alembic's env.py and revision scripts only run inside Alembic, not as imports.
    if module.name.startswith(("signoff.ui", "signoff.storage.migrations")) or module.name == "signoff.__main__":
        continue
    importlib.import_module(module.name)
    imported.append(module.name)
from signoff.entry import main
try:
    main(["--help"])
except SystemExit as exit:
    assert exit.code == 0
print(json.dumps(imported))
"""


def test_non_ui_code_imports_and_runs_without_qt():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(APP_DIR)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert "signoff.cli.main" in imported and "signoff.domain.audit" in imported
