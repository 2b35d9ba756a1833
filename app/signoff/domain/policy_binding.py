"""Binding a policy's attributes to a log's columns: the policy says ``sex``, the export says ``Gender``.

A policy names attributes in its own words (``sex``, ``race``); a team's log names its columns as its
export does. An ``AttributeBinding`` maps one to the other, is stated by the reviewer (or is the identity
where the names agree), and is recorded with the evaluation. ``bind_policy`` rewrites the policy's
scopes, reference groups and fairness settings into the log's column names, so the policy engine judges
the observations of a log as they are named, and nothing in the engine changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from signoff.domain.errors import InputError
from signoff.domain.policy import Policy

SEGMENT_JOIN = "&"
GROUP_JOIN = "="


def policy_attributes(policy: Policy) -> tuple[str, ...]:
    """Every attribute the policy names: its fairness settings, its reference groups, its rules' scopes."""
    fairness = policy.settings.get("fairness", {})
    names: dict[str, None] = {}
    names.update(dict.fromkeys(fairness.get("attributes", ())))
    for combination in fairness.get("intersections", ()):
        names.update(dict.fromkeys(combination))
    names.update(dict.fromkeys(policy.reference_groups))
    for rule in policy.rules:
        if rule.analysis not in ("fairness", "performance"):
            continue
        for scope in rule.scopes:
            segment = scope.split(GROUP_JOIN, 1)[0]
            if segment in ("overall", "*") or "*" in segment:
                continue
            names.update(dict.fromkeys(segment.split(SEGMENT_JOIN)))
    return tuple(names)


def resolve_binding(policy: Policy, stated: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """The column each policy attribute is read from: as stated, else the column of the same name.

    Raises ``InputError`` for a stated attribute the policy does not name, or a column the log lacks.
    Attributes with neither a statement nor a column of their name are left out (their rules are then
    "missing", as any evidence that does not exist).
    """
    named = policy_attributes(policy)
    present = list(columns)
    for attribute, column in stated.items():
        if attribute not in named:
            raise InputError(
                f"the policy {policy.name!r} names no attribute {attribute!r}; it names "
                f"{', '.join(map(repr, named)) or 'none'}"
            )
        if column not in present:
            raise InputError(
                f"attribute {attribute!r} is bound to column {column!r}, which the log does not have; its "
                f"columns are {', '.join(map(repr, present))}"
            )
    taken = list(stated.values())
    if len(set(taken)) != len(taken):
        raise InputError("two policy attributes are bound to the same column; bind each to its own")
    binding = {}
    for attribute in named:
        if attribute in stated:
            binding[attribute] = stated[attribute]
        elif attribute in present and attribute not in taken:
            binding[attribute] = attribute
    return binding


def unbound(policy: Policy, binding: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(a for a in policy_attributes(policy) if a not in binding)


def bind_policy(policy: Policy, binding: Mapping[str, str]) -> Policy:
    """The policy in the log's column names: scopes, reference groups and fairness settings."""
    if all(attribute == column for attribute, column in binding.items()):
        return policy

    def segment(name: str) -> str:
        return SEGMENT_JOIN.join(binding.get(part, part) for part in name.split(SEGMENT_JOIN))

    def scope(text: str) -> str:
        head, sep, group = text.partition(GROUP_JOIN)
        return f"{segment(head)}{sep}{group}"

    rules = tuple(
        dataclasses.replace(rule, scopes=tuple(scope(s) for s in rule.scopes))
        if rule.analysis in ("fairness", "performance")
        else rule
        for rule in policy.rules
    )
    settings: dict[str, dict[str, Any]] = {k: dict(v) for k, v in policy.settings.items()}
    fairness = settings.get("fairness")
    if fairness is not None:
        if "attributes" in fairness:
            fairness["attributes"] = [binding.get(a, a) for a in fairness["attributes"]]
        if "intersections" in fairness:
            fairness["intersections"] = [[binding.get(a, a) for a in c] for c in fairness["intersections"]]
    references = {binding.get(k, k): v for k, v in policy.reference_groups.items()}
    return dataclasses.replace(policy, rules=rules, settings=settings, reference_groups=references)


def describe_binding(binding: Mapping[str, str]) -> list[str]:
    return [f"{attribute} = column {column!r}" for attribute, column in binding.items()]


def parse_binding(items: Iterable[str]) -> dict[str, str]:
    """``["sex=Gender", "race=Ethnicity"]`` -> ``{"sex": "Gender", "race": "Ethnicity"}``."""
    binding: dict[str, str] = {}
    for item in items:
        attribute, sep, column = item.partition("=")
        attribute, column = attribute.strip(), column.strip()
        if not sep or not attribute or not column:
            raise InputError(f"an attribute binding is ATTRIBUTE=COLUMN, e.g. sex=Gender; got {item!r}")
        if attribute in binding:
            raise InputError(f"attribute {attribute!r} is bound twice")
        binding[attribute] = column
    return binding
