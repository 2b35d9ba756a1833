"""Loading model files for explanation: safe formats load, anything that could run code is refused.

Real models are trained here and saved the way teams save them (skops, MLflow model folders, XGBoost
and LightGBM native files). The pickle tests use a file whose unpickling runs ``os.system``: a marker
file proves whether that code ran.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import lightgbm
import numpy as np
import pytest
import skops.io as sio
import xgboost
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from signoff.analysis.model_loading import (
    SKOPS_ALLOWLIST,
    load_model,
    plan_model_load,
    scan_pickle,
    sha256_file,
)
from signoff.domain.errors import InputError, PermissionDenied
from signoff.domain.explanation import ModelFormat, PickleScan


@pytest.fixture(scope="module")
def training() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x, y


class HomeMadeClassifier(ClassifierMixin, BaseEstimator):
    """A custom class: skops must not be allowed to build it from a file."""

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = x.shape[1]
        return self

    def predict(self, x):
        return np.zeros(len(x), dtype=int)


def test_skops_models_load_and_predict_like_the_originals(tmp_path, training):
    x, y = training
    for model in (
        GradientBoostingClassifier(n_estimators=10, random_state=0),
        RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0),
        LogisticRegression(),
    ):
        model.fit(x, y)
        path = tmp_path / f"{type(model).__name__}.skops"
        sio.dump(model, path)
        loaded = load_model(path)
        assert loaded.artifact.format is ModelFormat.SKOPS
        assert loaded.artifact.sha256 == sha256_file(path)
        assert loaded.artifact.model_class.endswith(type(model).__name__)
        np.testing.assert_array_equal(loaded.model.predict_proba(x), model.predict_proba(x))
        if not isinstance(model, LogisticRegression):
            assert loaded.artifact.accepted_types == ("sklearn.tree._tree.Tree",)


def test_native_xgboost_and_lightgbm_files_load(tmp_path, training):
    x, y = training
    booster = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
    for suffix, fmt in ((".json", ModelFormat.XGBOOST_JSON), (".ubj", ModelFormat.XGBOOST_UBJ)):
        path = tmp_path / f"model{suffix}"
        booster.save_model(path)
        loaded = load_model(path)
        assert loaded.artifact.format is fmt
        margin = loaded.model.predict(xgboost.DMatrix(x), output_margin=True)
        np.testing.assert_allclose(margin, booster.predict(x, output_margin=True))
    gbm = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y)
    path = tmp_path / "model.txt"
    gbm.booster_.save_model(path)
    loaded = load_model(path)
    assert loaded.artifact.format is ModelFormat.LIGHTGBM_TEXT
    np.testing.assert_allclose(loaded.model.predict(x, raw_score=True), gbm.predict(x, raw_score=True))


def test_mlflow_model_folders_are_recognised_by_flavor(tmp_path, training):
    import mlflow.lightgbm
    import mlflow.sklearn
    import mlflow.xgboost

    x, y = training
    # Fixed requirements skip MLflow's environment inference, which takes seconds per model.
    fixed = {"pip_requirements": ["scikit-learn"]}
    mlflow.sklearn.save_model(LogisticRegression().fit(x, y), tmp_path / "sk", **fixed)
    mlflow.xgboost.save_model(xgboost.XGBClassifier(n_estimators=3).fit(x, y), tmp_path / "xgb", **fixed)
    lgb_model = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y)
    mlflow.lightgbm.save_model(lgb_model, tmp_path / "lgb", **fixed)
    sk = load_model(tmp_path / "sk")
    assert (sk.artifact.flavor, sk.artifact.format) == ("sklearn", ModelFormat.SKOPS)
    xgb = load_model(tmp_path / "xgb")
    assert (xgb.artifact.flavor, xgb.artifact.format) == ("xgboost", ModelFormat.XGBOOST_UBJ)
    assert isinstance(xgb.model, xgboost.XGBClassifier)
    lgb = load_model(tmp_path / "lgb")  # MLflow 3.17 saves the scikit-learn wrapper with skops
    assert (lgb.artifact.flavor, lgb.artifact.format) == ("lightgbm", ModelFormat.SKOPS)
    assert isinstance(lgb.model, lightgbm.LGBMClassifier)
    # The same folder given as a mapping of artifact paths, as the evidence store hands it over.
    files = {f"model/{p.name}": p for p in (tmp_path / "xgb").iterdir()}
    assert load_model(files).artifact.file_name == "model/model.ubj"


def test_skops_file_with_an_unknown_type_is_refused(tmp_path, training):
    x, y = training
    path = tmp_path / "custom.skops"
    sio.dump(HomeMadeClassifier().fit(x, y), path)
    with pytest.raises(InputError) as refused:
        load_model(path)
    assert "HomeMadeClassifier" in str(refused.value)
    assert "allowlist" in str(refused.value)


def test_an_mlmodel_that_whitelists_everything_does_not_widen_the_allowlist(tmp_path, training):
    x, y = training
    folder = tmp_path / "crafted"
    folder.mkdir()
    sio.dump(HomeMadeClassifier().fit(x, y), folder / "model.skops")
    custom = f"{HomeMadeClassifier.__module__}.HomeMadeClassifier"
    spec = {
        "flavors": {
            "sklearn": {
                "pickled_model": "model.skops",
                "serialization_format": "skops",
                "skops_trusted_types": [custom, "builtins.eval", "os.system", "posix.system"],
            }
        }
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(InputError, match="HomeMadeClassifier"):
        load_model(folder)
    assert custom not in SKOPS_ALLOWLIST


def _rewrite_member(source: Path, target: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, data if item.filename == member else zin.read(item.filename))


def test_a_tree_with_out_of_range_node_indices_is_refused(tmp_path, training):
    x, y = training
    good = tmp_path / "forest.skops"
    sio.dump(RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(x, y), good)
    # Find the stored node table (a structured array with a left_child field) and point a child far
    # outside the tree, as a crafted file would.
    with zipfile.ZipFile(good) as archive:
        for name in archive.namelist():
            if name.endswith(".npy"):
                nodes = np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
                if nodes.dtype.names and "left_child" in nodes.dtype.names:
                    break
        else:
            raise AssertionError("no node table in the skops file")
    nodes = nodes.copy()
    nodes["left_child"][0] = 10_000_000
    buffer = io.BytesIO()
    np.save(buffer, nodes, allow_pickle=False)
    crafted = tmp_path / "crafted.skops"
    _rewrite_member(good, crafted, name, buffer.getvalue())
    with pytest.raises(InputError, match="node or feature indices out of range"):
        load_model(crafted)
    assert load_model(good).model is not None


class RunsCodeOnLoad:
    """Unpickling this runs a shell command: the textbook malicious model file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_never_runs_without_trust_and_runs_once_trusted(tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(RunsCodeOnLoad(marker)))

    scan = scan_pickle(path)
    assert not marker.exists()
    assert scan.scanner.startswith("picklescan ")
    assert scan.sha256 == sha256_file(path)
    assert any(i.name == "system" and i.safety == "dangerous" for i in scan.imports)
    assert scan.verdict == "dangerous imports found"
    assert PickleScan.from_dict(scan.to_dict()) == scan

    with pytest.raises(PermissionDenied, match="trust") as refused:
        load_model(path)
    assert scan.sha256 in str(refused.value)
    with pytest.raises(PermissionDenied):
        load_model(path, trusted_pickle_sha256={"0" * 64})
    assert not marker.exists()

    load_model(path, trusted_pickle_sha256={scan.sha256})
    assert marker.exists()  # proves the test would notice the code running


def test_an_mlflow_cloudpickle_flavor_is_refused_without_trust(tmp_path):
    marker = tmp_path / "MARKER"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(RunsCodeOnLoad(marker)))
    spec = {"flavors": {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}}}
    (folder / "MLmodel").write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert plan_model_load(folder).format is ModelFormat.CLOUDPICKLE
    with pytest.raises(PermissionDenied):
        load_model(folder)
    assert not marker.exists()


def test_unusable_files_get_a_clear_error(tmp_path):
    junk = tmp_path / "model.skops"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="not a readable skops file"):
        load_model(junk)
    text = tmp_path / "model.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="LightGBM"):
        load_model(text)
    unknown = tmp_path / "weights.bin"
    unknown.write_bytes(b"\x00")
    with pytest.raises(InputError, match="cannot tell which file is the model"):
        load_model(tmp_path / "weights.bin")
    with pytest.raises(InputError, match="no model file"):
        load_model(tmp_path / "absent")
