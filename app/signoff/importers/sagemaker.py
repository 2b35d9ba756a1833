"""Read SageMaker Model Registry exports: ``describe-model-package`` JSON and SageMaker Model Cards.

Accepted shapes: one ``describe-model-package`` answer, a list of them, or a ``list-model-packages``
answer (``ModelPackageSummaryList``) with the descriptions beside it (``ModelPackages`` or
``descriptions``). A model card comes embedded (``ModelCard.ModelCardContent``) or from a separate
file (a ``describe-model-card`` answer or the bare card content). A package group is a registered
model; its package version is the model version. Metrics reports stay pointers: nothing is fetched.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signoff.domain.errors import InputError
from signoff.domain.registry_snapshot import (
    EvaluationResult,
    MetricsPointer,
    ModelCard,
    ModelVersionRecord,
    RegisteredModelRecord,
    RegistrySnapshot,
)

DESCRIPTION_LISTS = ("ModelPackages", "descriptions", "ModelPackageDescriptions")
APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")


class _Json:
    """A value with its JSON path, so every shape error names the file and the place in it."""

    def __init__(self, value: Any, path: str, file: str) -> None:
        self.value = value
        self.path = path
        self.file = file

    def fail(self, expected: str) -> InputError:
        return InputError(
            f"at {self.path}: expected {expected}, found {_kind(self.value)}. "
            "Export with `aws sagemaker describe-model-package --output json`.",
            file=self.file,
        )

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.fail("an object")
        return self.value

    def child(self, key: str) -> _Json:
        return _Json(self.object().get(key), f"{self.path}.{key}", self.file)

    def items(self) -> list[_Json]:
        if not isinstance(self.value, list):
            raise self.fail("a list")
        return [_Json(v, f"{self.path}[{i}]", self.file) for i, v in enumerate(self.value)]

    def text(self, default: str = "") -> str:
        if self.value is None:
            return default
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | float):
            raise self.fail("text")
        return str(self.value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(type(value), "a number")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected a JSON export", file=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", file=str(path)
        ) from None
    except RecursionError:
        raise InputError(
            "nested too deeply to be a SageMaker export; it was not read", file=str(path)
        ) from None


def _time(node: _Json) -> datetime | None:
    value = node.value
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):  # beyond year 9999, or NaN
            raise node.fail("seconds since 1970 of a time between the years 1 and 9999") from None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise node.fail("an ISO 8601 time or seconds since 1970") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise node.fail("a time")


def read_sagemaker_export(path: Path, *, model_card: Path | None = None) -> RegistrySnapshot:
    """The model packages in ``path`` (and the card in ``model_card``) as one snapshot.

    The snapshot's scope is the package groups in the file: a group not in this export is not
    reported as deleted.
    """
    file = str(path)
    root = _Json(_load(path), "$", file)
    packages = _package_nodes(root)
    if not packages:
        raise InputError("holds no model packages", file=file)
    versions = [_version(node) for node in packages]
    if model_card is not None:
        versions = _attach_card(versions, model_card)
    by_name: dict[str, list[ModelVersionRecord]] = {}
    for version in versions:
        by_name.setdefault(version.name, []).append(version)
    for name, group in by_name.items():
        numbers = [v.version for v in group]
        if len(set(numbers)) != len(numbers):
            raise InputError(f"model package group {name!r} lists a version twice", file=file)
    models = tuple(
        RegisteredModelRecord(
            name=name,
            versions=tuple(sorted(group, key=lambda v: int(v.version) if v.version.isdigit() else 0)),
        )
        for name, group in sorted(by_name.items())
    )
    return RegistrySnapshot(
        source_kind="sagemaker",
        source_uri=_source_uri(packages, path),
        taken_at=datetime.now(UTC),
        models=models,
        scope=tuple(sorted(by_name)),
    )


def _package_nodes(root: _Json) -> list[_Json]:
    if isinstance(root.value, list):
        return root.items()
    body = root.object()
    if "ModelPackageSummaryList" in body:
        summaries = root.child("ModelPackageSummaryList").items()
        descriptions: dict[str, _Json] = {}
        for key in DESCRIPTION_LISTS:
            if key in body:
                for node in root.child(key).items():
                    descriptions[node.child("ModelPackageArn").text() or _identity(node)] = node
        merged = []
        for summary in summaries:
            described = descriptions.get(summary.child("ModelPackageArn").text() or _identity(summary))
            if described is None:
                merged.append(summary)
            else:
                # The description is the fuller record; the summary fills what it lacks.
                merged.append(
                    _Json({**summary.object(), **described.object()}, described.path, described.file)
                )
        return merged
    if "ModelPackageArn" in body or "ModelPackageName" in body or "ModelPackageGroupName" in body:
        return [root]
    raise InputError(
        "at $: expected a describe-model-package answer (with ModelPackageArn), a list of them, or a "
        "list-model-packages answer (ModelPackageSummaryList)",
        file=root.file,
    )


def _identity(node: _Json) -> str:
    return f"{node.child('ModelPackageGroupName').text()}/{node.child('ModelPackageVersion').text()}"


def _source_uri(packages: list[_Json], path: Path) -> str:
    # Consecutive exports of one account's registry must compare with each other, whatever the file
    # is called: the ARN's partition, region and account name the registry.
    for node in packages:
        arn = node.child("ModelPackageArn").text()
        if arn.startswith("arn:") and arn.count(":") >= 5:
            return "sagemaker:" + ":".join(arn.split(":")[1:5])
    return f"sagemaker-file:{path.resolve()}"


def _version(node: _Json) -> ModelVersionRecord:
    node.object()
    group = node.child("ModelPackageGroupName").text()
    name = group or node.child("ModelPackageName").text()
    if not name:
        raise node.fail("an object with ModelPackageGroupName or ModelPackageName")
    version = node.child("ModelPackageVersion").text("1")
    approval = node.child("ModelApprovalStatus").text()
    if approval and approval not in APPROVAL_STATUSES:
        raise InputError(
            f"at {node.path}.ModelApprovalStatus: {approval!r} is not one of {', '.join(APPROVAL_STATUSES)}",
            file=node.file,
        )
    tags = {f"metadata.{k}": v.text() for k, v in _pairs(node.child("MetadataProperties"))}
    tags.update({k: v.text() for k, v in _pairs(node.child("CustomerMetadataProperties"))})
    for tag in node.child("Tags").items() if node.child("Tags").value is not None else ():
        tags[tag.child("Key").text()] = tag.child("Value").text()
    card = None
    embedded = node.child("ModelCard")
    if embedded.value is not None:
        card = _card_from_content(embedded.child("ModelCardContent"), source=f"{node.file} {embedded.path}")
    return ModelVersionRecord(
        name=name,
        version=version,
        description=node.child("ModelPackageDescription").text(),
        tags=tags,
        status=node.child("ModelPackageStatus").text(),
        created_at=_time(node.child("CreationTime")),
        updated_at=_time(node.child("LastModifiedTime")),
        source_uri=node.child("ModelPackageArn").text() or node.child("SourceUri").text(),
        approval_status=approval,
        approval_description=node.child("ApprovalDescription").text(),
        created_by=_user(node.child("CreatedBy")),
        metrics_pointers=_metrics_pointers(node.child("ModelMetrics")),
        card=card,
    )


def _pairs(node: _Json) -> list[tuple[str, _Json]]:
    if node.value is None:
        return []
    return [(key, node.child(key)) for key in sorted(node.object())]


def _user(node: _Json) -> str:
    if node.value is None:
        return ""
    identity = node.child("IamIdentity")
    for candidate in (
        node.child("UserProfileName").text(),
        identity.child("Arn").text() if identity.value is not None else "",
        node.child("UserProfileArn").text(),
    ):
        if candidate:
            return candidate
    return ""


def _metrics_pointers(node: _Json) -> tuple[MetricsPointer, ...]:
    """Every ``{S3Uri, ContentType}`` under ``ModelMetrics``, named by its path (``Bias.Report``)."""
    pointers: list[MetricsPointer] = []
    for section, section_node in _pairs(node):
        for report, report_node in _pairs(section_node):
            body = report_node.object()
            if "S3Uri" not in body:
                raise report_node.fail("an object with S3Uri")
            pointers.append(
                MetricsPointer(
                    kind=f"{section}.{report}",
                    s3_uri=report_node.child("S3Uri").text(),
                    content_type=report_node.child("ContentType").text(),
                )
            )
    return tuple(pointers)


def _card_from_content(node: _Json, *, source: str) -> ModelCard:
    """A card from the model card JSON schema; the content may arrive as a JSON string."""
    if isinstance(node.value, str):
        try:
            node = _Json(json.loads(node.value), node.path, node.file)
        except json.JSONDecodeError as error:
            raise InputError(
                f"at {node.path}: the model card content is not valid JSON ({error.msg})", file=node.file
            ) from None
    node.object()
    overview = node.child("model_overview")
    uses = node.child("intended_uses")
    training = node.child("training_details")
    additional = node.child("additional_information")
    results: list[EvaluationResult] = []
    evaluation_notes: list[str] = []
    evaluations = node.child("evaluation_details")
    for evaluation in evaluations.items() if evaluations.value is not None else ():
        name = evaluation.child("name").text()
        observation = evaluation.child("evaluation_observation").text()
        if observation:
            evaluation_notes.append(f"{name}: {observation}" if name else observation)
        datasets = evaluation.child("datasets")
        dataset = ", ".join(d.text() for d in datasets.items()) if datasets.value is not None else ""
        groups = evaluation.child("metric_groups")
        for group in groups.items() if groups.value is not None else ():
            for metric in group.child("metric_data").items():
                value = metric.child("value").value
                results.append(
                    EvaluationResult(
                        metric=metric.child("name").text(),
                        value=value
                        if isinstance(value, int | float | str) and not isinstance(value, bool)
                        else json.dumps(value),
                        dataset=dataset or name,
                        task=group.child("name").text(),
                        note=metric.child("notes").text(),
                    )
                )
    training_parts = [
        training.child("training_observations").text() if training.value is not None else "",
        _objective(training.child("objective_function")) if training.value is not None else "",
    ]
    limitations = (
        additional.child("caveats_and_recommendations").text() if additional.value is not None else ""
    )
    return ModelCard(
        summary=overview.child("model_description").text() if overview.value is not None else "",
        intended_uses="\n".join(
            part
            for part in (
                uses.child("purpose_of_model").text() if uses.value is not None else "",
                uses.child("intended_uses").text() if uses.value is not None else "",
            )
            if part
        ),
        risk_rating=uses.child("risk_rating").text() if uses.value is not None else "",
        training_details="\n".join(p for p in training_parts if p),
        evaluation_details="\n".join(evaluation_notes),
        ethical_considerations=additional.child("ethical_considerations").text()
        if additional.value is not None
        else "",
        limitations=limitations,
        evaluation_results=tuple(results),
        source=source,
    )


def _objective(node: _Json) -> str:
    if node.value is None:
        return ""
    function = node.child("function")
    if function.value is None:
        return node.child("notes").text()
    parts = [
        function.child("function").text(),
        function.child("facet").text(),
        function.child("condition").text(),
    ]
    return "objective: " + " ".join(p for p in parts if p)


def read_sagemaker_model_card(path: Path) -> tuple[ModelCard, dict[str, str]]:
    """A separate card file: a ``describe-model-card`` answer or the bare content.

    Returns the card and what the file says it belongs to (``model_package_arn``, ``model_name``).
    """
    root = _Json(_load(path), "$", str(path))
    body = root.object()
    content = root.child("Content") if "Content" in body else root
    card = _card_from_content(content, source=str(path))
    if isinstance(content.value, str):
        content = _Json(json.loads(content.value), content.path, content.file)
    details = content.child("model_package_details")
    overview = content.child("model_overview")
    return card, {
        "model_package_arn": details.child("model_package_arn").text() if details.value is not None else "",
        "model_name": overview.child("model_name").text() if overview.value is not None else "",
    }


def _attach_card(versions: list[ModelVersionRecord], card_path: Path) -> list[ModelVersionRecord]:
    card, target = read_sagemaker_model_card(card_path)
    if target["model_package_arn"]:
        matches = [i for i, v in enumerate(versions) if v.source_uri == target["model_package_arn"]]
    elif len(versions) == 1:
        matches = [0]
    else:
        matches = []
    if len(matches) != 1:
        raise InputError(
            "cannot tell which model package the card belongs to: give a card whose "
            "model_package_details.model_package_arn names a package in the export, or an export of one package",
            file=str(card_path),
        )
    index = matches[0]
    versions = list(versions)
    versions[index] = replace(versions[index], card=card)
    return versions
