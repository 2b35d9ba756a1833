"""Read the control map YAML (shipped in resources/control-maps/ or the user's own) safely.

Its version is the SHA-256 of its bytes, printed on every document it drives; an artefact key Signoff
does not know is refused, so a typo cannot silently turn a clause into "not recorded".
"""

from __future__ import annotations

from pathlib import Path

import yaml

from signoff.domain.canonical import sha256_hex
from signoff.domain.documents import ControlClause, ControlMap
from signoff.domain.errors import InputError
from signoff.domain.inventory import FIELDS_BY_NAME
from signoff.importers.policy_file import _StrictLoader
from signoff.resources import resource_path

ARTEFACTS = frozenset(
    {
        "model.identity",
        "inventory.stage_history",
        "lineage.datasets",
        "lineage.code",
        "risk.tier",
        "policy.evaluation",
        "review.signatures",
        "review.findings",
        "calendar.next_due",
        "audit.chain",
        "document.ll144",
        *(f"inventory.{name}" for name in FIELDS_BY_NAME),
        *(
            f"analysis.{kind}"
            for kind in ("fairness", "performance", "monitoring", "drift", "validation", "shap")
        ),
    }
)


def load_control_map(path: str | Path | None = None) -> ControlMap:
    source = Path(path) if path else resource_path("control-maps", "default.yaml")
    try:
        data = source.read_bytes()
        document = yaml.load(data.decode("utf-8"), Loader=_StrictLoader)
    except OSError as error:
        raise InputError(f"cannot read the control map: {error.strerror}", file=str(source)) from None
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"not a readable YAML control map: {error}", file=str(source)) from None
    if not isinstance(document, dict) or not isinstance(document.get("clauses"), list):
        raise InputError("a control map needs 'frameworks' and a list of 'clauses'", file=str(source))
    frameworks = {str(k): str(v) for k, v in (document.get("frameworks") or {}).items()}
    clauses, problems = [], []
    for index, item in enumerate(document["clauses"]):
        if not isinstance(item, dict) or not {"id", "framework", "title"} <= set(item):
            problems.append(f"clauses[{index}]: needs id, framework and title")
            continue
        answers = tuple(str(a) for a in item.get("answers") or ())
        for unknown in sorted(set(answers) - ARTEFACTS):
            problems.append(f"clauses[{index}].answers: unknown artefact {unknown!r}")
        if item["framework"] not in frameworks:
            problems.append(f"clauses[{index}].framework: {item['framework']!r} is not under 'frameworks'")
        clauses.append(
            ControlClause(
                str(item["id"]),
                str(item["framework"]),
                str(item.get("section", "")),
                str(item["title"]),
                answers,
            )
        )
    if problems:
        raise InputError("invalid control map:\n  " + "\n  ".join(problems), file=str(source))
    return ControlMap(str(document.get("name", source.stem)), sha256_hex(data), frameworks, tuple(clauses))
