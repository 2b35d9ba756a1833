"""Judging a model version against a policy, and the waivers that accept a failure as an exception.

``check_policy`` reads and validates the policy file, runs the analyses the policy needs that it can
run from the model version's logs (validation, drift; reused when identical runs exist), takes the
latest recorded run of every other analysis, evaluates the rules with the stored waivers, and records
the policy file as evidence and the evaluation as an analysis run, with its audit event, in one
transaction. ``signoff check`` and the review workflow both call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from signoff import __version__
from signoff.domain.analysis_kinds import ANALYSIS_KINDS
from signoff.domain.analysis_kinds import run_observations as observations_of
from signoff.domain.analysis_requests import (
    DEFAULT_MIN_GROUP_SHARE,
    DEFAULT_RESAMPLES,
    FairnessRequest,
    PerformanceRequest,
)
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.canonical import canonical_hash
from signoff.domain.drift import DriftThresholds
from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.observations import Observation
from signoff.domain.policy import Policy, PolicyEvaluation, Waiver, evaluate_policy
from signoff.domain.policy_binding import bind_policy, policy_attributes, resolve_binding
from signoff.domain.prediction_log import LogRole, PredictionLog
from signoff.domain.registry import ModelVersion
from signoff.domain.users import Role
from signoff.importers.policy_file import load_policy
from signoff.importers.resources import policy_templates
from signoff.services.analyses import latest_runs
from signoff.services.identity import actor_or_login
from signoff.services.models import get_model_version
from signoff.services.security import fingerprint
from signoff.services.signed_acts import sign_act
from signoff.storage import Database

POLICY_ENGINE = f"signoff.domain.policy {__version__}"
POLICY_MEDIA_TYPE = "application/yaml"
MIN_JUSTIFICATION = 10  # characters: a waiver must say why, not just "ok"


def run_observations(run: AnalysisRun) -> list[Observation]:
    """The run's observations; each names the evidence it came from, because with several logs the
    same metric and scope is observed once per log."""
    kind = ANALYSIS_KINDS.get(run.kind)
    if kind is None or kind.observe is None:
        return []
    return observations_of(run.kind, run.inputs, kind.decode(run.result))


@dataclass(frozen=True)
class PolicyCheck:
    """One evaluation of a policy for a model version, as stored."""

    model_version: ModelVersion
    policy: Policy
    source: str  # the file the policy was read from
    evaluation: PolicyEvaluation
    run: AnalysisRun  # the stored evaluation (kind "policy")
    evidence: tuple[AnalysisRun, ...]  # the analysis runs judged
    # policy attribute -> the log column it was read from ({"sex": "Gender"}); recorded with the run
    attribute_binding: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 0 if self.evaluation.passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.evaluation.to_dict(),
            "exit_code": self.exit_code,
            "model": {
                "id": self.model_version.id,
                "name": self.model_version.name,
                "version": self.model_version.version,
            },
            "policy": {
                "name": self.policy.name,
                "version": self.policy.version,
                "title": self.policy.title,
                "source": self.source,
                "min_group_size": self.policy.min_group_size,
                "required_signatures": [s.to_dict() for s in self.policy.required_signatures],
            },
            "attribute_binding": dict(self.attribute_binding),
            "run_id": self.run.id,
            "result_sha256": self.run.result_sha256,
            "analysis_runs": [
                {"id": r.id, "kind": r.kind, "inputs": dict(r.inputs), "result_sha256": r.result_sha256}
                for r in self.evidence
            ],
        }


def _latest(logs: Sequence[PredictionLog], *, reference: bool) -> PredictionLog | None:
    chosen = [log for log in logs if (log.role is LogRole.REFERENCE) == reference]
    if not reference:
        # Production data is what the model meets now; a validation log stands in when there is none.
        production = [log for log in chosen if log.role is LogRole.PRODUCTION]
        chosen = production or chosen
    return max(chosen, key=lambda log: log.id, default=None)


def _drift_settings(policy: Policy) -> dict[str, Any]:
    settings = policy.settings.get("drift", {})
    options: dict[str, Any] = {}
    if "bins" in settings:
        options["bins"] = settings["bins"]
    if "columns" in settings:
        options["columns"] = settings["columns"]
    if "thresholds" in settings:
        options["thresholds"] = DriftThresholds(**{k: float(v) for k, v in settings["thresholds"].items()})
    return options


def _fairness_request(policy: Policy, log: PredictionLog, binding: dict[str, str]) -> FairnessRequest | None:
    """The fairness analysis the (bound) policy asks for, or None when an attribute it needs has no
    column in the log: its rules are then missing evidence, never judged on another run's settings."""
    settings = policy.settings.get("fairness", {})
    attributes = list(settings.get("attributes", ()))
    columns = set(binding.values())
    if not attributes or not set(attributes) <= columns:
        return None
    intersections = [list(c) for c in settings.get("intersections", ()) if set(c) <= columns]
    how = settings.get("reference", "largest")
    reference: str | dict[str, str] = how
    if how == "explicit":
        reference = {column: group for column, group in policy.reference_groups.items() if column in columns}
    return FairnessRequest(
        log=log,
        sensitive=tuple(attributes),
        intersections=intersections or False,
        reference=reference,
        min_group_size=policy.min_group_size,
        excluded_share=float(settings.get("exclude_below_share", DEFAULT_MIN_GROUP_SHARE)),
        n_resamples=int(settings.get("bootstrap_resamples", DEFAULT_RESAMPLES)),
        seed=int(settings.get("seed", 0)),
    )


def _performance_request(
    policy: Policy, log: PredictionLog, fairness: FairnessRequest | None
) -> PerformanceRequest:
    settings = policy.settings.get("performance", {})
    return PerformanceRequest(
        log=log,
        sensitive=fairness.sensitive if fairness else (),
        intersections=fairness.intersections if fairness else False,
        min_group_size=policy.min_group_size,
        n_resamples=int(settings.get("bootstrap_resamples", DEFAULT_RESAMPLES)),
        seed=int(settings.get("seed", 0)),
    )


def _gather_evidence(
    db: Database,
    policy: Policy,
    model_version: ModelVersion,
    logs: list[PredictionLog],
    chosen_logs: bool,
    actor: str | None,
    binding: dict[str, str] | None = None,
) -> list[AnalysisRun]:
    """The runs the policy judges. Fairness and performance are run on the current log with the
    policy's own settings (reused when an identical run exists), never taken from an ad-hoc run."""
    from signoff.services.analyses import run
    from signoff.services.drift import analyze_drift, analyze_validation

    name, version = model_version.name, model_version.version
    hashes = {log.evidence_sha256 for log in logs} if chosen_logs else None
    runs: list[AnalysisRun] = []
    recorded: list[str] = []  # kinds judged from their latest recorded run
    needed = policy.analyses_needed()
    if "validation" in needed:
        for log in logs:
            runs.append(analyze_validation(db, name=name, version=version, log_id=log.id, actor=actor).run)
    if "drift" in needed:
        reference, current = _latest(logs, reference=True), _latest(logs, reference=False)
        if reference is not None and current is not None:
            drift = analyze_drift(
                db,
                name=name,
                version=version,
                reference_log_id=reference.id,
                current_log_id=current.id,
                actor=actor,
                **_drift_settings(policy),
            )
            runs.append(drift.run)
        else:
            recorded.append("drift")
    current = _latest(logs, reference=False)
    binary = current is not None and current.validation.task == "binary"  # fairness rates need two classes
    if current is not None and binary:
        fairness = _fairness_request(policy, current, binding or {})
        if "fairness" in needed and fairness is not None:
            runs.append(run(db, fairness, actor=actor))
        if "performance" in needed:
            runs.append(run(db, _performance_request(policy, current, fairness), actor=actor))
    # Fairness and performance of a log that is not binary keep their rules missing, as before.
    judged_here = ("validation", "drift", "compare", "fairness", "performance")
    recorded += [kind for kind in needed if kind not in judged_here]
    if recorded:
        latest = latest_runs(db, model_version_id=model_version.id, kinds=recorded, reading=hashes)
        for kind in recorded:  # the newest run of each kind the policy judges
            newest = max((r for r in latest if r.kind == kind), key=lambda r: r.id, default=None)
            if newest is not None:
                runs.append(newest)
    if "compare" in needed:  # the comparison whose challenger this version is, at the policy's confidence
        from signoff.services.compare import comparison_evidence

        comparison = comparison_evidence(db, policy, model_version.id, hashes)
        if comparison is not None:
            runs.append(comparison)
    return runs


@dataclass(frozen=True)
class BindingChoices:
    """What the Policy page's attribute table offers: the policy's attributes and the log's columns."""

    attributes: tuple[str, ...]
    columns: tuple[str, ...]  # of the log the check would read; sensitive attributes first
    proposed: dict[str, str]  # attribute -> column, where the names agree or are common synonyms


_SYNONYMS = {
    "sex": ("gender",),
    "race": ("ethnicity", "ethnic_group", "ethnic"),
    "age": ("age_group", "age_band"),
}


def binding_choices(db: Database, *, name: str, version: str, policy_file: str | Path) -> BindingChoices:
    from signoff.services.logs import list_logs

    policy, _bytes = load_policy(policy_file)
    current = _latest(list_logs(db, model=name, version=version), reference=False)
    columns: tuple[str, ...] = ()
    if current is not None:
        mapping = current.mapping
        columns = tuple(dict.fromkeys((*mapping.sensitive, *mapping.features)))
    proposed = {}
    folded = {column.casefold().replace(" ", "_"): column for column in columns}
    for attribute in policy_attributes(policy):
        for candidate in (attribute, *_SYNONYMS.get(attribute.casefold(), ())):
            if candidate.casefold() in folded:
                proposed[attribute] = folded[candidate.casefold()]
                break
    return BindingChoices(policy_attributes(policy), columns, proposed)


def shipped_policies() -> dict[str, Path]:
    """The policy templates shipped with Signoff, by name: each name is accepted as ``policy_file``."""
    return policy_templates()


def recorded_policy_file(db: Database, policy_version: str, folder: Path) -> Path:
    """Write the policy file an evaluation was judged against (kept as evidence under its version, the
    SHA-256 of its bytes) into ``folder`` and return its path, so the same policy can be checked again."""
    with db.transaction(write=False) as uow:
        if not uow.evidence.exists(policy_version):
            raise NotFoundError(f"the policy file with SHA-256 {policy_version} is not in the evidence store")
        data = uow.evidence.read_bytes(policy_version)
    path = Path(folder) / f"policy-{policy_version[:12]}.yaml"
    path.write_bytes(data)
    return path


def check_policy(
    db: Database,
    *,
    name: str,
    version: str,
    policy_file: str | Path,
    log_ids: Sequence[int] | None = None,
    today: date | None = None,
    actor: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> PolicyCheck:
    """Evaluate ``policy_file`` (a path, or the name of a shipped policy) for a model version.

    Without ``log_ids`` every log of the model version is used: each is validated; drift compares the
    newest reference log with the newest production (else validation) log. With ``log_ids`` only
    those logs are used, and recorded analyses count only if they read one of them. ``attributes``
    binds the policy's attribute names to the log's columns (``{"sex": "Gender"}``); an attribute
    not bound is read from the column of its own name. The binding is recorded with the evaluation.
    """
    # Loaded here, not at the top: pandas and scipy take seconds to import, and a pipeline with a
    # broken policy file or a mistyped model name should hear about it at once.
    from signoff.services.logs import get_log, list_logs

    policy, policy_bytes = load_policy(policy_file)
    source = str(policy_file)
    model_version = get_model_version(db, name, version)
    if log_ids:
        logs = []
        for log_id in dict.fromkeys(log_ids):
            log = get_log(db, log_id)
            if log.model_version_id != model_version.id:
                raise InputError(
                    f"log {log_id} belongs to another model version; give logs of {name} {version}"
                )
            logs.append(log)
    else:
        logs = list_logs(db, model=name, version=version)
    today = today or datetime.now(UTC).date()
    current = _latest(logs, reference=False)
    columns = current.mapping.mapped_columns() if current is not None else ()
    if attributes and current is None:
        raise InputError("attributes can be bound only to the columns of a log; import a log first")
    binding = resolve_binding(policy, dict(attributes or {}), columns)
    bound = bind_policy(policy, binding)

    evidence = _gather_evidence(db, bound, model_version, logs, bool(log_ids), actor, binding)
    observations = [obs for run in evidence for obs in run_observations(run)]
    with db.transaction(write=False) as uow:
        waivers = uow.waivers.list(model_version_id=model_version.id)
    evaluation = evaluate_policy(bound, observations, waivers, today)

    inputs = {"policy": policy.version, "waivers": canonical_hash([w.to_dict() for w in waivers])}
    inputs.update({f"{run.kind}:{run.id}": run.result_sha256 for run in evidence})
    parameters: dict[str, Any] = {"policy_name": policy.name, "evaluated_on": today.isoformat()}
    if binding:
        parameters["attribute_binding"] = dict(binding)
    result = evaluation.to_dict()
    if binding:
        result["attribute_binding"] = dict(binding)  # how the policy's attributes were read
    with db.transaction() as uow:
        # The file judged against, kept by its hash (= the policy's version), so it can be shown later.
        uow.evidence.put_bytes(policy_bytes, media_type=POLICY_MEDIA_TYPE)
        run = uow.analysis_runs.find(
            "policy", model_version.id, inputs, parameters, engine_version=POLICY_ENGINE
        )
        if run is None:
            run = uow.analysis_runs.add(
                kind="policy",
                model_version_id=model_version.id,
                inputs=inputs,
                parameters=parameters,
                engine_version=POLICY_ENGINE,
                result=result,
                created_by=actor_or_login(actor),
            )
            uow.audit.append(
                actor=run.created_by,
                action="policy.evaluated",
                entity=f"analysis_run:{run.id}",
                payload={
                    "model_version_id": model_version.id,
                    "policy": policy.name,
                    "policy_sha256": policy.version,
                    "status": evaluation.status.value,
                    "passed": evaluation.passed,
                    "result_sha256": run.result_sha256,
                },
            )
    return PolicyCheck(
        model_version=model_version,
        policy=policy,
        source=source,
        evaluation=evaluation,
        run=run,
        evidence=tuple(evidence),
        attribute_binding=binding,
    )


WAIVER_ROLES = frozenset({Role.APPROVER, Role.ADMIN})


def add_waiver(
    db: Database,
    *,
    name: str,
    version: str,
    rule_id: str,
    justification: str,
    until: date,
    username: str,
    password: str,
    scope: str = "*",
    today: date | None = None,
) -> Waiver:
    """Grant a waiver of rule ``rule_id`` at ``scope`` for a model version through ``until`` (inclusive).

    A signed act: ``username`` (an approver or administrator) re-authenticates with ``password`` and
    signs the waiver's manifest with their Ed25519 key; the waiver names that account as granted by.
    """
    model_version = get_model_version(db, name, version)
    today = today or datetime.now(UTC).date()
    rule_id, scope, justification = rule_id.strip(), scope.strip(), justification.strip()
    if not rule_id:
        raise InputError("a waiver names the rule it waives (the rule's id in the policy file)")
    if not scope:
        raise InputError("a waiver needs a scope: an attribute, group or column, or * for every scope")
    if len(justification) < MIN_JUSTIFICATION:
        raise InputError(
            f"a waiver needs a justification of at least {MIN_JUSTIFICATION} characters: say why the "
            "failure is accepted and what will be done about it"
        )
    if until < today:
        raise InputError(
            f"the waiver would already have ended ({until.isoformat()} is before {today.isoformat()})"
        )
    granter, signed = sign_act(
        db, username, password, roles=WAIVER_ROLES, what="grant a waiver", purpose=f"waive {rule_id}"
    )
    role = Role.APPROVER if Role.APPROVER in granter.roles else Role.ADMIN
    draft = Waiver(
        rule_id=rule_id,
        scope=scope,
        justification=justification,
        granted_by=granter.username,
        until=until,
        created_at=datetime.now(UTC),
        model_version_id=model_version.id,
        role=role.value,
        printed_name=granter.full_name,
        public_key_fingerprint=fingerprint(granter.public_key),
    )
    waiver = dataclasses.replace(draft, signature=signed(draft.manifest()))
    with db.transaction() as uow:
        stored = uow.waivers.add(
            model_version_id=model_version.id, waiver=waiver, created_by=granter.username
        )
        uow.audit.append(
            actor=granter.username,
            action="waiver.granted",
            entity=f"waiver:{stored.id}",
            payload={
                **stored.to_dict(),
                "manifest": stored.manifest(),
            },
        )
    return stored


def list_waivers(db: Database, *, name: str, version: str) -> list[Waiver]:
    model_version = get_model_version(db, name, version)
    with db.transaction(write=False) as uow:
        return uow.waivers.list(model_version_id=model_version.id)
