"""Read a risk-tier rubric YAML file (shipped in resources/risk-rubrics/ or the user's own) safely.

Like a policy, a rubric's version is the SHA-256 of its exact bytes, so an assessment cites exactly the
rubric it was scored against; every problem is reported by key path in one ``InputError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from signoff.domain.canonical import sha256_hex
from signoff.domain.errors import InputError
from signoff.domain.inventory import RiskRubric, RiskTier, RubricQuestion
from signoff.importers.policy_file import _StrictLoader
from signoff.resources import resources_dir

RUBRIC_DIR = "risk-rubrics"
DEFAULT_RUBRIC = "default"


def rubric_templates() -> dict[str, Path]:
    return {path.stem: path for path in sorted((resources_dir() / RUBRIC_DIR).glob("*.yaml"))}


def load_rubric(name_or_path: str | Path | None = None) -> tuple[RiskRubric, bytes]:
    """A rubric file, or a shipped rubric by name (default: ``default``) -> (rubric, its bytes)."""
    path = Path(name_or_path or DEFAULT_RUBRIC)
    shipped = rubric_templates()
    if not path.exists() and path.suffix == "" and str(path) in shipped:
        path = shipped[str(path)]
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(
            f"cannot read the risk rubric ({error.strerror}); shipped rubrics by name: {', '.join(shipped)}",
            file=str(path),
        ) from None
    return parse_rubric(data, source=str(path)), data


def parse_rubric(data: bytes, *, source: str) -> RiskRubric:
    try:
        document = yaml.load(data.decode("utf-8"), Loader=_StrictLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"not a readable YAML risk rubric: {error}", file=source) from None
    problems: list[str] = []

    def need(value: Any, kind: type, where: str) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            problems.append(f"{where}: expected {kind.__name__}")
            return kind()
        return value

    document = need(document, dict, "the file")
    name = need(document.get("name", ""), str, "name") or Path(source).stem
    combine = document.get("combine", "product")
    if combine not in ("product", "sum"):
        problems.append("combine: expected 'product' or 'sum'")
    questions = []
    for i, item in enumerate(need(document.get("questions"), list, "questions")):
        item = need(item, dict, f"questions[{i}]")
        answers = need(item.get("answers"), dict, f"questions[{i}].answers")
        scores = {str(k).lower(): need(v, int, f"questions[{i}].answers.{k}") for k, v in answers.items()}
        if not scores:
            problems.append(f"questions[{i}].answers: give at least one answer with its score")
        questions.append(
            RubricQuestion(need(item.get("id"), str, f"questions[{i}].id"), str(item.get("text", "")), scores)
        )
    tiers = []
    for i, item in enumerate(need(document.get("tiers"), list, "tiers")):
        item = need(item, dict, f"tiers[{i}]")
        tiers.append(
            RiskTier(
                need(item.get("tier"), int, f"tiers[{i}].tier"),
                need(item.get("min_score"), int, f"tiers[{i}].min_score"),
                need(item.get("review_interval_months"), int, f"tiers[{i}].review_interval_months"),
            )
        )
    if not questions:
        problems.append("questions: give at least one question")
    if not tiers:
        problems.append("tiers: give at least one tier")
    if problems:
        raise InputError("invalid risk rubric:\n  " + "\n  ".join(problems), file=source)
    return RiskRubric(name, sha256_hex(data), tuple(questions), tuple(tiers), combine)
