"""The policy engine on hand-built observations: every status, operator, scope form and waiver case."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from signoff.domain.canonical import canonical_json
from signoff.domain.observations import Observation
from signoff.domain.policy import (
    JudgedOn,
    Operator,
    OverallStatus,
    Policy,
    PolicyEvaluation,
    Rule,
    RuleStatus,
    SignatureRequirement,
    Waiver,
    evaluate_policy,
)
from signoff.domain.review import DEFAULT_REQUIREMENTS

TODAY = date(2026, 11, 22)
CREATED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def rule(rule_id="ir", metric="fairness.impact_ratio", scopes=("sex",), op=">=", threshold=0.8, **kw):
    return Rule(
        id=rule_id, metric=metric, scopes=tuple(scopes), operator=Operator(op), threshold=threshold, **kw
    )


def policy(*rules, min_group_size=30, required_analyses=()):
    return Policy(
        name="test",
        version="0" * 64,
        rules=tuple(rules),
        min_group_size=min_group_size,
        required_analyses=tuple(required_analyses),
    )


def obs(metric="fairness.impact_ratio", scope="sex", value=0.9, **kw):
    kw.setdefault("n", 500)
    return Observation(metric=metric, scope=scope, value=value, **kw)


def waiver(rule_id="ir", scope="sex", until=TODAY, **kw):
    return Waiver(
        rule_id=rule_id,
        scope=scope,
        justification="Known data gap; remediation plan R-12.",
        granted_by="Ana Risk",
        until=until,
        created_at=CREATED,
        **kw,
    )


def only(evaluation: PolicyEvaluation):
    [verdict] = evaluation.verdicts
    return verdict


# ---- operators ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "status"),
    [
        (">=", 0.8, RuleStatus.PASS),
        (">=", 0.7999999, RuleStatus.FAIL),
        (">", 0.8, RuleStatus.FAIL),
        (">", 0.8000001, RuleStatus.PASS),
        ("<=", 0.8, RuleStatus.PASS),
        ("<=", 0.8000001, RuleStatus.FAIL),
        ("<", 0.8, RuleStatus.FAIL),
        ("<", 0.7999999, RuleStatus.PASS),
    ],
)
def test_each_operator_at_and_beside_the_threshold(op, value, status):
    verdict = only(evaluate_policy(policy(rule(op=op)), [obs(value=value)], [], TODAY))
    assert verdict.status is status
    assert verdict.judged == value
    if status is RuleStatus.FAIL:
        assert f"is not {op} 0.8" in verdict.reason


# ---- which number is judged -----------------------------------------------------------------------


def test_judging_the_interval_low_end_is_stricter_than_the_estimate():
    observation = obs(value=0.85, ci_low=0.76, ci_high=0.93)
    on_value = only(evaluate_policy(policy(rule()), [observation], [], TODAY))
    on_low = only(evaluate_policy(policy(rule(on=JudgedOn.CI_LOW)), [observation], [], TODAY))
    on_high = only(
        evaluate_policy(policy(rule(op="<=", threshold=0.9, on=JudgedOn.CI_HIGH)), [observation], [], TODAY)
    )
    assert on_value.status is RuleStatus.PASS and on_value.judged == 0.85
    assert on_low.status is RuleStatus.FAIL and on_low.judged == 0.76
    assert on_high.status is RuleStatus.FAIL and on_high.judged == 0.93
    assert (on_low.value, on_low.ci_low, on_low.ci_high) == (0.85, 0.76, 0.93)


def test_an_interval_the_analysis_did_not_compute_is_insufficient_not_pass():
    verdict = only(evaluate_policy(policy(rule(on=JudgedOn.CI_LOW)), [obs(value=0.95)], [], TODAY))
    assert verdict.status is RuleStatus.INSUFFICIENT_DATA
    assert "ci_low could not be computed" in verdict.reason


# ---- insufficient data is never pass or fail ------------------------------------------------------


@pytest.mark.parametrize(
    ("observation", "reason"),
    [
        (obs(value=0.1, n=29), "n = 29 is below the minimum group size 30"),
        (obs(value=0.99, n=29), "n = 29 is below the minimum group size 30"),
        (obs(value=0.1, insufficient=True), "marked it insufficient"),
        (obs(value=None), "the value could not be computed"),
        (obs(value=float("nan")), "the value could not be computed"),
    ],
)
def test_insufficient_data(observation, reason):
    evaluation = evaluate_policy(policy(rule()), [observation], [], TODAY)
    verdict = only(evaluation)
    assert verdict.status is RuleStatus.INSUFFICIENT_DATA
    assert reason in verdict.reason
    assert evaluation.status is OverallStatus.INSUFFICIENT_DATA
    assert evaluation.passed  # insufficient data does not block the gate


def test_exactly_the_minimum_group_size_is_judged():
    verdict = only(evaluate_policy(policy(rule()), [obs(value=0.5, n=30)], [], TODAY))
    assert verdict.status is RuleStatus.FAIL


def test_an_observation_without_a_count_is_judged():
    verdict = only(evaluate_policy(policy(rule()), [obs(value=0.5, n=None)], [], TODAY))
    assert verdict.status is RuleStatus.FAIL


def test_an_insufficient_waiver_does_not_turn_insufficient_into_waived():
    verdict = only(evaluate_policy(policy(rule()), [obs(value=0.1, n=3)], [waiver()], TODAY))
    assert verdict.status is RuleStatus.INSUFFICIENT_DATA
    assert verdict.waiver is None


# ---- scopes ---------------------------------------------------------------------------------------


def test_every_listed_scope_gets_a_verdict_and_other_scopes_are_ignored():
    observations = [obs(scope="sex", value=0.9), obs(scope="race", value=0.7), obs(scope="age", value=0.1)]
    evaluation = evaluate_policy(policy(rule(scopes=("sex", "race"))), observations, [], TODAY)
    assert [(v.scope, v.status) for v in evaluation.verdicts] == [
        ("sex", RuleStatus.PASS),
        ("race", RuleStatus.FAIL),
    ]


def test_star_means_every_observed_scope_of_the_metric():
    observations = [
        obs(scope="sex", value=0.9),
        obs(scope="race", value=0.7),
        obs(scope="sex&race", value=0.6),
        obs(metric="fairness.selection_rate", scope="age", value=0.1),
    ]
    evaluation = evaluate_policy(policy(rule(scopes=("*",))), observations, [], TODAY)
    assert [(v.scope, v.status) for v in evaluation.verdicts] == [
        ("race", RuleStatus.FAIL),
        ("sex", RuleStatus.PASS),
        ("sex&race", RuleStatus.FAIL),
    ]


def test_brackets_in_group_labels_are_literal_not_patterns():
    observations = [obs(scope="age=(25, 40]", value=0.7), obs(scope="age=2", value=0.9)]
    evaluation = evaluate_policy(policy(rule(scopes=("age=(25, 40]", "age=[2]"))), observations, [], TODAY)
    assert [(v.scope, v.status) for v in evaluation.verdicts] == [
        ("age=(25, 40]", RuleStatus.FAIL),
        ("age=[2]", RuleStatus.MISSING),
    ]
    starred = evaluate_policy(policy(rule(scopes=("age=(*]",))), observations, [], TODAY)
    assert [v.scope for v in starred.verdicts] == ["age=(25, 40]"]


def test_a_glob_picks_the_groups_of_one_attribute_and_overlapping_patterns_judge_once():
    observations = [
        obs(scope="sex=Female", value=0.7),
        obs(scope="sex=Male", value=1.0),
        obs(scope="race=Asian"),
    ]
    evaluation = evaluate_policy(policy(rule(scopes=("sex=*", "sex=F*"))), observations, [], TODAY)
    assert [(v.scope, v.status) for v in evaluation.verdicts] == [
        ("sex=Female", RuleStatus.FAIL),
        ("sex=Male", RuleStatus.PASS),
    ]


# ---- missing evidence -----------------------------------------------------------------------------


def test_a_named_scope_without_an_observation_is_missing():
    evaluation = evaluate_policy(policy(rule(scopes=("sex", "race"))), [obs(scope="sex")], [], TODAY)
    assert [(v.scope, v.status) for v in evaluation.verdicts] == [
        ("sex", RuleStatus.PASS),
        ("race", RuleStatus.MISSING),
    ]
    assert "no observation of fairness.impact_ratio for scope 'race'" in evaluation.verdicts[1].reason
    assert evaluation.status is OverallStatus.MISSING
    assert not evaluation.passed


def test_a_pattern_that_matches_nothing_is_missing():
    verdict = only(evaluate_policy(policy(rule(scopes=("*",))), [obs(metric="drift.psi")], [], TODAY))
    assert (verdict.scope, verdict.status) == ("*", RuleStatus.MISSING)


def test_a_required_analysis_without_any_observation_is_missing():
    evaluation = evaluate_policy(
        policy(rule(), required_analyses=("fairness", "drift", "performance")),
        [obs(), obs(metric="performance.roc_auc", scope="overall", value=0.8)],
        [],
        TODAY,
    )
    assert evaluation.missing_analyses == ("drift",)
    assert evaluation.status is OverallStatus.MISSING
    assert not evaluation.passed


def test_a_policy_without_rules_or_requirements_passes_on_nothing():
    evaluation = evaluate_policy(policy(), [], [], TODAY)
    assert evaluation.verdicts == ()
    assert evaluation.status is OverallStatus.PASS and evaluation.passed


def test_duplicate_observations_are_each_judged():
    evaluation = evaluate_policy(policy(rule()), [obs(value=0.9), obs(value=0.5)], [], TODAY)
    assert sorted(v.status for v in evaluation.verdicts) == [RuleStatus.FAIL, RuleStatus.PASS]


# ---- overall status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "overall", "passed"),
    [
        ([], OverallStatus.PASS, True),
        (["pass", "waived"], OverallStatus.PASS, True),
        (["pass", "insufficient"], OverallStatus.INSUFFICIENT_DATA, True),
        (["pass", "insufficient", "missing"], OverallStatus.MISSING, False),
        (["fail", "insufficient", "missing", "waived"], OverallStatus.FAIL, False),
        (["fail"], OverallStatus.FAIL, False),
    ],
)
def test_overall_status_is_the_worst_verdict(statuses, overall, passed):
    making = {
        "pass": obs(value=0.9),
        "fail": obs(value=0.5),
        "waived": obs(value=0.5),
        "insufficient": obs(value=0.5, n=2),
    }
    rules, observations, waivers = [], [], []
    for index, status in enumerate(statuses):
        scope = f"attr{index}"
        rules.append(rule(rule_id=f"r{index}", scopes=(scope,)))
        if status != "missing":
            observations.append(obs(scope=scope, value=making[status].value, n=making[status].n))
        if status == "waived":
            waivers.append(waiver(rule_id=f"r{index}", scope=scope))
    evaluation = evaluate_policy(policy(*rules), observations, waivers, TODAY)
    assert evaluation.status is overall
    assert evaluation.passed is passed
    assert sum(evaluation.count(s) for s in RuleStatus) == len(statuses)


# ---- waivers --------------------------------------------------------------------------------------


def test_a_waiver_in_force_turns_a_failure_into_an_accepted_exception():
    granted = waiver(until=TODAY)  # the end date itself is still covered
    evaluation = evaluate_policy(policy(rule()), [obs(value=0.7)], [granted], TODAY)
    verdict = only(evaluation)
    assert verdict.status is RuleStatus.WAIVED
    assert verdict.waiver == granted
    assert verdict.value == 0.7
    assert "waived until 2026-11-22 by Ana Risk" in verdict.reason
    assert evaluation.status is OverallStatus.PASS and evaluation.passed


def test_an_expired_waiver_does_not_apply_and_the_failure_says_so():
    verdict = only(
        evaluate_policy(policy(rule()), [obs(value=0.7)], [waiver(until=date(2026, 11, 21))], TODAY)
    )
    assert verdict.status is RuleStatus.FAIL
    assert verdict.waiver is None
    assert "a waiver expired on 2026-11-21" in verdict.reason


@pytest.mark.parametrize(
    "other",
    [waiver(rule_id="eod"), waiver(scope="race"), waiver(scope="sex=Female")],
)
def test_a_waiver_for_another_rule_or_scope_does_not_apply(other):
    verdict = only(evaluate_policy(policy(rule()), [obs(value=0.7)], [other], TODAY))
    assert verdict.status is RuleStatus.FAIL


def test_a_star_waiver_covers_every_scope_of_its_rule():
    evaluation = evaluate_policy(
        policy(rule(scopes=("sex", "race"))),
        [obs(scope="sex", value=0.7), obs(scope="race", value=0.6)],
        [waiver(scope="*")],
        TODAY,
    )
    assert [v.status for v in evaluation.verdicts] == [RuleStatus.WAIVED, RuleStatus.WAIVED]


def test_a_waiver_does_not_touch_a_passing_rule():
    verdict = only(evaluate_policy(policy(rule()), [obs(value=0.9)], [waiver()], TODAY))
    assert verdict.status is RuleStatus.PASS and verdict.waiver is None


def test_of_several_waivers_the_longest_running_is_on_the_record():
    short, long = waiver(until=date(2026, 12, 1), id=1), waiver(until=date(2027, 3, 1), id=2)
    verdict = only(
        evaluate_policy(
            policy(rule()), [obs(value=0.7)], [short, long, waiver(until=date(2025, 1, 1))], TODAY
        )
    )
    assert verdict.waiver == long


# ---- serialisation --------------------------------------------------------------------------------


def test_policy_defaults_and_round_trip():
    file_data = {
        "name": "p",
        "rules": [
            {
                "id": "auc",
                "metric": "performance.roc_auc",
                "scope": "overall",
                "operator": ">=",
                "threshold": 0.75,
            },
            {
                "id": "psi",
                "metric": "drift.psi",
                "scopes": ["*"],
                "operator": "<",
                "threshold": 0.2,
                "on": "value",
            },
        ],
        "reference_groups": {"sex": "Male"},
        "settings": {"drift": {"bins": 10}},
    }
    loaded = Policy.from_dict(file_data, version="a" * 64)
    assert loaded.version == "a" * 64
    assert loaded.min_group_size == 30
    assert (
        loaded.required_signatures
        == DEFAULT_REQUIREMENTS
        == (
            SignatureRequirement("reviewer", 1),
            SignatureRequirement("approver", 1),
        )
    )
    assert loaded.rules[0].scopes == ("overall",)
    assert loaded.rule("psi").operator is Operator.LT
    assert loaded.analyses_needed() == ("performance", "drift")
    assert Policy.from_dict(json.loads(canonical_json(loaded.to_dict()))) == loaded
    with pytest.raises(KeyError):
        loaded.rule("nope")


def test_evaluation_round_trips_through_canonical_json():
    evaluation = evaluate_policy(
        policy(
            rule(scopes=("sex", "race", "age")),
            rule(rule_id="auc", metric="performance.roc_auc", scopes=("overall",)),
        ),
        [
            obs(value=0.7, ci_low=0.6, ci_high=0.8),
            obs(scope="race", value=0.5, n=3),
            obs(metric="performance.roc_auc", scope="overall", value=0.9),
        ],
        [waiver(until=date(2027, 1, 1), id=7)],
        TODAY,
    )
    data = json.loads(canonical_json(evaluation.to_dict()))
    assert data["status"] == "missing"
    assert data["counts"] == {"pass": 1, "fail": 0, "waived": 1, "insufficient_data": 1, "missing": 1}
    restored = PolicyEvaluation.from_dict(data)
    assert restored.to_dict() == evaluation.to_dict()
    assert restored.verdicts[0].waiver == evaluation.verdicts[0].waiver
