"""Explanations: what drives a model's output, overall, per sensitive group and for single rows.

A SHAP value says how much one feature moved one row's output away from the base value (the average
output); the values of a row add up to the model's output, in the model's own output space (log-odds,
probability or a regression value, always named). This module holds the results as plain values, and the
facts around loading a model safely: its file format, the advisory scan of a pickle and a user's trust
decision, which is what the audit event records.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_hash
from signoff.domain.codec import Record
from signoff.domain.errors import SignoffError


class ExplanationCancelled(SignoffError):
    """The user cancelled a running explanation; nothing was stored."""

    exit_code = 130


class ModelFormat(enum.StrEnum):
    SKOPS = "skops"
    XGBOOST_JSON = "xgboost-json"
    XGBOOST_UBJ = "xgboost-ubj"
    LIGHTGBM_TEXT = "lightgbm-text"
    PICKLE = "pickle"
    CLOUDPICKLE = "cloudpickle"

    @property
    def runs_code_on_load(self) -> bool:
        """Pickle formats can run any code while loading; they need a user's trust decision first."""
        return self in (ModelFormat.PICKLE, ModelFormat.CLOUDPICKLE)


@dataclass(frozen=True)
class ModelArtifact:
    """The file a model is loaded from, how it was recognised, and what loading it accepted."""

    format: ModelFormat
    file_name: str
    sha256: str
    flavor: str  # the MLflow flavor ("sklearn", "xgboost", "lightgbm") or "file" for a bare file
    model_class: str  # e.g. "sklearn.ensemble._gb.GradientBoostingClassifier"
    # Types outside skops' defaults that Signoff's own allowlist accepted for this file.
    accepted_types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "flavor": self.flavor,
            "model_class": self.model_class,
            "accepted_types": list(self.accepted_types),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelArtifact:
        return cls(
            format=ModelFormat(data["format"]),
            file_name=data["file_name"],
            sha256=data["sha256"],
            flavor=data["flavor"],
            model_class=data["model_class"],
            accepted_types=tuple(data.get("accepted_types", ())),
        )


PICKLE_SCAN_ADVISORY = (
    "This is an advisory static scan by picklescan: it lists the Python objects the pickle imports and "
    "flags known-dangerous ones. It cannot prove a pickle safe; loading it runs whatever code it holds. "
    "Trust it only if you know who made the file and how."
)


@dataclass(frozen=True)
class PickleImport:
    module: str
    name: str
    safety: str  # picklescan's verdict: "innocuous", "suspicious" or "dangerous"

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "name": self.name, "safety": self.safety}


@dataclass(frozen=True)
class PickleScan:
    """What a static scan of a pickle found, shown to a user before they decide to trust it."""

    file_name: str
    sha256: str
    scanner: str  # e.g. "picklescan 1.0.5"
    imports: tuple[PickleImport, ...]
    scan_error: bool = False  # the stream could not be fully parsed: treat as suspicious
    advisory: str = PICKLE_SCAN_ADVISORY

    @property
    def dangerous(self) -> tuple[PickleImport, ...]:
        return tuple(i for i in self.imports if i.safety == "dangerous")

    @property
    def suspicious(self) -> tuple[PickleImport, ...]:
        return tuple(i for i in self.imports if i.safety == "suspicious")

    @property
    def verdict(self) -> str:
        if self.dangerous:
            return "dangerous imports found"
        if self.scan_error:
            return "could not be fully parsed"
        if self.suspicious:
            return "imports outside the scanner's known-safe list"
        return "no known-dangerous imports"

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.file_name} (sha256 {self.sha256})",
            f"scanner: {self.scanner}; verdict: {self.verdict}",
        ]
        lines += [f"  {i.safety:<11} {i.module}.{i.name}" for i in self.imports]
        lines.append(self.advisory)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "scanner": self.scanner,
            "verdict": self.verdict,
            "imports": [i.to_dict() for i in self.imports],
            "scan_error": self.scan_error,
            "advisory": self.advisory,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PickleScan:
        return cls(
            file_name=data["file_name"],
            sha256=data["sha256"],
            scanner=data["scanner"],
            imports=tuple(PickleImport(**i) for i in data["imports"]),
            scan_error=data.get("scan_error", False),
            advisory=data.get("advisory", PICKLE_SCAN_ADVISORY),
        )


TRUST_MANIFEST_FORMAT = "signoff.trust-decision/1"


@dataclass(frozen=True)
class TrustDecision:
    """A user's decision to let one pickle artifact (by hash) be loaded, with what they were shown."""

    artifact_sha256: str
    file_name: str
    format: ModelFormat
    decided_by: str
    decided_at: datetime
    scan: PickleScan
    model: str = ""  # "NAME vVERSION" when the artifact belongs to a model version
    printed_name: str = ""
    role: str = ""  # approver or admin: a trust decision is a signed act
    signature: bytes = b""  # Ed25519 over ``manifest()``
    public_key_fingerprint: str = ""

    def manifest(self) -> dict[str, Any]:
        """What the decider signs: the file by hash, what they were shown (the scan's hash), who, when."""
        return {
            "format": TRUST_MANIFEST_FORMAT,
            "artifact_sha256": self.artifact_sha256,
            "file_name": self.file_name,
            "model_format": self.format.value,
            "model": self.model,
            "scan_sha256": canonical_hash(self.scan.to_dict()),
            "decided_by": self.decided_by,
            "printed_name": self.printed_name,
            "role": self.role,
            "decided_at": format_utc(self.decided_at),
        }

    def to_payload(self) -> dict[str, Any]:
        """The audit event's payload."""
        signed = (
            {
                "manifest": self.manifest(),
                "signature": self.signature.hex(),
                "public_key_fingerprint": self.public_key_fingerprint,
            }
            if self.signature
            else {}
        )
        return {
            **signed,
            "artifact_sha256": self.artifact_sha256,
            "file_name": self.file_name,
            "format": self.format.value,
            "decided_by": self.decided_by,
            "decided_at": format_utc(self.decided_at),
            "model": self.model,
            "scan": self.scan.to_dict(),
        }


# --- explanation results ---------------------------------------------------------------------------


class ExplainerKind(enum.StrEnum):
    TREE = "tree"
    LINEAR = "linear"
    PERMUTATION = "permutation"
    PRECOMPUTED = "precomputed"  # SHAP values brought as columns of a prediction log


@dataclass(frozen=True)
class CostEstimate(Record):
    """How long an explanation should take before it runs, and the formula behind the number."""

    explainer: ExplainerKind
    rows: int
    work_units: float
    seconds: float
    formula: str


@dataclass(frozen=True)
class ExplanationSettings(Record):
    """How an explanation was computed: enough to reproduce it and to state it in a report."""

    explainer: ExplainerKind
    method: str  # e.g. "shap.TreeExplainer (tree_path_dependent)"
    output_space: str  # "log-odds", "probability", "raw margin", "regression output", ...
    model_class: str
    features: tuple[str, ...]
    rows_available: int
    sample_size: int
    background_size: int  # 0 when the explainer needs none (path-dependent TreeSHAP)
    background_source: str
    seed: int
    bootstrap_resamples: int
    confidence: float
    min_group_size: int
    shap_version: str
    estimate: CostEstimate | None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    target_class: str | None = None  # the class explained, for a classifier with class outputs


@dataclass(frozen=True)
class FeatureImportance(Record):
    """Mean |SHAP| of one feature over rows, with a bootstrap interval over rows."""

    feature: str
    mean_abs_shap: float
    ci_low: float | None  # None only for a group too small for the bootstrap to say anything
    ci_high: float | None


@dataclass(frozen=True)
class DirectionBin(Record):
    """Mean SHAP of a feature over the rows in one quantile bin: low <= value < high (the last bin
    includes its high end, the feature's largest value)."""

    low: float
    high: float
    n: int
    mean_shap: float


@dataclass(frozen=True)
class FeatureDirection(Record):
    """Which way a feature pushes the output as its value grows (bins ordered by value)."""

    feature: str
    bins: tuple[DirectionBin, ...]
    correlation: float | None  # Pearson correlation of feature value and SHAP value; None if constant

    @property
    def trend(self) -> str:
        if self.correlation is None or abs(self.correlation) < 0.1:
            return "no clear direction"
        return "higher values raise the output" if self.correlation > 0 else "higher values lower the output"


@dataclass(frozen=True)
class GroupImportance(Record):
    """Mean |SHAP| per feature within one sensitive group or intersection (e.g. ``sex&race``)."""

    attribute: str  # "sex", or "sex&race" for an intersection
    group: str  # "Female", or "Female&Black"
    n: int
    importances: tuple[FeatureImportance, ...]
    insufficient: bool = False  # fewer rows than the minimum group size: shown, never compared


def describe_group(attribute: str, group: str) -> str:
    """``sex``/``Female`` -> "sex=Female"; ``sex&race``/``Female&Black`` -> "sex=Female & race=Black"."""
    names, values = attribute.split("&"), group.split("&")
    if len(names) != len(values):
        return f"{attribute}={group}"
    return " & ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


@dataclass(frozen=True)
class ImportanceGap(Record):
    """How much more the model relies on a feature for one group than for another."""

    attribute: str
    feature: str
    group_a: str  # the group with the higher mean |SHAP|
    group_b: str  # the group with the lower mean |SHAP|
    mean_abs_a: float
    mean_abs_b: float
    difference: float  # mean_abs_a - mean_abs_b, in the model's output space
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int

    @property
    def clear(self) -> bool:
        """The interval of the difference excludes zero."""
        return self.ci_low > 0

    def sentence(self, output_space: str = "") -> str:
        unit = f" {output_space}" if output_space else ""
        core = (
            f"The model relies on {self.feature} more for {describe_group(self.attribute, self.group_a)} "
            f"than for {describe_group(self.attribute, self.group_b)} "
            f"(mean |SHAP| {self.mean_abs_a:.3g} vs {self.mean_abs_b:.3g}"
            f"{unit}; difference {self.difference:.3g}, interval {self.ci_low:.3g} to {self.ci_high:.3g})"
        )
        return core + (
            "." if self.clear else "; the interval includes zero, so this is not a clear difference."
        )


@dataclass(frozen=True)
class FeatureContribution(Record):
    feature: str
    value: float | None  # the row's feature value (None when missing)
    shap: float


@dataclass(frozen=True)
class LocalExplanation(Record):
    """One row: base value + contributions = model output, with the measured additivity error."""

    row_id: str
    base_value: float
    contributions: tuple[FeatureContribution, ...]
    model_output: float | None  # the model's own output for the row; None for precomputed SHAP without it
    additivity_error: float | None


@dataclass(frozen=True)
class Additivity(Record):
    """Largest |base + sum(SHAP) - model output| over the explained rows, and the bound it must meet."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("ok",)

    max_error: float | None  # None when no model output was available to check against
    tolerance: float | None  # None when nothing bounds it (SHAP values brought without a tolerance)
    rows_checked: int
    basis: str = ""  # why the tolerance is what it is

    @property
    def ok(self) -> bool | None:
        if self.max_error is None or self.tolerance is None:
            return None
        return self.max_error < self.tolerance


@dataclass(frozen=True)
class Explanation(Record):
    """The full result of one explanation run."""

    settings: ExplanationSettings
    base_value: float
    global_importance: tuple[FeatureImportance, ...]  # sorted, most important first
    directions: tuple[FeatureDirection, ...]
    segments: tuple[GroupImportance, ...]
    gaps: tuple[ImportanceGap, ...]  # largest difference first
    local: tuple[LocalExplanation, ...]
    additivity: Additivity

    def gap_sentences(self, *, clear_only: bool = True, limit: int = 5) -> list[str]:
        chosen = [g for g in self.gaps if g.clear or not clear_only][:limit]
        return [g.sentence(self.settings.output_space) for g in chosen]
