"""Read a policy YAML file: parse it safely, validate it against the policy JSON Schema, version it.

The policy's version is the SHA-256 of the file's exact bytes, so a comment change is a new version
and an evaluation cites exactly what it was judged against. Every problem found is reported at once,
by key path (``rules[2].threshold: expected a number``), in one ``PolicyFileError``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from signoff.domain.canonical import sha256_hex
from signoff.domain.errors import InputError
from signoff.domain.policy import Policy
from signoff.importers.resources import policy_schema_path, policy_template, policy_templates

MAX_REPORTED_PROBLEMS = 20

_JSON_TYPES = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "array": "a list",
    "object": "a mapping of keys to values",
    "boolean": "true or false",
    "null": "nothing",
}


class PolicyFileError(InputError):
    """A policy file that cannot be used. ``problems`` lists (key path, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]], *, file: str) -> None:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        lines = [f"{path}: {message}" if path else message for path, message in shown]
        if len(problems) > len(shown):
            lines.append(f"... and {len(problems) - len(shown)} more problems")
        super().__init__("invalid policy:\n  " + "\n  ".join(lines), file=file)
        self.problems = problems


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping: YAML would keep only the last, and a
    reviewer reading the file could believe the first."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {seen[key]})", key_node.start_mark
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# YAML 1.1 reads on/off/yes/no as booleans, which would turn a rule's `on:` key into True. Policies
# follow YAML 1.2 here: only true and false are booleans.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@functools.cache
def policy_schema() -> dict[str, Any]:
    return json.loads(policy_schema_path().read_text(encoding="utf-8"))


def _key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _problems(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    validator, expected, instance = error.validator, error.validator_value, error.instance
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if validator == "required":
        match = re.match(r"^'(.*)' is a required property$", error.message)
        key = match.group(1) if match else error.message
        return [(_key_path([*path, key]), "required, but missing")]
    if validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        found = []
        for key in sorted(set(instance) - set(known), key=str):
            hint = difflib.get_close_matches(str(key), known, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
            found.append((_key_path([*path, key]), f"unknown key{suggestion}"))
        return found
    if custom:
        return [(_key_path(path), f"{custom}; got {_describe(instance)}")]
    if validator == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_JSON_TYPES.get(t, t) for t in wanted)
        return [(_key_path(path), f"expected {words}, got {_describe(instance)}")]
    if validator == "enum":
        options = ", ".join(repr(o) for o in expected)
        return [(_key_path(path), f"expected one of {options}; got {_describe(instance)}")]
    if validator == "const":
        return [(_key_path(path), f"must be {expected!r}; got {_describe(instance)}")]
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if validator in bounds:
        return [(_key_path(path), f"must be {bounds[validator]} {expected}; got {instance!r}")]
    if validator == "minItems":
        return [(_key_path(path), f"needs at least {expected} item{'s' if expected != 1 else ''}")]
    if validator == "maxItems":
        return [(_key_path(path), f"allows at most {expected} items")]
    if validator == "minLength":
        return [(_key_path(path), "must not be empty")]
    if validator == "uniqueItems":
        return [(_key_path(path), "lists the same item twice")]
    return [(_key_path(path), error.message)]


def _semantic_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """What the schema cannot say: one of scope/scopes, unique rule ids, sane drift thresholds."""
    problems: list[tuple[str, str]] = []
    first_index: dict[str, int] = {}
    for index, rule in enumerate(data.get("rules", [])):
        has_scope, has_scopes = "scope" in rule, "scopes" in rule
        if has_scope == has_scopes:
            problems.append(
                (
                    f"rules[{index}]",
                    "give exactly one of 'scope' (one name) or 'scopes' (a list); '*' is every scope",
                )
            )
        rule_id = rule.get("id")
        if rule_id in first_index:
            problems.append(
                (f"rules[{index}].id", f"{rule_id!r} is already the id of rules[{first_index[rule_id]}]")
            )
        else:
            first_index[rule_id] = index
    thresholds = data.get("settings", {}).get("drift", {}).get("thresholds", {})
    if thresholds.get("psi_moderate", 0.1) > thresholds.get("psi_significant", 0.2):
        problems.append(("settings.drift.thresholds", "psi_moderate must not exceed psi_significant"))
    return problems


def parse_policy(data: bytes, *, source: str) -> Policy:
    """Parse and validate the bytes of a policy file; ``source`` names it in error messages."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyFileError([("", f"not UTF-8 text (byte {error.start})")], file=source) from None
    try:
        # _StrictLoader is a SafeLoader: no Python objects, only plain YAML values.
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PolicyFileError([("", f"{where}{error.problem or error}")], file=source) from None
    except yaml.YAMLError as error:
        raise PolicyFileError([("", f"not valid YAML: {error}")], file=source) from None
    if not isinstance(document, dict):
        raise PolicyFileError(
            [("", f"expected a mapping of keys to values, got {_describe(document)}")], file=source
        )

    validator = jsonschema.Draft202012Validator(policy_schema())
    problems: list[tuple[str, str]] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.extend(_problems(error))
    if not problems:
        problems = _semantic_problems(document)
    if problems:
        raise PolicyFileError(list(dict.fromkeys(problems)), file=source)
    return Policy.from_dict(document, version=sha256_hex(data))


def load_policy(path: str | Path) -> tuple[Policy, bytes]:
    """Read a policy file (or, when no such file exists, a shipped policy by name) -> (policy, bytes).

    The bytes are returned so the caller can store exactly what was judged against as evidence.
    """
    path = Path(path)
    if not path.exists() and path.suffix == "" and str(path) in policy_templates():
        path = policy_template(str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        shipped = ", ".join(policy_templates())
        raise InputError(
            f"no such policy file (shipped policies by name: {shipped})", file=str(path)
        ) from None
    except OSError as error:
        raise InputError(f"cannot read the policy file: {error.strerror}", file=str(path)) from None
    return parse_policy(data, source=str(path)), data
