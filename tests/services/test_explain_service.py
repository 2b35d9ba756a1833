"""The explanation use case on a real database: model file from the evidence store, logs by hash,
the result stored once as an analysis run, pickles refused until a recorded trust decision.

Logs are put in the store through the storage layer here (Parquet evidence + log row), the shape the
log importer leaves them in.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from signoff.analysis.model_loading import sha256_file
from signoff.domain.errors import InputError, PermissionDenied
from signoff.domain.explanation import ExplainerKind
from signoff.domain.prediction_log import ColumnMapping, LogRole, PredictionLog
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.services.explain import explain_model_version
from signoff.services.logs import import_log
from signoff.services.model_artifacts import attach_model_file
from signoff.services.models import add_model_version, list_model_versions
from signoff.services.trust import scan_model_artifact, trust_model_artifact

FEATURES = ("f0", "f1", "f2")
MAPPING = ColumnMapping(
    label="label", prediction="prediction", sensitive=("sex",), features=FEATURES, id="id"
)


def make_log(seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=list(FEATURES))
    frame["sex"] = rng.choice(["Female", "Male"], size=rows)
    frame["label"] = (frame["f0"] + frame["f1"] * (frame["sex"] == "Female") > 0).astype(int)
    frame["prediction"] = frame["label"]
    frame["id"] = [f"{seed}-{i}" for i in range(rows)]
    return frame


def store_log(db, model_version_id: int, frame: pd.DataFrame, role: LogRole, folder: Path) -> PredictionLog:
    """Import ``frame`` through the real log import, as a user's file would be."""
    model_version = next(v for v in list_model_versions(db) if v.id == model_version_id)
    path = folder / f"log-{role}-{len(frame)}-{frame['id'].iloc[0]}.parquet"
    frame[list(MAPPING.mapped_columns())].to_parquet(path, index=False)
    return import_log(
        db,
        path,
        model=model_version.name,
        version=model_version.version,
        mapping=MAPPING,
        role=role,
        actor="test",
    ).log


@pytest.fixture
def sqlite_db(tmp_path):
    """For tests where the engine does not matter (the first test runs on both)."""
    from signoff.storage import open_database

    database = open_database(f"sqlite:///{tmp_path / 'signoff.db'}")
    yield database
    database.close()


@pytest.fixture(scope="module")
def training() -> pd.DataFrame:
    return make_log(1, rows=800)


def test_explanation_is_computed_from_stored_evidence_and_stored_once(db, tmp_path, training):
    model_version = add_model_version(db, name="credit", version="1")
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0)
    model.fit(training[list(FEATURES)], training["label"])
    sio.dump(model, tmp_path / "model.skops")
    attach_model_file(db, name="credit", version="1", path=tmp_path / "model.skops")
    reference = store_log(db, model_version.id, training, LogRole.REFERENCE, tmp_path)
    production_frame = make_log(2)
    production = store_log(db, model_version.id, production_frame, LogRole.PRODUCTION, tmp_path)

    first = explain_model_version(db, name="credit", version="1", log_id=production.id, rows=["2-5"])
    assert not first.reused
    assert first.run.inputs == {
        "model": sha256_file(tmp_path / "model.skops"),
        "log": production.evidence_sha256,
        "reference": reference.evidence_sha256,
    }
    explanation = first.explanation
    assert explanation.settings.explainer is ExplainerKind.TREE
    direct = shap.TreeExplainer(model).shap_values(production_frame[list(FEATURES)].to_numpy())
    for item in explanation.global_importance:
        assert item.mean_abs_shap == pytest.approx(np.abs(direct[:, FEATURES.index(item.feature)]).mean())
    assert {c.feature: c.shap for c in explanation.local[0].contributions} == pytest.approx(
        dict(zip(FEATURES, direct[5], strict=True))
    )
    assert explanation.additivity.ok
    assert sum(s.n for s in explanation.segments if s.attribute == "sex") == len(production_frame)

    again = explain_model_version(db, name="credit", version="1", log_id=production.id, rows=["2-5"])
    assert again.reused and again.run.id == first.run.id
    assert again.explanation == first.explanation
    other_seed = explain_model_version(db, name="credit", version="1", log_id=production.id, seed=3)
    assert other_seed.run.id != first.run.id
    recorded = list_audit_events(db, action="analysis.recorded")
    assert len(recorded) == 2
    assert recorded[-1].payload["inputs"]["model"] == first.run.inputs["model"]
    assert verify_audit_log(db).ok


def test_a_pickled_model_is_refused_until_trusted_then_explained(sqlite_db, tmp_path, training):
    db = sqlite_db
    model_version = add_model_version(db, name="legacy", version="7")
    model = LogisticRegression().fit(training[list(FEATURES)], training["label"])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    attach_model_file(db, name="legacy", version="7", path=tmp_path / "model.pkl")
    store_log(db, model_version.id, training, LogRole.REFERENCE, tmp_path)
    log = store_log(db, model_version.id, make_log(3), LogRole.VALIDATION, tmp_path)

    with pytest.raises(PermissionDenied, match="signoff models trust"):
        explain_model_version(db, name="legacy", version="7", log_id=log.id)
    assert list_audit_events(db, action="analysis") == []

    review = scan_model_artifact(db, name="legacy", version="7")
    users.add_user(db, None, username="risk.officer", full_name="Risk Officer", email="r@example.org",
                   roles=frozenset({Role.ADMIN, Role.APPROVER}), password="risk officer password")  # fmt: skip
    trust_model_artifact(
        db,
        name="legacy",
        version="7",
        reviewed=review,
        username="risk.officer",
        password="risk officer password",
    )
    result = explain_model_version(db, name="legacy", version="7", log_id=log.id)
    settings = result.explanation.settings
    assert settings.explainer is ExplainerKind.LINEAR
    assert settings.background_source == "the reference log"
    assert settings.background_size == 200
    assert result.explanation.additivity.ok


def test_a_log_of_another_version_is_refused(sqlite_db, tmp_path, training):
    db = sqlite_db
    one = add_model_version(db, name="a", version="1")
    add_model_version(db, name="b", version="1")
    log = store_log(db, one.id, training, LogRole.VALIDATION, tmp_path)
    with pytest.raises(InputError, match="another model version"):
        explain_model_version(db, name="b", version="1", log_id=log.id)


def test_a_model_logged_to_mlflow_and_imported_is_explained(sqlite_db, mlflow_server, tmp_path, training):
    """The real path: MLflow 3.17 stores the GBM as skops (the MLmodel whitelisting the tree type, which
    Signoff ignores), the registry import stores the files as evidence, the explanation loads them."""
    import mlflow

    from signoff.services.registry_import import import_mlflow

    db = sqlite_db
    name = "explain gbm (mlflow)"
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0)
    model.fit(training[list(FEATURES)], training["label"])
    mlflow.set_tracking_uri(mlflow_server)
    with mlflow.start_run(experiment_id=mlflow.set_experiment("signoff explain").experiment_id):
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=name,
            pip_requirements=["scikit-learn"],
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
    import_mlflow(db, mlflow_server, models=[name])
    with db.transaction(write=False) as uow:
        model_version = uow.models.find(name, "1")
    log_frame = make_log(4)
    log = store_log(db, model_version.id, log_frame, LogRole.VALIDATION, tmp_path)
    result = explain_model_version(db, name=name, version="1", log_id=log.id, rows=["4-9"])
    direct = shap.TreeExplainer(model).shap_values(log_frame[list(FEATURES)].to_numpy())
    assert {c.feature: c.shap for c in result.explanation.local[0].contributions} == pytest.approx(
        dict(zip(FEATURES, direct[9], strict=True))
    )
    assert result.explanation.additivity.ok
    assert result.explanation.settings.model_class.endswith("GradientBoostingClassifier")
