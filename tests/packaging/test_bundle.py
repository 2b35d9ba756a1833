"""The one-folder desktop bundle (``./dev package`` -> dist/signoff/), run the way a user runs it.

Each test starts the bundled ``signoff`` binary as a separate process on a temporary SQLite database:
the command line, the database migrations, the main window drawn offscreen to a PNG, and a SHAP
explanation of a skops and an XGBoost model (scikit-learn, skops, SHAP, numba, XGBoost, pandas and
pyarrow all loaded from inside the bundle). Results are checked against this checkout (the version in
pyproject.toml, the newest migration file), scikit-learn and XGBoost computed here, and ldd.

The bundle takes minutes to build, so these tests run only when one exists: ``dist/signoff/signoff`` in
the checkout if it is newer than the sources, or the binary ``$SIGNOFF_BUNDLE`` names. ``./dev test``
does not build it (docs/packaging.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import xgboost
from sklearn.ensemble import RandomForestClassifier

from signoff.ui.main_window import PAGE_TYPES

REPO = Path(__file__).resolve().parents[2]
STARTUP_MARKER = "signoff-startup: main window painted"
WINDOW_SIZE = (1280, 800)  # MainWindow.resize in ui/main_window.py
FEATURES = ["f0", "f1", "f2"]


def find_bundle() -> tuple[Path, str | None]:
    """The binary to test and, when there is none to test, why."""
    named = os.environ.get("SIGNOFF_BUNDLE")
    if named:
        return Path(named), None if Path(named).is_file() else f"$SIGNOFF_BUNDLE: no file {named}"
    binary = REPO / "dist" / "signoff" / "signoff"
    if not binary.is_file():
        return binary, (
            f"no desktop bundle at {binary}; build it with ./dev package (9-15 minutes on the 2-core "
            "build machine, so ./dev test and CI do not; docs/packaging.md)"
        )
    sources = [*(REPO / "app" / "signoff").rglob("*.py"), REPO / "packaging" / "signoff.spec"]
    if max(p.stat().st_mtime for p in sources) > binary.stat().st_mtime:
        return binary, f"{binary} is older than the sources; rebuild it with ./dev package"
    return binary, None


BUNDLE, NOT_TESTABLE = find_bundle()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(NOT_TESTABLE is not None, reason=str(NOT_TESTABLE))]


def run_bundle(
    *args: str, db: str, timeout: float = 300, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    # Nothing from the test's own Python may leak into the bundled interpreter.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1", SIGNOFF_DB=db, **extra_env)
    return subprocess.run(
        [str(BUNDLE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_version_models_and_migrations(tmp_path):
    path = tmp_path / "signoff.db"
    db = f"sqlite:///{path}"
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert ok(run_bundle("--version", db=db)).strip() == f"signoff {version}"

    assert json.loads(ok(run_bundle("models", "list", "--json", db=db))) == []
    # The bundle carries Alembic and the migration scripts: a new database is at the newest revision.
    newest = max(p.stem for p in (REPO / "app/signoff/storage/migrations/versions").glob("0*.py"))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(newest,)]

    ok(run_bundle("models", "add", "credit-risk", "3", db=db))
    listed = json.loads(ok(run_bundle("models", "list", "--json", db=db)))
    assert [(m["name"], m["version"]) for m in listed] == [("credit-risk", "3")]

    unknown = run_bundle("models", "list", "--no-such-option", db=db)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr


@pytest.mark.postgres
def test_a_postgresql_database_through_the_bundled_psycopg(postgres_server):
    db = postgres_server.create_database("template0")  # empty: the bundle migrates it
    ok(run_bundle("models", "add", "churn", "7", db=db))
    listed = json.loads(ok(run_bundle("models", "list", "--json", db=db)))
    assert [(m["name"], m["version"]) for m in listed] == [("churn", "7")]


# The window as it opens, then every other page (charts load QtWebEngine, the report preview QtPdf).
PAGES = [None, *(entry.title for entry in PAGE_TYPES[1:])]


@pytest.mark.parametrize("page", PAGES, ids=[p or "start" for p in PAGES])
def test_main_window_screenshot(tmp_path, page):
    from PySide6.QtGui import QImage

    out = tmp_path / "window.png"
    chosen = ("--page", page) if page else ()
    db = f"sqlite:///{tmp_path / 'app.db'}"
    result = run_bundle("app", "--screenshot", str(out), *chosen, db=db, SIGNOFF_STARTUP_PROBE="1")
    ok(result)
    assert STARTUP_MARKER in result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == WINDOW_SIZE
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    colours, counts = np.unique(pixels, return_counts=True)
    # A drawn window: text, frames and a selected row, not one flat colour.
    assert len(colours) > 20 and counts.max() < 0.9 * pixels.size
    artifacts = REPO / "test-artifacts" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    name = (page or "start").lower().replace(" ", "-")
    shutil.copy(out, artifacts / f"bundle-{name}.png")


def log_frame(seed: int, rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=FEATURES)
    frame["sex"] = rng.choice(["Female", "Male"], size=rows)
    frame["label"] = (frame["f0"] + frame["f1"] > 0).astype(int)
    frame["prediction"] = frame["label"]
    frame["id"] = [f"{seed}-{i}" for i in range(rows)]
    return frame


def explain_row(db: str, tmp_path: Path, version: str, model_file: Path, frame: pd.DataFrame) -> dict:
    log_file = tmp_path / f"log-{version}.parquet"
    frame.to_parquet(log_file, index=False)
    ok(run_bundle("models", "add", "credit", version, db=db))
    imported = ok(
        run_bundle(
            "import", "log", str(log_file), "--model", "credit", "--version", version,
            "--label", "label", "--prediction", "prediction", "--sensitive", "sex",
            "--feature", *FEATURES, "--id", "id", "--role", "production", "--json", db=db,
        )
    )  # fmt: skip
    log_id = json.loads(imported)["id"]
    ok(run_bundle("models", "attach", "credit", version, str(model_file), db=db))
    row_id = frame["id"].iloc[0]
    result = json.loads(
        ok(run_bundle("explain", "credit", version, "--log", str(log_id), "--row", row_id, "--json", db=db))
    )
    (local,) = result["explanation"]["local"]
    assert local["row_id"] == row_id
    return local


def test_shap_explanations_of_skops_and_xgboost_models(tmp_path):
    db = f"sqlite:///{tmp_path / 'explain.db'}"
    training = log_frame(1, rows=600)

    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(training[FEATURES], training["label"])
    sio.dump(forest, tmp_path / "forest.skops")
    frame = log_frame(2)
    local = explain_row(db, tmp_path, "1", tmp_path / "forest.skops", frame)
    expected = forest.predict_proba(frame[FEATURES].iloc[[0]])[0, 1]
    explained = local["base_value"] + sum(c["shap"] for c in local["contributions"])
    assert explained == pytest.approx(expected, abs=1e-6)

    booster = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0)
    booster.fit(training[FEATURES], training["label"])
    booster.save_model(tmp_path / "booster.json")
    frame = log_frame(3)
    local = explain_row(db, tmp_path, "2", tmp_path / "booster.json", frame)
    row = xgboost.DMatrix(frame[FEATURES].iloc[[0]])
    margin = float(booster.get_booster().predict(row, output_margin=True)[0])
    explained = local["base_value"] + sum(c["shap"] for c in local["contributions"])
    assert explained == pytest.approx(margin, abs=1e-4)


# Libraries the bundle must carry itself (a system-wide copy would be an accident, not a dependency).
BUNDLED_LIBRARY = re.compile(
    r"^lib(Qt6|icu|pyside6|shiboken6|arrow|parquet|python3|xgboost|_lightgbm|llvmlite)"
)


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_every_bundled_library_finds_the_libraries_it_needs():
    """The spec drops unused parts of Qt and Arrow; nothing left in the bundle may need a dropped one."""
    internal = BUNDLE.parent / "_internal"
    libraries = [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    assert len(libraries) > 100
    missing: dict[str, set[str]] = {}
    for library in libraries:
        out = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=False).stdout
        for name in re.findall(r"^\s*(\S+) => not found", out, flags=re.MULTILINE):
            if BUNDLED_LIBRARY.match(name):
                missing.setdefault(name, set()).add(str(library.relative_to(internal)))
    assert not missing, missing
