"""Audit events in words: what happened, to what, and what a change was before and after.

The audit page, its CSV and PDF exports read an event's payload through ``describe``, so a reader sees
"Waiver granted on rule max_dpd until 2027-01-31: ..." rather than canonical JSON. Actions without a
sentence of their own are written field by field ("rows: 1,200; role: current"), never cut short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from signoff.domain.audit import AuditEvent
from signoff.domain.registry_history import RegistryChange

# The first word of an action names its kind; the audit page filters by these.
EVENT_KINDS: dict[str, str] = {
    "analysis": "Analyses",
    "auth": "Sign-in",
    "authority": "Certificate authority",
    "log": "Prediction logs",
    "model": "Model versions",
    "policy": "Policy checks",
    "registry": "Registry imports",
    "report": "Reports",
    "review": "Reviews and signatures",
    "trust": "Trust decisions",
    "user": "Users",
    "waiver": "Waivers",
}


def words(key: str) -> str:
    return key.replace("_", " ")


def value_text(value: Any) -> str:
    """A payload value as plain text: lists joined, mappings as "key = value", nothing cut short."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{words(str(k))} = {value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value) or "none"
    return str(value)


def count(value: Any) -> str:
    """A number of rows, models, files: with thousands separators."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value_text(value)


def many(value: Any, noun: str) -> str:
    """``count`` and the noun, singular for one: "1 model", "2,000 rows"."""
    return f"{count(value)} {noun}" + ("" if value == 1 else "s")


def _fields(payload: Mapping[str, Any], skip: tuple[str, ...] = ()) -> str:
    return "; ".join(f"{words(k)}: {value_text(v)}" for k, v in payload.items() if k not in skip)


def _change(before: Any, after: Any) -> str:
    return f"from {value_text(before)} to {value_text(after)}"


def _model(payload: Mapping[str, Any]) -> str:
    version = payload.get("model_version")
    if isinstance(version, Mapping):
        return f"{version.get('name')} v{version.get('version')}"
    if payload.get("name") is not None and payload.get("version") is not None:
        return f"{payload['name']} v{payload['version']}"
    if payload.get("model") is not None and payload.get("version") is not None:
        return f"{payload['model']} v{payload['version']}"
    return ""


def _registry_changed(p: Mapping[str, Any]) -> str:
    try:
        change = RegistryChange.from_dict(dict(p))
    except (KeyError, TypeError, ValueError):
        return _fields(p)
    return f"{change.summary} (before: {value_text(change.before)}; after: {value_text(change.after)})"


def _finding(p: Mapping[str, Any]) -> str:
    after = p.get("finding")
    before = p.get("before")
    if before is None:
        return f"Finding added: {value_text(after)}"
    changed = {
        k: (before.get(k), after.get(k))
        for k in sorted(set(before) | set(after))
        if isinstance(before, Mapping) and isinstance(after, Mapping) and before.get(k) != after.get(k)
    }
    return "Finding edited: " + (
        "; ".join(f"{words(k)} {_change(b, a)}" for k, (b, a) in changed.items()) or "no visible change"
    )


_SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "model.added": lambda p: f"Model version {_model(p)} added (source: {p.get('source', 'by hand')})",
    "model.artifact_attached": lambda p: (
        f"Model file {p.get('path')} attached ({count(p.get('size'))} bytes, SHA-256 {p.get('sha256')})"
    ),
    "registry.imported": lambda p: (
        f"Imported {many(p.get('models'), 'model')} and {many(p.get('versions'), 'version')} from "
        f"{p.get('source_kind')} {p.get('source_uri')}; {many(p.get('changes'), 'change')} since the "
        f"previous import; {many(p.get('artifacts_stored'), 'model file')} stored"
    ),
    "registry.changed": _registry_changed,
    "log.imported": lambda p: (
        f"Prediction log {p.get('source_name')} imported for {_model(p)} as the {p.get('role')} log: "
        f"{count(p.get('rows'))} rows kept of {count(p.get('rows_read'))} read, "
        f"{count(p.get('rows_quarantined', 0))} quarantined"
    ),
    "analysis.recorded": lambda p: (
        f"{str(p.get('kind', 'analysis')).capitalize()} analysis recorded"
        + (f" with {_fields(p.get('parameters') or {})}" if p.get("parameters") else "")
    ),
    "policy.evaluated": lambda p: (
        f"Policy {p.get('policy')} checked: {p.get('status')}"
        + ("" if p.get("passed") is None else f" ({'passed' if p.get('passed') else 'did not pass'})")
    ),
    "review.opened": lambda p: f"Review opened for {_model(p)} over logs {value_text(p.get('log_ids'))}",
    "review.submitted": lambda p: (
        f"Review submitted for signature {_change(p.get('state_before'), 'submitted')}"
    ),
    "review.signed": lambda p: (
        f"Signed as {words(str(p.get('meaning', '')))}: review {_change(p.get('state_before'), p.get('state_after'))}"
    ),
    "review.sign_refused": lambda p: (
        f"Signing as {words(str(p.get('meaning', '')))} refused: {p.get('reason')}"
    ),
    "review.superseded": lambda p: (
        f"Review superseded by review {p.get('superseded_by')} {_change(p.get('state_before'), 'superseded')}"
    ),
    "review.finding_added": _finding,
    "review.finding_edited": _finding,
    "user.created": lambda p: (
        f"Account created for {p.get('full_name')} with roles {value_text(p.get('roles'))}"
    ),
    "auth.signed_in": lambda p: "Signed in",
    "waiver.granted": lambda p: f"Waiver granted: {_fields(p)}",
    "authority.created": lambda p: (
        f"Certificate authority created: root SHA-256 {p['root_sha256']}, {p.get('algorithm', 'RSA')}"
    ),
    "authority.keys_encrypted": lambda p: (
        f"Signing keys ({value_text(p['roles'])}) encrypted under the passphrase from {p.get('passphrase')}"
    ),
    "authority.personal_certificate_issued": lambda p: (
        f"Personal signing certificate issued, SHA-256 {p['certificate_sha256']}"
    ),
    "authority.ca_imported": lambda p: (
        f"Organisation CA {p['manifest']['ca_subject']} imported: root SHA-256 {p['root_sha256']}"
    ),
}


def describe(event: AuditEvent) -> str:
    """The event's details in words; before and after are named where the payload records both."""
    payload = event.payload if isinstance(event.payload, Mapping) else {"value": event.payload}
    sentence = _SENTENCES.get(event.action)
    if sentence is not None:
        try:
            return sentence(payload)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # an older or unexpected payload: written field by field below
    if "before" in payload and "after" in payload:
        rest = _fields(payload, skip=("before", "after"))
        return f"{_change(payload['before'], payload['after'])}" + (f"; {rest}" if rest else "")
    if "state_before" in payload and "state_after" in payload:
        rest = _fields(payload, skip=("state_before", "state_after"))
        return f"state {_change(payload['state_before'], payload['state_after'])}" + (
            f"; {rest}" if rest else ""
        )
    return _fields(payload) or "no details"


def event_kind(action: str) -> str:
    """The kind an action belongs to, in words ("Reviews and signatures")."""
    group = action.partition(".")[0]
    return EVENT_KINDS.get(group, words(group).capitalize())
