"""``services.analyses.run``: a typed request in, a run recorded once out, a stored answer before any row.

The log is the one ``test_fairness_service`` stores (1,200 rows, 20 without a sex). Results are compared
with the engine run directly on the whole frame as written, so the request's plumbing and the column
projection are what is under test; the engine's own numbers are proven against Fairlearn and AIF360 in
``tests/analysis/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_fairness_service import _log_frame, store_log

from review_world import analyst_token
from signoff.analysis.fairness import run_fairness
from signoff.domain.analysis_requests import FairnessRequest, MonitoringRequest, ValidationRequest
from signoff.domain.errors import InputError, SignoffError
from signoff.domain.fairness import FairnessResult
from signoff.domain.performance import PerformanceResult
from signoff.services import analyses
from signoff.services.audit import list_audit_events
from signoff.services.fairness import analyze_fairness
from signoff.services.logs import get_log
from signoff.services.models import add_model_version


@pytest.fixture
def stored(db):
    model = add_model_version(db, name="credit", version="2")
    frame = _log_frame()
    return model, get_log(db, store_log(db, frame, model.id)), frame


def test_a_request_is_computed_once_and_keeps_the_parameters_runs_were_stored_with(db, stored):
    _, log, frame = stored
    request = FairnessRequest(log=log, sensitive=("sex",), n_resamples=100)
    first = analyses.run(db, request)
    assert analyses.run(db, request).id == first.id
    assert len(list_audit_events(db, action="analysis.recorded")) == 1
    expected = run_fairness(
        frame, label="y", prediction="yhat", scores="p1", sensitive=["sex"], n_resamples=100
    )
    assert first.result_as(FairnessResult) == expected
    # The parameters exactly as services.fairness stored them before requests existed, so a database
    # recorded then finds its runs again (written out by hand from the old _params dict).
    assert first.parameters == {
        "label": "y",
        "prediction": "yhat",
        "scores": "p1",
        "sensitive": ["sex"],
        "intersections": True,
        "bins": {},
        "reference": "largest",
        "positive_label": None,
        "min_group_size": 30,
        "excluded_share": 0.02,
        "n_resamples": 100,
        "seed": 0,
    }
    # the keyword wrapper other code calls is the same request
    wrapped = analyze_fairness(
        db, name="credit", version="2", log_id=log.id, sensitive=["sex"], n_resamples=100
    )
    assert wrapped.run.id == first.id


def test_a_result_is_decoded_only_as_its_kind(db, stored):
    _, log, _ = stored
    run = analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=0))
    with pytest.raises(SignoffError, match="its result is a FairnessResult, not a PerformanceResult"):
        run.result_as(PerformanceResult)


def test_thresholds_have_defaults_and_a_chosen_significance_level_is_part_of_the_request(stored):
    _, log, _ = stored
    default = FairnessRequest(log=log)
    assert (default.excluded_share, default.significance_level, default.min_group_size) == (0.02, 0.05, 30)
    assert "significance_level" not in default.parameters()
    strict = FairnessRequest(log=log, significance_level=0.01)
    assert strict.parameters()["significance_level"] == 0.01
    assert FairnessRequest.from_parameters(log, strict.parameters()).parameters() == strict.parameters()
    with pytest.raises(InputError, match="significance level must lie between 0 and 1"):
        FairnessRequest(log=log, significance_level=5)


def test_only_the_columns_a_request_needs_are_read(db, stored):
    _, log, frame = stored
    frames = analyses.load_frames(db, FairnessRequest(log=log, sensitive=("sex",)))
    assert list(frames["log"].columns) == ["y", "yhat", "p1", "sex"]
    assert frames["log"]["p1"].tolist() == frame["p1"].tolist()
    assert frames["log"]["sex"].tolist()[:25] == frame["sex"].tolist()[:25]
    monitoring = analyses.load_frames(db, MonitoringRequest(log=log))
    assert list(monitoring["log"].columns) == ["ts", "yhat"]
    # validation profiles every imported column, never the importer's source_row bookkeeping
    validation = analyses.load_frames(db, ValidationRequest(log=log))
    assert list(validation["log"].columns) == ["ts", "y", "yhat", "p1", "sex", "age"]


CHILD = """
import json, sys
from signoff.domain.analysis_requests import FairnessRequest
from signoff.services import analyses, open_database

db = open_database(sys.argv[1])
log = analyses.version_log(db, "credit", "2", int(sys.argv[2]))  # as `signoff analyze` finds it
run = analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=100, seed=int(sys.argv[3])))
print(json.dumps({"run": run.id, "loaded": [m for m in ("pandas", "pyarrow", "numpy", "scipy") if m in sys.modules]}))
db.close()
"""


def test_a_stored_answer_comes_back_before_any_row_is_read(db, db_url, stored, subprocess_env):
    """Reading a row needs pyarrow and pandas; a fresh process answering from the stored run loads neither."""
    _, log, _ = stored
    first = analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=100))
    assert _in_a_child(db_url, log.id, seed=0, env=subprocess_env) == {"run": first.id, "loaded": []}


CLI_CHILD = """
import contextlib, io, json, sys
from signoff.entry import main
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    code = main(sys.argv[1:-1])
print(json.dumps({"code": code, "out": printed.getvalue(),
                  "loaded": [m for m in json.loads(sys.argv[-1]) if m in sys.modules]}))
"""
# What answering a stored fairness run has no use for: the rows' libraries, password hashing and
# signing keys, the other kinds' results, and the review, registry, inventory and authority code.
NOT_FOR_A_STORED_RUN = [
    "pandas", "pyarrow", "numpy", "scipy", "argon2", "cryptography",
    "signoff.domain.explanation", "signoff.domain.comparison", "signoff.domain.performance",
    "signoff.domain.review", "signoff.domain.policy", "signoff.domain.inventory",
    "signoff.domain.registry_snapshot", "signoff.storage.reviews", "signoff.storage.review_tables",
    "signoff.storage.registry", "signoff.storage.registry_tables", "signoff.storage.inventory",
    "signoff.storage.inventory_tables", "signoff.storage.authority", "signoff.storage.authority_tables",
]  # fmt: skip


def test_the_cli_answers_a_stored_run_loading_only_what_it_reads(db, db_url, stored, subprocess_env):
    """``signoff analyze fairness`` answered from the stored run, as a CI gate calls it: signed in by
    token, in a fresh process, it loads nothing in ``NOT_FOR_A_STORED_RUN`` (start-up time)."""
    _, log, _ = stored
    first = analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=100))
    argv = ["--db", db_url, "analyze", "fairness", "credit", "2", "--log", str(log.id), "--sensitive", "sex"]
    child = subprocess.run(
        [sys.executable, "-c", CLI_CHILD, *argv, "--resamples", "100", json.dumps(NOT_FOR_A_STORED_RUN)],
        env={**subprocess_env, "SIGNOFF_TOKEN": analyst_token(db_url)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["out"].startswith(f"analysis run {first.id} (fairness)")
    assert report["loaded"] == []


def test_a_first_computation_without_small_cells_loads_no_scipy(db, db_url, stored, subprocess_env):
    """The z-test's normal tail comes from the standard library; scipy (most of a second to import) is
    loaded only for Fisher's exact test, which the 1,200-row log's two large sex groups never need. The
    log's plain columns are read as Arrow, so pandas (a quarter of a second) is not loaded either."""
    _, log, frame = stored
    counts = frame.groupby("sex")["yhat"].agg(["size", "sum"])
    assert (counts["sum"] >= 5).all() and ((counts["size"] - counts["sum"]) >= 5).all()
    report = _in_a_child(db_url, log.id, seed=7, env=subprocess_env)
    assert report["loaded"] == ["pyarrow", "numpy"]  # the rows as Arrow: no pandas either
    computed = analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=100, seed=7))
    assert computed.id == report["run"]
    tests = [
        g.significance for g in computed.result_as(FairnessResult).segment("sex").groups if g.significance
    ]
    assert tests and {t.test for t in tests} == {"two_proportion_z"}


def _in_a_child(db_url: str, log_id: int, *, seed: int, env: dict[str, str]) -> dict:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(log_id), str(seed)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_monitoring_needs_a_timestamp_and_says_so_before_reading(db, stored):
    _, log, _ = stored
    from dataclasses import replace

    untimed = replace(log, mapping=replace(log.mapping, timestamp=None))
    with pytest.raises(InputError, match="has no timestamp column mapped; monitoring needs one"):
        MonitoringRequest(log=untimed)


def test_a_reader_that_leaves_early_gets_no_traceback(db, db_url, stored, subprocess_env):
    """``signoff analyze fairness ... --json | head -1``: the pipe closes while the result is printed."""
    _, log, _ = stored
    analyses.run(db, FairnessRequest(log=log, sensitive=("sex",), n_resamples=100))
    argv = [
        "analyze",
        "fairness",
        "credit",
        "2",
        "--log",
        str(log.id),
        "--sensitive",
        "sex",
        "--resamples",
        "100",
    ]
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write that reaches the pipe fails with EPIPE
    with os.fdopen(write, "wb") as pipe:
        done = subprocess.run(
            [sys.executable, "-m", "signoff", "--db", db_url, *argv, "--json"],
            env={**subprocess_env, "SIGNOFF_TOKEN": analyst_token(db_url)},
            stdout=pipe,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    assert (done.returncode, done.stderr) == (141, "")
