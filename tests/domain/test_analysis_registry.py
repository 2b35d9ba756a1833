"""The registry of analysis kinds and the one rule for "the latest run of each kind"."""

from __future__ import annotations

from datetime import UTC, datetime

from signoff.domain.analysis_kinds import ANALYSIS_KINDS
from signoff.domain.analysis_run import AnalysisRun, latest_runs

A, B = "aa" * 32, "bb" * 32


def _run(run_id: int, kind: str, inputs: dict[str, str]) -> AnalysisRun:
    return AnalysisRun(
        id=run_id,
        kind=kind,
        model_version_id=1,
        inputs=inputs,
        parameters={},
        engine_version="test",
        result={},
        result_sha256="00" * 32,
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        created_by="tester",
    )


RUNS = [
    _run(1, "fairness", {"log": A}),
    _run(2, "fairness", {"log": A}),  # a re-run replaces run 1
    _run(3, "fairness", {"log": B}),  # another log adds to it
    _run(4, "drift", {"reference_log": A, "current_log": B}),
    _run(5, "policy", {"policy": "cc" * 32}),
]


def test_the_newest_run_of_each_kind_and_inputs():
    assert [r.id for r in latest_runs(RUNS)] == [2, 3, 4, 5]
    assert [r.id for r in latest_runs(reversed(RUNS))] == [2, 3, 4, 5]  # by id, not by order given


def test_runs_reading_chosen_logs_or_not_reading_left_out_ones():
    assert [r.id for r in latest_runs(RUNS, reading={A})] == [2, 4]  # a policy check on log A
    assert [r.id for r in latest_runs(RUNS, not_reading={B})] == [2, 5]  # a review of log A only
    assert [r.id for r in latest_runs(RUNS, kinds={"fairness"})] == [2, 3]


def test_every_kind_names_its_request_result_and_observer():
    assert set(ANALYSIS_KINDS) == {
        "fairness",
        "performance",
        "monitoring",
        "drift",
        "validation",
        "shap",
        "compare",
    }
    for name, kind in ANALYSIS_KINDS.items():
        assert kind.request_type is None or kind.request_type.kind == name
        assert callable(kind.result_type.from_dict)
        if kind.observe is not None:
            assert kind.observe is kind.result_type.observations
        if kind.computation is not None:
            module, _, function = kind.computation.partition(":")
            assert module.startswith("signoff.analysis.") and function == "analyze"
