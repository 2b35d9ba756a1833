"""SHAP explanations of a model on a prediction log: global, per sensitive group, and for single rows.

A SHAP value is one feature's share of one row's output: the row's values plus the base value add up
to the model's output in its own output space (log-odds for a boosted classifier, probability for a
random forest, the value for a regressor; always named in the result). The explainer follows the model:
exact TreeSHAP for tree ensembles (scikit-learn, XGBoost, LightGBM; path-dependent, so it needs no
background), LinearSHAP for linear models and the permutation explainer otherwise, both with a
background drawn from the reference log. Everything is seeded, reports ``progress(fraction)`` and stops
when ``cancelled()`` turns true. Intervals come from one row bootstrap shared by every statistic, so a
difference between two groups has an interval that respects their joint variation.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shap
from threadpoolctl import threadpool_limits

from signoff.analysis.model_loading import LoadedModel
from signoff.domain.errors import InputError
from signoff.domain.explanation import (
    Additivity,
    CostEstimate,
    DirectionBin,
    ExplainerKind,
    Explanation,
    ExplanationCancelled,
    ExplanationSettings,
    FeatureContribution,
    FeatureDirection,
    FeatureImportance,
    GroupImportance,
    ImportanceGap,
    LocalExplanation,
)

ADDITIVITY_TOLERANCE = 1e-6
FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
DEFAULT_TIME_BUDGET_SECONDS = 25.0  # the default sample keeps a run under ~30 s on a 2-core laptop
DEFAULT_BACKGROUND_SIZE = 200
DEFAULT_BOOTSTRAP_RESAMPLES = 200
# At least this many rows (when the log has them), whatever the time budget: a group of 2% of the log,
# the smallest the fairness analysis judges, then holds ~30 rows, the minimum group size.
MIN_DEFAULT_SAMPLE = 1500
MAX_DEFAULT_SAMPLE = 20_000
UNKNOWN_GROUP = "Unknown"

# Seconds per work unit, measured on a 2-core laptop-class machine (see docs/performance.md).
# Tree: exact TreeSHAP visits every node of every tree and extends a path of up to the tree's depth at
# each, so a row costs about sum over trees of (nodes x depth) units.
SECONDS_PER_TREE_UNIT = 8e-9
# Linear: one multiply-add per row and feature (plus shap's bookkeeping, which dominates).
SECONDS_PER_LINEAR_UNIT = 5e-7
# Permutation: the model is evaluated on (max_evals x background) rows per explained row; measured
# with a scikit-learn pipeline's predict_proba, shap's masking included.
SECONDS_PER_MODEL_ROW = 3e-6
PERMUTATIONS = 10  # antithetic permutations per row: max_evals = 10 x (2 x features + 1)
# The permutation explainer's first use in a process compiles shap's numba kernels: ~20-25 s here.
PERMUTATION_STARTUP_SECONDS = 25.0

NO_FEATURES = "no feature columns to explain: map the model's input columns as features of the log"
NOT_NUMERIC = (
    "feature values must be numbers (the model's encoded inputs); found {dtype} values such as {example!r}"
)
MISSING_FEATURE = (
    "has {count} missing values; only XGBoost and LightGBM models handle missing inputs. Impute them the "
    "way the model's pipeline does, or leave these rows out of the log"
)
NEEDS_TARGET_CLASS = (
    "the model has {count} classes ({classes}); choose the class to explain with target_class"
)

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


# --- the model seen through one output --------------------------------------------------------------


@dataclass
class ModelView:
    """A model reduced to what an explanation needs: one output function, its space, its explainer."""

    model: Any
    model_class: str
    kind: ExplainerKind
    output_space: str
    output: Callable[[np.ndarray], np.ndarray]  # the model's own 1-D output for rows of features
    class_index: int | None  # which column of a multi-output explanation is ours
    target_class: str | None
    features: tuple[str, ...]
    nan_allowed: bool
    method: str = ""


def _class_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _family(model: Any) -> str:
    module = type(model).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    if module.startswith("sklearn"):
        return "sklearn"
    return "other"


SKLEARN_TREE_MODELS = {
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
}
# Classifiers whose TreeSHAP "raw" output is the probability (averaged leaf class fractions).
SKLEARN_PROBABILITY_TREES = {"RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier"}
# Trees that route a missing value down a learned branch: explained with the NaNs left in place.
SKLEARN_NAN_TREES = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}


def _declared_features(model: Any) -> tuple[str, ...] | None:
    family = _family(model)
    names: Any = None
    if family == "sklearn":
        names = getattr(model, "feature_names_in_", None)
    elif family == "xgboost":
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        names = booster.feature_names
    elif family == "lightgbm":
        booster = getattr(model, "booster_", model)
        names = booster.feature_name()
        # LightGBM invents Column_0, Column_1, ... when trained on a bare array: not real names.
        if names and all(n == f"Column_{i}" for i, n in enumerate(names)):
            names = None
    return None if names is None else tuple(str(n) for n in names)


def _declared_width(model: Any) -> int | None:
    family = _family(model)
    if family == "sklearn":
        return getattr(model, "n_features_in_", None)
    if family == "xgboost":
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        return int(booster.num_features())
    if family == "lightgbm":
        return int(getattr(model, "booster_", model).num_feature())
    return None


def _align_features(model: Any, features: Sequence[str]) -> tuple[str, ...]:
    """The log's feature columns in the order the model expects them."""
    features = tuple(features)
    if not features:
        raise InputError(NO_FEATURES)
    declared = _declared_features(model)
    if declared is not None:
        missing = [n for n in declared if n not in features]
        if missing:
            raise InputError(
                f"the model expects input columns the log's feature mapping lacks: {', '.join(missing)}"
            )
        return declared
    width = _declared_width(model)
    if width is not None and width != len(features):
        raise InputError(
            f"the model takes {width} input features but the log maps {len(features)} "
            f"({', '.join(features)}); map exactly the model's inputs, in its order"
        )
    return features


def _pick_class(classes: Sequence[Any], target_class: Any) -> tuple[int, str]:
    labels = [str(c) for c in classes]
    if target_class is None:
        if len(labels) != 2:
            raise InputError(NEEDS_TARGET_CLASS.format(count=len(labels), classes=", ".join(labels)))
        return 1, labels[1]
    if str(target_class) not in labels:
        raise InputError(
            f"target_class {target_class!r} is not one of the model's classes ({', '.join(labels)})"
        )
    index = labels.index(str(target_class))
    return index, labels[index]


def _accepts_missing(model: Any) -> bool:
    """scikit-learn's own statement that the estimator takes NaN inputs (its ``allow_nan`` tag)."""
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(model).input_tags.allow_nan)
    except (ImportError, AttributeError, TypeError, ValueError):
        return False


def class_words(label: str) -> str:
    """A class as outputs name it: "class 1" for a code, the label itself for a word ("Repaid")."""
    text = str(label)
    try:
        float(text)
    except ValueError:
        return text if text.lower() not in ("true", "false") else f"class {text}"
    return f"class {text}"


def view_model(model: Any, features: Sequence[str], *, target_class: Any = None) -> ModelView:
    """Choose the explainer and the output to explain for ``model`` (a LoadedModel or a model object)."""
    if isinstance(model, LoadedModel):
        model = model.model
    ordered = _align_features(model, features)
    family = _family(model)
    name = type(model).__name__
    declared = _declared_features(model)

    def frame(x: np.ndarray) -> Any:
        # Models fitted on named columns warn (sklearn) or refuse (xgboost) bare arrays.
        return pd.DataFrame(x, columns=list(ordered)) if declared is not None else x

    view = ModelView(
        model, _class_name(model), ExplainerKind.PERMUTATION, "", lambda x: x, None, None, ordered, False
    )
    if family == "sklearn":
        view.nan_allowed = name in SKLEARN_NAN_TREES or _accepts_missing(model)
    if family == "sklearn" and name in SKLEARN_TREE_MODELS:
        view.kind = ExplainerKind.TREE
        if name.endswith("Regressor"):
            view.output_space = "regression output"
            view.output = lambda x: np.asarray(model.predict(frame(x)), dtype=float)
        else:
            index, label = _pick_class(model.classes_, target_class)
            view.target_class = label
            if name in SKLEARN_PROBABILITY_TREES:
                view.output_space = f"probability of {class_words(label)}"
                view.class_index = index
                view.output = lambda x: model.predict_proba(frame(x))[:, index]
            else:
                binary = len(model.classes_) == 2
                view.output_space = (
                    f"log-odds of {class_words(label)}" if binary else f"raw score of {class_words(label)}"
                )
                view.class_index = None if binary else index
                view.output = (
                    (lambda x: model.decision_function(frame(x)))
                    if binary
                    else (lambda x: model.decision_function(frame(x))[:, index])
                )
    elif family == "xgboost":
        view.kind = ExplainerKind.TREE
        view.nan_allowed = True
        _view_xgboost(view, model, frame, target_class)
    elif family == "lightgbm":
        view.kind = ExplainerKind.TREE
        view.nan_allowed = True
        _view_lightgbm(view, model, target_class)
    elif (
        family == "sklearn"
        and type(model).__module__.startswith("sklearn.linear_model")
        and hasattr(model, "coef_")
    ):
        view.kind = ExplainerKind.LINEAR
        if hasattr(model, "classes_"):
            index, label = _pick_class(model.classes_, target_class)
            binary = len(model.classes_) == 2
            view.target_class = label
            view.output_space = (
                f"log-odds of {class_words(label)}" if binary else f"raw score of {class_words(label)}"
            )
            view.class_index = None if binary else index
            view.output = (
                (lambda x: model.decision_function(frame(x)))
                if binary
                else (lambda x: model.decision_function(frame(x))[:, index])
            )
        else:
            view.output_space = "regression output"
            view.output = lambda x: np.asarray(model.predict(frame(x)), dtype=float)
    else:
        if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
            index, label = _pick_class(model.classes_, target_class)
            view.target_class = label
            view.output_space = f"probability of {class_words(label)}"
            view.output = lambda x: model.predict_proba(frame(x))[:, index]
        elif hasattr(model, "predict"):
            view.output_space = "model output (predict)"
            view.output = lambda x: np.asarray(model.predict(frame(x)), dtype=float).reshape(len(x))
        else:
            raise InputError(f"a {_class_name(model)} has no predict method Signoff can explain")
    return view


def _view_xgboost(view: ModelView, model: Any, frame: Callable[[np.ndarray], Any], target_class: Any) -> None:
    import json

    import xgboost

    booster = model.get_booster() if hasattr(model, "get_booster") else model
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if isinstance(model, xgboost.Booster):

        def margin(x: np.ndarray) -> np.ndarray:
            return booster.predict(
                xgboost.DMatrix(x, feature_names=booster.feature_names), output_margin=True
            )

    else:

        def margin(x: np.ndarray) -> np.ndarray:
            return model.predict(frame(x), output_margin=True)

    if objective.startswith("multi:"):
        classes = getattr(
            model,
            "classes_",
            range(int(json.loads(booster.save_config())["learner"]["learner_model_param"]["num_class"])),
        )
        index, label = _pick_class(list(classes), target_class)
        view.class_index, view.target_class = index, label
        view.output_space = f"raw margin of {class_words(label)} (softmax input)"
        view.output = lambda x: margin(x)[:, index]
        return
    if objective.startswith("binary:logistic") or objective == "binary:logitraw":
        label = str(model.classes_[1]) if hasattr(model, "classes_") else "1"
        view.target_class = label
        view.output_space = f"log-odds of {class_words(label)}"
    else:
        view.output_space = f"raw margin ({objective})"
    view.output = lambda x: np.asarray(margin(x), dtype=float).reshape(len(x))


def _view_lightgbm(view: ModelView, model: Any, target_class: Any) -> None:
    booster = getattr(model, "booster_", model)
    objective = str(booster.dump_model(num_iteration=0).get("objective", ""))
    classes = booster.num_model_per_iteration()

    def raw(x: np.ndarray) -> np.ndarray:
        return booster.predict(x, raw_score=True)

    if classes > 1:
        labels = list(getattr(model, "classes_", range(classes)))
        index, label = _pick_class(labels, target_class)
        view.class_index, view.target_class = index, label
        view.output_space = f"raw score of {class_words(label)} (softmax input)"
        view.output = lambda x: raw(x)[:, index]
        return
    if objective.startswith(("binary", "cross_entropy")):
        label = str(model.classes_[1]) if hasattr(model, "classes_") else "1"
        view.target_class = label
        view.output_space = f"log-odds of {class_words(label)}"
    else:
        view.output_space = f"raw score ({objective.split(' ')[0] or 'regression'})"
    view.output = lambda x: np.asarray(raw(x), dtype=float).reshape(len(x))


# --- explainers and their cost ---------------------------------------------------------------------


@dataclass
class _Engine:
    """A built shap explainer and how to turn its answer into (values n x F, base values n)."""

    explainer: Any
    background_size: int
    background_source: str
    max_evals: int = 0


def _build_engine(
    view: ModelView, background: np.ndarray | None, background_source: str, seed: int
) -> _Engine:
    if view.kind is ExplainerKind.TREE:
        view.method = "shap.TreeExplainer (exact, tree_path_dependent)"
        return _Engine(
            shap.TreeExplainer(view.model, feature_perturbation="tree_path_dependent"),
            0,
            "none: path-dependent TreeSHAP uses the training cover stored in the trees",
        )
    assert background is not None
    masker = shap.maskers.Independent(background, max_samples=len(background))
    if view.kind is ExplainerKind.LINEAR:
        view.method = "shap.LinearExplainer (interventional)"
        return _Engine(shap.LinearExplainer(view.model, masker), len(background), background_source)
    view.method = "shap.PermutationExplainer (antithetic permutations)"
    width = len(view.features)
    explainer = shap.PermutationExplainer(view.output, masker, seed=seed)
    return _Engine(explainer, len(background), background_source, PERMUTATIONS * (2 * width + 1))


def _tree_units_per_row(engine: _Engine) -> float:
    ensemble = engine.explainer.model
    depths = np.array([max(int(t.max_depth), 1) for t in ensemble.trees], dtype=float)
    nodes = np.asarray(ensemble.num_nodes, dtype=float)
    return float(np.sum(nodes * depths))


def estimate_cost(view: ModelView, engine: _Engine, rows: int) -> CostEstimate:
    """Seconds an explanation of ``rows`` rows should take, with the formula that gave the number."""
    width = len(view.features)
    if view.kind is ExplainerKind.TREE:
        per_row = _tree_units_per_row(engine)
        formula = f"rows x sum over trees of (nodes x depth) x {SECONDS_PER_TREE_UNIT:g} s"
        seconds_per_unit = SECONDS_PER_TREE_UNIT
    elif view.kind is ExplainerKind.LINEAR:
        per_row = float(width)
        formula = f"rows x features x {SECONDS_PER_LINEAR_UNIT:g} s"
        seconds_per_unit = SECONDS_PER_LINEAR_UNIT
    else:
        per_row = float(engine.max_evals * engine.background_size)
        formula = f"rows x max_evals x background rows x {SECONDS_PER_MODEL_ROW:g} s per model row"
        seconds_per_unit = SECONDS_PER_MODEL_ROW
    units = per_row * rows
    seconds = units * seconds_per_unit
    if view.kind is ExplainerKind.PERMUTATION and not _permutation_compiled():
        seconds += PERMUTATION_STARTUP_SECONDS
        formula += f" + {PERMUTATION_STARTUP_SECONDS:g} s to compile shap's kernels on first use"
    return CostEstimate(view.kind, rows, units, seconds, formula)


def _permutation_compiled() -> bool:
    from shap.utils import _masked_model

    return bool(getattr(_masked_model._build_fixed_single_output, "signatures", ()))


def default_sample_size(view: ModelView, engine: _Engine, rows: int, budget: float) -> int:
    """The most rows (up to MAX_DEFAULT_SAMPLE) whose estimated cost fits in ``budget`` seconds."""
    per_row = estimate_cost(view, engine, 1).seconds - estimate_cost(view, engine, 0).seconds
    budget -= estimate_cost(view, engine, 0).seconds  # a one-off start-up cost, if any
    fits = int(budget / per_row) if per_row > 0 else rows
    return min(rows, max(min(MIN_DEFAULT_SAMPLE, rows), min(fits, MAX_DEFAULT_SAMPLE)))


def _select_output(values: Any, base: Any, view: ModelView, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce shap's answer to (rows x features, rows) for the output being explained."""
    if isinstance(values, list):  # older multi-output convention: one array per output
        values = np.stack(values, axis=-1)
    values = np.asarray(values, dtype=float)
    base = np.asarray(base, dtype=float)
    if values.ndim == 3:
        outputs = values.shape[2]
        index = view.class_index if view.class_index is not None else outputs - 1
        values = values[:, :, index]
        if base.ndim >= 1 and base.shape[-1] == outputs:
            base = base[..., index]
    base = base.reshape(-1)
    if base.size == 1:
        base = np.full(rows, base[0])
    return values, base


def _explain_rows(view: ModelView, engine: _Engine, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if view.kind is ExplainerKind.PERMUTATION:
        answer = engine.explainer(x, max_evals=engine.max_evals, silent=True)
        return _select_output(answer.values, answer.base_values, view, len(x))
    if view.kind is ExplainerKind.TREE:
        with warnings.catch_warnings():
            # shap announces its list-per-class output for LightGBM; _select_output handles both forms.
            warnings.filterwarnings("ignore", message="LightGBM binary classifier", category=UserWarning)
            values = engine.explainer.shap_values(x, check_additivity=False)
    else:
        values = engine.explainer.shap_values(x)
    return _select_output(values, engine.explainer.expected_value, view, len(x))


# --- data preparation ------------------------------------------------------------------------------


def _feature_matrix(data: pd.DataFrame, features: Sequence[str], *, nan_allowed: bool) -> np.ndarray:
    columns = []
    for name in features:
        if name not in data.columns:
            raise InputError("the log has no such feature column", column=name)
        column = data[name]
        if pd.api.types.is_bool_dtype(column):
            column = column.astype(float)
        if not pd.api.types.is_numeric_dtype(column):
            example = column.dropna().iloc[0] if column.notna().any() else None
            raise InputError(NOT_NUMERIC.format(dtype=column.dtype, example=example), column=name)
        values = column.to_numpy(dtype=float, na_value=np.nan)
        if not nan_allowed and np.isnan(values).any():
            raise InputError(MISSING_FEATURE.format(count=int(np.isnan(values).sum())), column=name)
        columns.append(values)
    return np.column_stack(columns) if columns else np.empty((len(data), 0))


def _row_ids(data: pd.DataFrame, id_column: str | None) -> list[str]:
    if id_column is None:
        return [str(i + 1) for i in range(len(data))]  # 1-based row numbers, as errors name rows
    if id_column not in data.columns:
        raise InputError("the log has no such id column", column=id_column)
    return [str(v) for v in data[id_column].tolist()]


def _locate_rows(ids: list[str], wanted: Sequence[str]) -> list[int]:
    position = {row_id: i for i, row_id in enumerate(ids)}
    missing = [str(w) for w in wanted if str(w) not in position]
    if missing:
        raise InputError(f"no row with id {', '.join(missing)} in the log")
    return [position[str(w)] for w in wanted]


def _group_labels(data: pd.DataFrame, column: str) -> np.ndarray:
    if column not in data.columns:
        raise InputError("the log has no such sensitive column", column=column)
    values = data[column]
    labels = values.astype(str).where(values.notna(), UNKNOWN_GROUP)
    return labels.to_numpy(dtype=object)


# --- the run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Streams:
    sample: np.random.Generator
    background: np.random.Generator
    bootstrap: np.random.Generator


def _streams(seed: int) -> _Streams:
    sample, background, bootstrap = np.random.SeedSequence(seed).spawn(3)
    return _Streams(
        np.random.default_rng(sample), np.random.default_rng(background), np.random.default_rng(bootstrap)
    )


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise ExplanationCancelled("the explanation was cancelled; nothing was stored")


def run_explanation(
    model: LoadedModel | Any,
    data: pd.DataFrame,
    *,
    features: Sequence[str],
    background: pd.DataFrame | None = None,
    sensitive: Sequence[str] = (),
    id_column: str | None = None,
    rows: Sequence[str] = (),
    sample_size: int | None = None,
    seed: int = 0,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
    bootstrap_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    min_group_size: int = 30,
    direction_bins: int = 5,
    target_class: Any = None,
    favourable_class: Any = None,
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Explanation:
    """Explain ``model`` on the log ``data``; ``background`` is the reference log (else ``data``)."""
    report = progress or (lambda _fraction: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    view = view_model(model, features, target_class=target_class)
    if target_class is None and favourable_class is not None:
        # The log's favourable label, when it is one of the model's classes (a model trained on 0/1
        # codes keeps its own class 1). A binary margin (log-odds) is only ever of the second class.
        classes = [str(c) for c in getattr(getattr(model, "model", model), "classes_", ())]
        if str(favourable_class) in classes and str(favourable_class) != view.target_class:
            favoured = view_model(model, features, target_class=favourable_class)
            if favoured.class_index is not None or len(classes) > 2:
                view = favoured
    x_all = _feature_matrix(data, view.features, nan_allowed=view.nan_allowed)
    if len(x_all) == 0:
        raise InputError("the log has no rows to explain")
    streams = _streams(seed)

    background_matrix = None
    background_source = ""
    if view.kind is not ExplainerKind.TREE:
        source = data if background is None else background
        background_source = (
            "the explained log (no reference log given)" if background is None else "the reference log"
        )
        pool = _feature_matrix(source, view.features, nan_allowed=view.nan_allowed)
        take = min(background_size, len(pool))
        background_matrix = pool[np.sort(streams.background.choice(len(pool), size=take, replace=False))]
    engine = _build_engine(view, background_matrix, background_source, seed)
    timings["prepare"] = time.perf_counter() - started

    available = len(x_all)
    if sample_size is None:
        size = default_sample_size(view, engine, available, time_budget_seconds)
    else:
        if sample_size < 1:
            raise InputError(f"the sample size must be at least 1 (got {sample_size})")
        size = min(sample_size, available)
    chosen = (
        np.arange(available)
        if size == available
        else np.sort(streams.sample.choice(available, size, replace=False))
    )
    estimate = estimate_cost(view, engine, size + len(rows))
    _check(cancelled)

    started = time.perf_counter()
    x = x_all[chosen]
    values, bases = _explain_in_chunks(
        view, engine, x, estimate_cost(view, engine, size).seconds, report, cancelled
    )
    timings["shap"] = time.perf_counter() - started

    ids = _row_ids(data, id_column)
    wanted = _locate_rows(ids, rows)
    started = time.perf_counter()
    outputs = np.asarray(view.output(x), dtype=float).reshape(len(x))
    local = ()
    if wanted:
        local_x = x_all[wanted]
        if view.kind is ExplainerKind.PERMUTATION:
            # shap's permutation explainer draws from numpy's global generator, seeded when built;
            # seeding again makes a row's local explanation independent of the sample before it.
            np.random.seed(seed)
        local_values, local_bases = _explain_rows(view, engine, local_x)
        local_outputs = np.asarray(view.output(local_x), dtype=float).reshape(len(local_x))
        local = _local_explanations(
            [ids[i] for i in wanted], view.features, local_x, local_values, local_bases, local_outputs
        )
    timings["outputs"] = time.perf_counter() - started
    _check(cancelled)

    settings = dict(
        explainer=view.kind,
        method=view.method,
        output_space=view.output_space,
        model_class=view.model_class,
        features=view.features,
        rows_available=available,
        sample_size=int(size),
        background_size=engine.background_size,
        background_source=engine.background_source,
        seed=seed,
        bootstrap_resamples=bootstrap_resamples,
        confidence=confidence,
        min_group_size=min_group_size,
        shap_version=shap.__version__,
        estimate=estimate,
        target_class=view.target_class,
    )
    sensitive_frame = data.iloc[chosen]
    tolerance, basis = _additivity_bound(view, engine, outputs)
    return _summarise(
        values=values,
        bases=bases,
        x=x,
        outputs=outputs,
        tolerance=tolerance,
        tolerance_basis=basis,
        local=local,
        sensitive_frame=sensitive_frame,
        sensitive=sensitive,
        streams=streams,
        settings=settings,
        timings=timings,
        direction_bins=direction_bins,
        report=report,
        cancelled=cancelled,
    )


def _additivity_bound(view: ModelView, engine: _Engine, outputs: np.ndarray) -> tuple[float, str]:
    """The largest additivity error that still means "exact" for this model, and why."""
    if _family(view.model) == "xgboost" and view.kind is ExplainerKind.TREE:
        # XGBoost keeps leaves and sums trees in float32: each of T additions may round by up to one
        # float32 epsilon of the running sum, so exact SHAP values can differ from its output by that.
        trees = len(engine.explainer.model.trees)
        scale = max(1.0, float(np.max(np.abs(outputs)))) if len(outputs) else 1.0
        bound = max(ADDITIVITY_TOLERANCE, trees * FLOAT32_EPSILON * scale)
        return bound, f"float32 model: trees ({trees}) x float32 epsilon x max(1, max |output|)"
    return ADDITIVITY_TOLERANCE, "exact in float64"


def _explain_in_chunks(
    view: ModelView,
    engine: _Engine,
    x: np.ndarray,
    seconds: float,
    report: Progress,
    cancelled: Cancelled | None,
) -> tuple[np.ndarray, np.ndarray]:
    # A chunk about every quarter second (at most 20) gives progress and a cancel point without the
    # per-call cost showing on a sub-second run; permutation chunks stay small enough to cancel soon.
    chunks = min(20, max(1, math.ceil(seconds / 0.25)))
    chunk = max(1, math.ceil(len(x) / chunks))
    if view.kind is ExplainerKind.PERMUTATION:
        chunk = min(chunk, 16)
    value_parts, base_parts = [], []
    for start in range(0, len(x), chunk):
        _check(cancelled)
        values, bases = _explain_rows(view, engine, x[start : start + chunk])
        value_parts.append(values)
        base_parts.append(bases)
        report(0.9 * min(1.0, (start + chunk) / len(x)))
    return np.vstack(value_parts), np.concatenate(base_parts)


def _local_explanations(
    ids: list[str],
    features: Sequence[str],
    x: np.ndarray,
    values: np.ndarray,
    bases: np.ndarray,
    outputs: np.ndarray | None,
) -> tuple[LocalExplanation, ...]:
    result = []
    for r, row_id in enumerate(ids):
        order = np.argsort(-np.abs(values[r]), kind="stable")
        contributions = tuple(
            FeatureContribution(
                features[j], None if np.isnan(x[r, j]) else float(x[r, j]), float(values[r, j])
            )
            for j in order
        )
        output = None if outputs is None else float(outputs[r])
        error = None if outputs is None else float(abs(bases[r] + values[r].sum() - outputs[r]))
        result.append(LocalExplanation(row_id, float(bases[r]), contributions, output, error))
    return tuple(result)


# --- summaries -------------------------------------------------------------------------------------


def _bootstrap_counts(rng: np.random.Generator, rows: int, resamples: int) -> np.ndarray:
    """How often each row is drawn in each resample of a row bootstrap: rows x resamples.

    Rows run down the first axis so that the rows of one group, once put together, are one contiguous
    block for the matrix products below.
    """
    draws = rng.integers(0, rows, size=(resamples, rows), dtype=np.int32)
    counts = np.empty((rows, resamples), dtype=float)
    for b in range(resamples):  # one bincount per resample stays in cache; a single big one does not
        counts[:, b] = np.bincount(draws[b], minlength=rows)
    return counts


def _interval(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - confidence) / 2 * 100
    if not np.isnan(draws).any():  # the usual case; nanpercentile is many times slower
        low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
        return low, high
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: a group absent from every resample
        low = np.nanpercentile(draws, tail, axis=0)
        high = np.nanpercentile(draws, 100 - tail, axis=0)
    return low, high


def _directions(
    x: np.ndarray, values: np.ndarray, features: Sequence[str], bins: int
) -> tuple[FeatureDirection, ...]:
    """Mean SHAP per quantile bin of each feature's value; bins that no row falls in are left out."""
    result = []
    columns, shaps = np.ascontiguousarray(x.T), np.ascontiguousarray(values.T)
    inner = np.linspace(0, 1, bins + 1)[1:-1]
    for name, column, shap_column in zip(features, columns, shaps, strict=True):
        present = ~np.isnan(column)
        xv, sv = (column, shap_column) if present.all() else (column[present], shap_column[present])
        if len(xv) == 0:
            result.append(FeatureDirection(name, (), None))
            continue
        # Bin k holds edge[k-1] <= value < edge[k]; repeated edges (few distinct values) leave empty
        # bins, which are dropped, so a 0/1 feature gets one bin per value.
        edges = np.quantile(xv, inner)
        codes = np.searchsorted(edges, xv, side="right")
        counts = np.bincount(codes, minlength=bins)
        sums = np.bincount(codes, weights=sv, minlength=bins)
        bounds = np.r_[xv.min(), edges, xv.max()]
        direction_bins = tuple(
            DirectionBin(float(bounds[k]), float(bounds[k + 1]), int(counts[k]), float(sums[k] / counts[k]))
            for k in range(bins)
            if counts[k] > 0
        )
        correlation = None
        if bounds[0] != bounds[-1] and np.std(sv) > 0:
            correlation = float(np.corrcoef(xv, sv)[0, 1])
        result.append(FeatureDirection(name, direction_bins, correlation))
    return tuple(result)


def _attributes(frame: pd.DataFrame, sensitive: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """Each sensitive attribute and each intersection of two or more, as (name, group label per row)."""
    singles = [(name, _group_labels(frame, name)) for name in sensitive]
    result = list(singles)
    for size in range(2, len(singles) + 1):
        for combo in itertools.combinations(singles, size):
            name = "&".join(n for n, _ in combo)
            labels = combo[0][1]
            for _, more in combo[1:]:
                labels = labels + "&" + more  # object arrays of str concatenate element-wise
            result.append((name, labels))
    return result


def _summarise(
    *,
    values: np.ndarray,
    bases: np.ndarray,
    x: np.ndarray,
    outputs: np.ndarray | None,
    tolerance: float | None,
    tolerance_basis: str,
    local: tuple[LocalExplanation, ...],
    sensitive_frame: pd.DataFrame,
    sensitive: Sequence[str],
    streams: _Streams,
    settings: dict[str, Any],
    timings: dict[str, float],
    direction_bins: int,
    report: Progress,
    cancelled: Cancelled | None,
) -> Explanation:
    # These products are thin (features x rows x resamples): OpenBLAS's threads only contend on them,
    # measured 10x slower with two threads than with one on a 2-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        return _summarise_single_threaded(
            values=values,
            bases=bases,
            x=x,
            outputs=outputs,
            tolerance=tolerance,
            tolerance_basis=tolerance_basis,
            local=local,
            sensitive_frame=sensitive_frame,
            sensitive=sensitive,
            streams=streams,
            settings=settings,
            timings=timings,
            direction_bins=direction_bins,
            report=report,
            cancelled=cancelled,
        )


def _summarise_single_threaded(
    *,
    values: np.ndarray,
    bases: np.ndarray,
    x: np.ndarray,
    outputs: np.ndarray | None,
    tolerance: float | None,
    tolerance_basis: str,
    local: tuple[LocalExplanation, ...],
    sensitive_frame: pd.DataFrame,
    sensitive: Sequence[str],
    streams: _Streams,
    settings: dict[str, Any],
    timings: dict[str, float],
    direction_bins: int,
    report: Progress,
    cancelled: Cancelled | None,
) -> Explanation:
    started = time.perf_counter()
    features: tuple[str, ...] = settings["features"]
    confidence: float = settings["confidence"]
    min_group_size: int = settings["min_group_size"]
    resamples: int = settings["bootstrap_resamples"]
    n = len(values)
    magnitude = np.abs(values)

    attributes = _attributes(sensitive_frame, sensitive)
    group_index = []  # (attribute, group, row positions)
    attribute_codes = []  # per attribute: (first index into group_index, group code of each row)
    for attribute, labels in attributes:
        codes, groups = pd.factorize(labels, sort=True)
        attribute_codes.append((len(group_index), codes, len(groups)))
        for g, group in enumerate(groups):
            group_index.append((attribute, str(group), np.flatnonzero(codes == g)))

    # One row bootstrap for every statistic, processed in blocks of resamples to bound memory. A
    # group's mean in a resample is (sum of its drawn rows' |SHAP|) / (its drawn rows). Rows are put
    # in group order once per attribute, so each group is a contiguous block and one matrix product.
    width = len(features)
    global_draws = np.empty((resamples, width))
    group_draws = np.empty((len(group_index), resamples, width))
    layouts = []
    for first, codes, count in attribute_codes:
        order = np.argsort(codes, kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=count))]
        layouts.append((first, count, order, bounds, np.ascontiguousarray(magnitude[order].T)))
    magnitude_t = np.ascontiguousarray(magnitude.T)
    block = max(1, min(resamples, 4_000_000 // max(n, 1)))
    for start in range(0, resamples, block):
        _check(cancelled)
        counts = _bootstrap_counts(streams.bootstrap, n, min(block, resamples - start))
        stop = start + counts.shape[1]
        global_draws[start:stop] = (magnitude_t @ counts).T / n
        for first, count, order, bounds, ordered_magnitude_t in layouts:
            ordered_counts = counts[order]
            for g in range(count):
                part = slice(bounds[g], bounds[g + 1])
                drawn = ordered_counts[part].sum(axis=0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = (ordered_magnitude_t[:, part] @ ordered_counts[part]) / drawn
                group_draws[first + g, start:stop] = ratio.T

    means = magnitude.mean(axis=0)
    low, high = _interval(global_draws, confidence)
    order = np.argsort(-means, kind="stable")
    global_importance = tuple(
        FeatureImportance(features[j], float(means[j]), float(low[j]), float(high[j])) for j in order
    )

    segments = []
    group_means = {}
    for k, (attribute, group, members) in enumerate(group_index):
        mean = magnitude[members].mean(axis=0)
        group_means[k] = mean
        g_low, g_high = _interval(group_draws[k], confidence)
        segments.append(
            GroupImportance(
                attribute,
                group,
                len(members),
                tuple(
                    FeatureImportance(features[j], float(mean[j]), _plain(g_low[j]), _plain(g_high[j]))
                    for j in order
                ),
                insufficient=len(members) < min_group_size,
            )
        )

    candidates = []  # (attribute, feature index, group a, group b)
    for attribute, _labels in attributes:
        eligible = [
            k
            for k, (a, _g, members) in enumerate(group_index)
            if a == attribute and len(members) >= min_group_size
        ]
        if len(eligible) < 2:
            continue
        stacked = np.array([group_means[k] for k in eligible])  # groups x features
        for j in range(width):
            a = eligible[int(np.argmax(stacked[:, j]))]
            b = eligible[int(np.argmin(stacked[:, j]))]
            if a != b:
                candidates.append((attribute, j, a, b))
    gaps = []
    if candidates:
        differences = np.column_stack(
            [group_draws[a, :, j] - group_draws[b, :, j] for _, j, a, b in candidates]
        )
        diff_low, diff_high = _interval(differences, confidence)
        for c, (attribute, j, a, b) in enumerate(candidates):
            gaps.append(
                ImportanceGap(
                    attribute,
                    features[j],
                    group_index[a][1],
                    group_index[b][1],
                    float(group_means[a][j]),
                    float(group_means[b][j]),
                    float(group_means[a][j] - group_means[b][j]),
                    float(diff_low[c]),
                    float(diff_high[c]),
                    len(group_index[a][2]),
                    len(group_index[b][2]),
                )
            )
    gaps.sort(key=lambda g: (-g.difference, g.attribute, g.feature))

    additivity = Additivity(None, tolerance, 0, tolerance_basis)
    if outputs is not None:
        errors = np.abs(bases + values.sum(axis=1) - outputs)
        if local:
            errors = np.concatenate(
                [errors, [r.additivity_error for r in local if r.additivity_error is not None]]
            )
        additivity = Additivity(float(errors.max()), tolerance, len(errors), tolerance_basis)

    directions = _directions(x, values, features, direction_bins)
    timings["summaries"] = time.perf_counter() - started
    report(1.0)
    return Explanation(
        settings=ExplanationSettings(**settings, timings={k: round(v, 6) for k, v in timings.items()}),
        base_value=float(bases.mean()),
        global_importance=global_importance,
        directions=directions,
        segments=tuple(segments),
        gaps=tuple(gaps),
        local=local,
        additivity=additivity,
    )


def _plain(value: float) -> float | None:
    # A group too small to appear in every resample can leave no interval; JSON has no NaN.
    return float(value) if np.isfinite(value) else None


# --- SHAP values brought in a log ------------------------------------------------------------------


def explain_precomputed(
    data: pd.DataFrame,
    *,
    shap_columns: Mapping[str, str],
    base_value: str | float,
    output_column: str | None = None,
    output_space: str = "as computed by the team's pipeline",
    sensitive: Sequence[str] = (),
    id_column: str | None = None,
    rows: Sequence[str] = (),
    sample_size: int | None = None,
    seed: int = 0,
    bootstrap_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    min_group_size: int = 30,
    direction_bins: int = 5,
    additivity_tolerance: float | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Explanation:
    """Summarise SHAP values a pipeline wrote into the log: ``shap_columns`` maps feature -> column.

    ``base_value`` is a column of per-row base values or one number. With ``output_column`` (the
    model's output in the same space) additivity is checked; feature columns named like the features,
    when present, give the direction summary.
    """
    report = progress or (lambda _fraction: None)
    if not shap_columns:
        raise InputError("no SHAP columns given: map each feature to the column holding its SHAP values")
    features = tuple(shap_columns)
    values_all = _feature_matrix(data, [shap_columns[f] for f in features], nan_allowed=False)
    if isinstance(base_value, str):
        bases_all = _feature_matrix(data, [base_value], nan_allowed=False)[:, 0]
    else:
        bases_all = np.full(len(data), float(base_value))
    outputs_all = (
        None if output_column is None else _feature_matrix(data, [output_column], nan_allowed=False)[:, 0]
    )
    present = [f for f in features if f in data.columns]
    x_all = np.full(values_all.shape, np.nan)
    for j, f in enumerate(features):
        if f in present:
            x_all[:, j] = _feature_matrix(data, [f], nan_allowed=True)[:, 0]

    available = len(data)
    if available == 0:
        raise InputError("the log has no rows to explain")
    streams = _streams(seed)
    size = available if sample_size is None else max(1, min(sample_size, available))
    chosen = (
        np.arange(available)
        if size == available
        else np.sort(streams.sample.choice(available, size, replace=False))
    )
    ids = _row_ids(data, id_column)
    wanted = _locate_rows(ids, rows)
    local = _local_explanations(
        [ids[i] for i in wanted],
        features,
        x_all[wanted],
        values_all[wanted],
        bases_all[wanted],
        None if outputs_all is None else outputs_all[wanted],
    )
    settings = dict(
        explainer=ExplainerKind.PRECOMPUTED,
        method="SHAP values supplied as columns of the prediction log",
        output_space=output_space,
        model_class="",
        features=features,
        rows_available=available,
        sample_size=int(size),
        background_size=0,
        background_source="not applicable: values computed outside Signoff",
        seed=seed,
        bootstrap_resamples=bootstrap_resamples,
        confidence=confidence,
        min_group_size=min_group_size,
        shap_version=shap.__version__,
        estimate=None,
        target_class=None,
    )
    report(0.5)
    return _summarise(
        values=values_all[chosen],
        bases=bases_all[chosen],
        x=x_all[chosen],
        outputs=None if outputs_all is None else outputs_all[chosen],
        tolerance=additivity_tolerance,
        tolerance_basis="" if additivity_tolerance is None else "given with the SHAP columns",
        local=local,
        sensitive_frame=data.iloc[chosen],
        sensitive=sensitive,
        streams=streams,
        settings=settings,
        timings={},
        direction_bins=direction_bins,
        report=report,
        cancelled=cancelled,
    )
