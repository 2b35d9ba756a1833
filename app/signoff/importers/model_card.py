"""Read a Hugging Face model card: ``README.md`` with YAML front matter and Markdown sections.

The front matter's ``model-index`` gives evaluation results (task, dataset, metric, value); the sections
("Intended uses & limitations", "Training data", "Evaluation", "Bias, risks and limitations", ...)
give the words a reviewer needs. The card attaches to the model version the user names, or the one
its front matter names (``model-index[0].name`` and ``model_version``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from signoff.domain.errors import InputError, setting
from signoff.domain.registry_snapshot import (
    EvaluationResult,
    ModelCard,
    ModelVersionRecord,
    RegisteredModelRecord,
    RegistrySnapshot,
)

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)

# Which card field a section feeds, by words in its heading (first match wins, checked in order).
SECTION_FIELDS = (
    ("limitations", ("out-of-scope", "out of scope")),  # before "uses": "Out-of-scope uses" is a limit
    ("intended_uses", ("intended use", "uses", "direct use", "downstream use")),
    ("limitations", ("limitation", "out-of-scope", "out of scope", "risks")),
    ("ethical_considerations", ("ethic", "bias", "fairness")),
    ("training_details", ("training",)),
    ("evaluation_details", ("evaluation", "results")),
    ("summary", ("model description", "model details", "summary")),
)


def split_front_matter(text: str, file: str) -> tuple[dict[str, Any], str]:
    match = FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except RecursionError:
        raise InputError(
            "the YAML front matter is nested too deeply to be a model card's; it was not read", file=file
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise InputError(f"the YAML front matter cannot be read{where}: {error}", file=file) from None
    if not isinstance(data, dict):
        raise InputError("the YAML front matter must be a mapping of keys to values", file=file)
    return data, text[match.end() :]


def _sections(body: str) -> list[tuple[str, str]]:
    headings = list(HEADING.finditer(body))
    sections = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(body)
        sections.append((heading.group(2).strip(), _unwrapped(body[heading.end() : end].strip())))
    return sections


LIST_OR_TABLE = re.compile(r"^\s*([-*+|>]|\d+[.)]|```)")


def _unwrapped(text: str) -> str:
    """Markdown's soft line breaks joined, so a paragraph reads as one in the app and the report;
    paragraphs, lists, tables and code keep their lines."""
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        lines = paragraph.splitlines()
        if any(LIST_OR_TABLE.match(line) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _results(front: dict[str, Any], file: str) -> tuple[str, tuple[EvaluationResult, ...]]:
    index = front.get("model-index")
    if index is None:
        return "", ()
    if not isinstance(index, list) or not all(isinstance(entry, dict) for entry in index):
        raise InputError("model-index must be a list of entries with name and results", file=file)
    results = []
    for i, entry in enumerate(index):
        for j, result in enumerate(entry.get("results") or []):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance(result, dict):
                raise InputError(f"{where} must be a mapping with task, dataset and metrics", file=file)
            task = result.get("task") or {}
            dataset = result.get("dataset") or {}
            metrics = result.get("metrics")
            if not isinstance(metrics, list):
                raise InputError(f"{where}.metrics must be a list", file=file)
            for k, metric in enumerate(metrics):
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    raise InputError(f"{where}.metrics[{k}] needs a type and a value", file=file)
                value = metric["value"]
                if isinstance(value, float) and not math.isfinite(value):
                    value = str(value)  # YAML's .nan / .inf have no JSON form: kept as the text "nan"/"inf"
                results.append(
                    EvaluationResult(
                        metric=str(metric.get("name") or metric["type"]),
                        value=value
                        if isinstance(value, int | float | str) and not isinstance(value, bool)
                        else str(value),
                        dataset=str(dataset.get("name") or dataset.get("type") or ""),
                        task=str(task.get("type") or task.get("name") or ""),
                        split=str(dataset.get("split") or ""),
                    )
                )
    return str(index[0].get("name") or "") if index else "", tuple(results)


def read_model_card(path: Path, *, model: str | None = None, version: str | None = None) -> RegistrySnapshot:
    """The card in ``path`` attached to ``model`` ``version`` (or the ones its front matter names)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=file) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected a model card README.md", file=file) from None
    front, body = split_front_matter(text, file)
    index_name, results = _results(front, file)
    name = model or index_name or str(front.get("model_name") or "")
    if not name:
        raise InputError(
            f"say which model the card is for{setting('model')}: its front matter names none", file=file
        )
    number = version or str(front.get("model_version") or front.get("version") or "")
    if not number:
        raise InputError(f"say which version of {name!r} the card is for{setting('version')}", file=file)
    fields: dict[str, list[str]] = {field: [] for field, _ in SECTION_FIELDS}
    for heading, content in _sections(body):
        lowered = heading.lower()
        if not content:
            continue
        for field, words in SECTION_FIELDS:
            if any(word in lowered for word in words):
                fields[field].append(f"{heading}\n{content}")
                break
    card = ModelCard(
        summary="\n\n".join(fields["summary"]),
        intended_uses="\n\n".join(fields["intended_uses"]),
        training_details="\n\n".join(fields["training_details"]),
        evaluation_details="\n\n".join(fields["evaluation_details"]),
        ethical_considerations="\n\n".join(fields["ethical_considerations"]),
        limitations="\n\n".join(fields["limitations"]),
        evaluation_results=results,
        source=path.name,
    )
    tags = {
        f"card.{key}": str(front[key]) for key in ("license", "library_name", "pipeline_tag") if key in front
    }
    record = ModelVersionRecord(name=name, version=number, tags=tags, card=card)
    return RegistrySnapshot(
        source_kind="model-card",
        # A card describes one version: its own source, so a card for v2 never reads as "v1 deleted".
        source_uri=f"model-card:{name}@{number}",
        taken_at=datetime.now(UTC),
        models=(RegisteredModelRecord(name=name, versions=(record,)),),
        scope=(name,),
    )
