"""Load a model file for explanation without running code the file brings.

Safe formats load without asking: skops files whose types all lie in skops' defaults or in Signoff's
own allowlist below (never the ``skops_trusted_types`` an MLflow ``MLmodel`` carries: the artifact would
be vouching for itself), and XGBoost JSON/UBJ and LightGBM text files, which their libraries parse as
data. Pickle and cloudpickle files run arbitrary code while loading, so they are loaded only when their
SHA-256 is in the caller's set of trusted hashes (a recorded user decision); ``scan_pickle`` gives the
advisory static scan a user sees before deciding. Each file is read once and hashed, and the loader
works on those bytes, so the file checked is the file loaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from signoff.domain.errors import InputError, PermissionDenied
from signoff.domain.explanation import ModelArtifact, ModelFormat, PickleImport, PickleScan

# Types skops does not trust by default that Signoff accepts. skops' defaults already cover every
# scikit-learn estimator, the GradientBoosting loss and link objects, numpy arrays and dtypes and
# scipy's ufuncs. Each entry here is a deliberate, reviewed addition:
SKOPS_ALLOWLIST: frozenset[str] = frozenset(
    {
        # Node storage of DecisionTree*, RandomForest*, ExtraTrees* and GradientBoosting*. skops leaves
        # it out because a crafted file can hold out-of-range node indices; Signoff checks every
        # tree's indices (``_check_tree_nodes``) before the model is used at all.
        "sklearn.tree._tree.Tree",
        # LightGBM's scikit-learn wrappers, which MLflow 3.17 saves as skops. The Booster's state is
        # its text model, parsed by LightGBM's native loader: the same path as a LightGBM text file.
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "collections.OrderedDict",
    }
)

MLMODEL = "MLmodel"
PICKLE_SUFFIXES = {".pkl", ".pickle", ".cloudpickle", ".joblib"}

REFUSED_SKOPS_TYPES = (
    "the skops file holds types outside Signoff's allowlist: {types}. Signoff does not load them, "
    "because a type it does not know could run code or read memory out of bounds when the model is used. "
    "Save the model with scikit-learn estimators only, or as an XGBoost/LightGBM native file."
)
UNTRUSTED_PICKLE = (
    "{name} is a {format} file (sha256 {sha256}): loading it would run whatever code it holds, and nobody "
    "has decided to trust it. Review its scan and record a trust decision (`signoff models trust NAME "
    "VERSION`), or bring SHAP values computed in your own pipeline as columns of the prediction log."
)


@dataclass(frozen=True)
class LoadedModel:
    """A model object ready to explain, and the facts of the artifact it came from."""

    model: Any
    artifact: ModelArtifact


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_of(source: Mapping[str, Path] | Path) -> dict[str, Path]:
    if isinstance(source, Mapping):
        return {str(name).replace("\\", "/"): Path(path) for name, path in source.items()}
    root = Path(source)
    if root.is_file():
        return {root.name: root}
    if not root.is_dir():
        raise InputError("no model file or folder here", file=str(root))
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class _Plan:
    """Which file to load, in which format, as which flavor and class (before anything is read)."""

    name: str
    path: Path
    format: ModelFormat
    flavor: str
    declared_class: str = ""


def plan_model_load(source: Mapping[str, Path] | Path) -> _Plan:
    """Recognise the model file among ``source`` (an MLflow model folder, a file mapping or one file)."""
    files = _files_of(source)
    mlmodels = sorted(name for name in files if name.rsplit("/", 1)[-1] == MLMODEL)
    if mlmodels:
        return _plan_from_mlmodel(mlmodels[0], files)
    candidates = [name for name in files if _format_by_name(name) is not None]
    if len(candidates) != 1:
        found = ", ".join(sorted(files)) or "no files"
        raise InputError(
            "cannot tell which file is the model: expected an MLflow MLmodel file or exactly one model "
            f"file (.skops, .json/.ubj for XGBoost, .txt/.lgb for LightGBM, .pkl); found {found}"
        )
    name = candidates[0]
    fmt = _format_by_name(name)
    assert fmt is not None
    return _Plan(name, files[name], fmt, "file")


def _format_by_name(name: str) -> ModelFormat | None:
    suffix = Path(name).suffix.lower()
    if suffix == ".skops":
        return ModelFormat.SKOPS
    if suffix == ".json":
        return ModelFormat.XGBOOST_JSON
    if suffix in (".ubj", ".xgb"):
        return ModelFormat.XGBOOST_UBJ
    if suffix in (".txt", ".lgb", ".lightgbm"):
        return ModelFormat.LIGHTGBM_TEXT
    if suffix in PICKLE_SUFFIXES:
        return ModelFormat.CLOUDPICKLE if suffix == ".cloudpickle" else ModelFormat.PICKLE
    return None


def _plan_from_mlmodel(mlmodel_name: str, files: dict[str, Path]) -> _Plan:
    try:
        spec = yaml.safe_load(files[mlmodel_name].read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(f"the MLmodel file is not valid YAML: {error}", file=mlmodel_name) from error
    flavors = spec.get("flavors") if isinstance(spec, dict) else None
    if not isinstance(flavors, dict):
        raise InputError("the MLmodel file has no 'flavors' section", file=mlmodel_name)
    folder = mlmodel_name[: -len(MLMODEL)]

    def member(relative: Any) -> tuple[str, Path]:
        name = f"{folder}{relative}"
        if not isinstance(relative, str) or name not in files:
            raise InputError(
                f"the MLmodel file names the model file {relative!r}, which is not among the artifacts",
                file=mlmodel_name,
            )
        return name, files[name]

    if "sklearn" in flavors:
        flavor = flavors["sklearn"]
        name, path = member(flavor.get("pickled_model"))
        serialization = flavor.get("serialization_format", "cloudpickle")
        fmt = {
            "skops": ModelFormat.SKOPS,
            "pickle": ModelFormat.PICKLE,
            "cloudpickle": ModelFormat.CLOUDPICKLE,
        }.get(serialization)
        if fmt is None:
            raise InputError(f"unknown sklearn serialization_format {serialization!r}", file=mlmodel_name)
        return _Plan(name, path, fmt, "sklearn")
    if "xgboost" in flavors:
        flavor = flavors["xgboost"]
        name, path = member(flavor.get("data"))
        model_format = str(flavor.get("model_format", Path(name).suffix.lstrip(".")))
        fmt = {"json": ModelFormat.XGBOOST_JSON, "ubj": ModelFormat.XGBOOST_UBJ}.get(model_format)
        if fmt is None:
            raise InputError(
                f"XGBoost model_format {model_format!r} is not supported (JSON or UBJ only)",
                file=mlmodel_name,
            )
        return _Plan(name, path, fmt, "xgboost", str(flavor.get("model_class", "")))
    if "lightgbm" in flavors:
        flavor = flavors["lightgbm"]
        name, path = member(flavor.get("data"))
        serialization = flavor.get("serialization_format")
        fmt = {
            "skops": ModelFormat.SKOPS,
            "pickle": ModelFormat.PICKLE,
            "cloudpickle": ModelFormat.CLOUDPICKLE,
        }.get(serialization or "", _format_by_name(name) or ModelFormat.LIGHTGBM_TEXT)
        return _Plan(name, path, fmt, "lightgbm", str(flavor.get("model_class", "")))
    raise InputError(
        f"the MLmodel file's flavors ({', '.join(sorted(flavors))}) include none Signoff can explain "
        "(sklearn, xgboost, lightgbm)",
        file=mlmodel_name,
    )


def load_model(
    source: Mapping[str, Path] | Path, *, trusted_pickle_sha256: frozenset[str] | set[str] = frozenset()
) -> LoadedModel:
    """Load the model in ``source`` for explanation; see the module docstring for what is refused."""
    plan = plan_model_load(source)
    data = plan.path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    accepted: tuple[str, ...] = ()
    if plan.format is ModelFormat.SKOPS:
        model, accepted = _load_skops(data, plan.name)
    elif plan.format in (ModelFormat.XGBOOST_JSON, ModelFormat.XGBOOST_UBJ):
        model = _load_xgboost(data, plan)
    elif plan.format is ModelFormat.LIGHTGBM_TEXT:
        model = _load_lightgbm(data, plan.name)
    else:
        if sha256 not in trusted_pickle_sha256:
            raise PermissionDenied(
                UNTRUSTED_PICKLE.format(name=plan.name, format=plan.format.value, sha256=sha256)
            )
        model = _load_trusted_pickle(data, plan)
    model_class = f"{type(model).__module__}.{type(model).__qualname__}"
    artifact = ModelArtifact(plan.format, plan.name, sha256, plan.flavor, model_class, accepted)
    return LoadedModel(model, artifact)


def _load_skops(data: bytes, name: str) -> tuple[Any, tuple[str, ...]]:
    import skops.io as sio

    try:
        untrusted = sorted(sio.get_untrusted_types(data=data))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as error:  # damaged file
        raise InputError(f"not a readable skops file ({type(error).__name__}: {error})", file=name) from error
    refused = [t for t in untrusted if t not in SKOPS_ALLOWLIST]
    if refused:
        raise InputError(REFUSED_SKOPS_TYPES.format(types=", ".join(refused)), file=name)
    try:
        model = sio.loads(data, trusted=untrusted)
    except (KeyError, ValueError, TypeError, AttributeError, ImportError) as error:
        raise InputError(
            f"the skops file could not be loaded ({type(error).__name__}: {error})", file=name
        ) from error
    _check_tree_nodes(model, name)
    return model, tuple(untrusted)


def _load_xgboost(data: bytes, plan: _Plan) -> Any:
    import xgboost

    wrappers = {
        "xgboost.sklearn.XGBClassifier": xgboost.XGBClassifier,
        "xgboost.sklearn.XGBRegressor": xgboost.XGBRegressor,
    }
    model = wrappers.get(plan.declared_class, xgboost.Booster)()
    try:
        model.load_model(bytearray(data))
    except xgboost.core.XGBoostError as error:
        raise InputError(f"not a readable XGBoost model: {error}", file=plan.name) from error
    return model


def _load_lightgbm(data: bytes, name: str) -> Any:
    import lightgbm

    try:
        return lightgbm.Booster(model_str=data.decode("utf-8"))
    except (UnicodeDecodeError, lightgbm.basic.LightGBMError) as error:
        raise InputError(f"not a readable LightGBM text model: {error}", file=name) from error


def _load_trusted_pickle(data: bytes, plan: _Plan) -> Any:
    # Reached only for a hash a user decided to trust: this is where the file's code runs.
    try:
        if Path(plan.name).suffix.lower() == ".joblib":
            import joblib

            return joblib.load(io.BytesIO(data))
        return pickle.loads(data)
    except (pickle.UnpicklingError, EOFError, ImportError, AttributeError) as error:
        raise InputError(f"the trusted pickle could not be loaded: {error}", file=plan.name) from error


def _tree_objects(root: Any) -> Iterator[tuple[Any, int | None]]:
    """Every scikit-learn ``Tree`` reachable from ``root``, with its estimator's ``n_features_in_``."""
    from sklearn.tree._tree import Tree

    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(root, None)]
    while stack:
        obj, n_features = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tree):
            yield obj, n_features
        elif isinstance(obj, dict):
            stack.extend((v, n_features) for v in obj.values())
        elif isinstance(obj, list | tuple):
            stack.extend((v, n_features) for v in obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend((v, n_features) for v in obj.ravel())
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("sklearn."):
            own = getattr(obj, "n_features_in_", n_features)
            stack.extend((v, own if isinstance(own, int) else n_features) for v in vars(obj).values())


def _check_tree_nodes(model: Any, name: str) -> None:
    """Refuse trees whose node indices could make scikit-learn read outside its arrays or loop.

    In a tree scikit-learn builds, a node is a leaf exactly when both children are -1, every child
    index is greater than its parent's (so walking down always ends) and features index the input.
    """
    for tree, n_features in _tree_objects(model):
        count = int(tree.node_count)
        left = np.asarray(tree.children_left)
        right = np.asarray(tree.children_right)
        feature = np.asarray(tree.feature)
        nodes = np.arange(count)
        leaf = left == -1
        width = int(tree.n_features) if n_features is None else min(int(tree.n_features), n_features)
        ok = (
            len(left) == len(right) == len(feature) == count
            and np.array_equal(leaf, right == -1)
            and bool(np.all((left[~leaf] > nodes[~leaf]) & (left[~leaf] < count)))
            and bool(np.all((right[~leaf] > nodes[~leaf]) & (right[~leaf] < count)))
            and bool(np.all((feature[~leaf] >= 0) & (feature[~leaf] < width)))
        )
        if not ok:
            raise InputError(
                "a decision tree in the skops file has node or feature indices out of range; the file "
                "is damaged or crafted, and Signoff does not use it",
                file=name,
            )


def scan_pickle(path: Path, *, name: str | None = None) -> PickleScan:
    """Advisory static scan (picklescan) of the imports a pickle would make. Nothing is unpickled."""
    from picklescan.scanner import scan_bytes

    data = path.read_bytes()
    file_name = name or path.name
    result = scan_bytes(io.BytesIO(data), file_name, Path(file_name).suffix.lower())
    imports = tuple(
        sorted(
            (PickleImport(g.module, g.name, g.safety.value) for g in result.globals),
            key=lambda i: ({"dangerous": 0, "suspicious": 1}.get(i.safety, 2), i.module, i.name),
        )
    )
    return PickleScan(
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        scanner=f"picklescan {importlib.metadata.version('picklescan')}",
        imports=imports,
        scan_error=bool(result.scan_err),
    )


def describe_artifact(source: Mapping[str, Path] | Path) -> dict[str, Any]:
    """What ``load_model`` would load, without loading it: file, format, flavor and hash."""
    plan = plan_model_load(source)
    return {
        "file_name": plan.name,
        "format": plan.format.value,
        "flavor": plan.flavor,
        "sha256": sha256_file(plan.path),
        "runs_code_on_load": plan.format.runs_code_on_load,
    }
