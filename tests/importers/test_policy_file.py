"""Policy files: the shipped ones validate; malformed ones are refused with the offending key path."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.observations import Observation
from signoff.domain.policy import JudgedOn, Operator, OverallStatus, RuleStatus, evaluate_policy
from signoff.importers.policy_file import PolicyFileError, load_policy, parse_policy
from signoff.importers.resources import policy_schema_path, policy_template, policy_templates, resources_dir

REPO = Path(__file__).resolve().parents[2]

VALID = """\
format: signoff-policy/1
name: test-policy
min_group_size: 50
rules:
  - id: four-fifths
    metric: fairness.impact_ratio
    scopes: [sex, race]
    operator: ">="
    threshold: 0.8
  - id: auc
    metric: performance.roc_auc
    scope: overall
    operator: ">="
    threshold: 0.75
    on: ci_low
  - id: psi
    metric: drift.psi
    scope: "*"
    operator: "<"
    threshold: 0.2
"""


def test_the_three_shipped_policies_validate_and_are_versioned_by_their_bytes():
    assert set(policy_templates()) == {"default", "lending-four-fifths", "employment-nyc-ll144"}
    for name, path in policy_templates().items():
        policy, data = load_policy(path)
        assert policy.name == name
        assert data == path.read_bytes()
        assert policy.version == hashlib.sha256(path.read_bytes()).hexdigest()
        assert policy.rules and policy.description
        assert [s.role for s in policy.required_signatures] == ["reviewer", "approver"]


def test_the_lending_template_says_what_the_issue_asks():
    policy, _ = load_policy("lending-four-fifths")
    rules = {(r.metric, s): r for r in policy.rules for s in r.scopes}
    assert rules[("fairness.impact_ratio", "sex")].threshold == 0.8
    assert rules[("fairness.impact_ratio", "race")].operator is Operator.GE
    assert rules[("fairness.equalized_odds_difference", "race")].threshold == 0.1
    # ROC AUC comes without a confidence interval, so the rule judges the estimate (else: "missing").
    assert rules[("performance.roc_auc", "overall")].on is JudgedOn.VALUE
    assert rules[("drift.psi", "*")].operator is Operator.LT
    assert policy.min_group_size == 30
    assert policy.reference_groups == {"sex": "Male", "race": "White"}


def test_the_ll144_template_covers_the_intersection_and_the_two_percent_exclusion():
    policy, _ = load_policy("employment-nyc-ll144")
    scopes = {s for r in policy.rules if r.metric == "fairness.impact_ratio" for s in r.scopes}
    assert scopes == {"sex", "race", "sex&race"}
    assert policy.settings["fairness"]["exclude_below_share"] == 0.02
    assert policy.settings["fairness"]["report_unknown"] is True
    assert policy.settings["fairness"]["intersections"] == [["sex", "race"]]


def test_a_shipped_policy_judges_observations_end_to_end():
    policy, _ = load_policy("lending-four-fifths")
    observations = [
        Observation("fairness.impact_ratio", "sex", 0.85, n=5000),
        Observation("fairness.impact_ratio", "race", 0.62, n=300),
        Observation("fairness.equalized_odds_difference", "sex", 0.04, n=5000),
        Observation("fairness.equalized_odds_difference", "race", 0.08, n=300),
        Observation("performance.roc_auc", "overall", 0.8, ci_low=0.78, ci_high=0.82, n=16000),
        Observation("drift.psi", "age", 0.01, n=16000),
        Observation("validation.quarantined_share", "overall", 0.0, n=16000),
    ]
    evaluation = evaluate_policy(policy, observations, [], date(2026, 11, 22))
    failed = [(v.rule.id, v.scope) for v in evaluation.verdicts if v.status is RuleStatus.FAIL]
    assert failed == [("four-fifths", "race")]
    assert evaluation.status is OverallStatus.FAIL


def test_rule_on_key_is_not_read_as_a_yaml_boolean():
    policy = parse_policy(VALID.encode(), source="p.yaml")
    assert policy.rule("auc").on is JudgedOn.CI_LOW
    assert policy.rule("four-fifths").scopes == ("sex", "race")
    assert policy.rule("psi").scopes == ("*",)
    assert policy.min_group_size == 50


def _broken(old: str, new: str) -> bytes:
    assert old in VALID
    return VALID.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            _broken("threshold: 0.2", 'threshold: "0.2"'),
            "rules[2].threshold: expected a number, got text '0.2'",
        ),
        (_broken("threshold: 0.2", "threshold: true"), "rules[2].threshold: expected a number, got true"),
        (
            _broken('operator: "<"', 'operator: "=<"'),
            "rules[2].operator: expected one of '>=', '<=', '>', '<'",
        ),
        (_broken("    threshold: 0.75\n", ""), "rules[1].threshold: required, but missing"),
        (
            _broken("    threshold: 0.75\n", "    treshold: 0.75\n"),
            "rules[1].treshold: unknown key; did you mean 'threshold'?",
        ),
        (_broken("metric: drift.psi", "metric: drfit.psi"), "rules[2].metric: must be <analysis>.<metric>"),
        (_broken("min_group_size: 50", "min_group_size: 0"), "min_group_size: must be at least 1; got 0"),
        (_broken("min_group_size: 50", "min_group_size: 2.5"), "min_group_size: expected a whole number"),
        (_broken("on: ci_low", "on: lower"), "rules[1].on: expected one of 'value', 'ci_low', 'ci_high'"),
        (
            _broken("format: signoff-policy/1", "format: signoff-policy/2"),
            "format: must be 'signoff-policy/1'",
        ),
        (_broken("name: test-policy", "name: test policy!"), "name: must be a short name"),
        (_broken("scopes: [sex, race]", "scopes: []"), "rules[0].scopes: needs at least 1 item"),
        (
            _broken("    scopes: [sex, race]\n", ""),
            "rules[0]: give exactly one of 'scope' (one name) or 'scopes'",
        ),
        (_broken("id: psi", "id: auc"), "rules[2].id: 'auc' is already the id of rules[1]"),
        (VALID.replace("name: test-policy\n", "").encode(), "name: required, but missing"),
        (_broken("rules:", "colour: blue\nrules:"), "colour: unknown key"),
        (
            (VALID + "settings:\n  fairness:\n    confidence_level: 1.5\n").encode(),
            "settings.fairness.confidence_level: must be less than 1; got 1.5",
        ),
        (
            (VALID + "required_signatures:\n  - role: approver\n    count: 0\n").encode(),
            "required_signatures[0].count: must be at least 1; got 0",
        ),
    ],
)
def test_a_malformed_policy_names_the_offending_key_path(data, expected):
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(data, source="policies/broken.yaml")
    message = str(raised.value)
    assert message.startswith("file policies/broken.yaml: invalid policy:")
    assert expected in message
    assert raised.value.file == "policies/broken.yaml"
    assert raised.value.exit_code == 2


def test_every_problem_is_reported_at_once():
    data = _broken("threshold: 0.2", 'threshold: "x"').replace(b'operator: ">="', b'operator: "=="', 1)
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(data, source="p.yaml")
    paths = [path for path, _ in raised.value.problems]
    assert paths == ["rules[0].operator", "rules[2].threshold"]


def test_a_key_given_twice_is_refused_with_its_lines():
    data = _broken("threshold: 0.2", "threshold: 0.2\n    threshold: 0.5")
    with pytest.raises(
        PolicyFileError, match=r"line 21, column 5: key 'threshold' appears twice \(first on line 20\)"
    ):
        parse_policy(data, source="p.yaml")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"rules: [unclosed\n", "line 2, column 1"),
        (b"- just\n- a list\n", "expected a mapping of keys to values, got a list"),
        (b"", "expected a mapping of keys to values, got nothing"),
        (b"\xff\xfe name", "not UTF-8 text"),
        (b"name: !!python/object:os.system x\n", "could not determine a constructor"),
    ],
)
def test_unreadable_documents(data, expected):
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(data, source="p.yaml")
    assert expected in str(raised.value)


def test_a_missing_file_is_an_input_error_that_lists_the_shipped_policies(tmp_path):
    with pytest.raises(InputError) as raised:
        load_policy(tmp_path / "nope.yaml")
    assert not isinstance(raised.value, PolicyFileError)
    assert "no such policy file" in str(raised.value)
    assert "lending-four-fifths" in str(raised.value)


def test_a_file_on_disk_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("default").write_text(VALID)
    policy, _ = load_policy("default")
    assert policy.name == "test-policy"


def test_resources_are_found_in_a_checkout():
    assert resources_dir() == REPO / "resources"
    assert policy_schema_path() == REPO / "resources" / "policies" / "schema.json"
    assert policy_template("default").name == "default.yaml"
    with pytest.raises(NotFoundError, match="no shipped policy named 'nope'"):
        policy_template("nope")


def test_resources_are_found_inside_an_installed_package_and_a_bundle(tmp_path):
    """Lay the package out as a wheel installs it (resources inside ``signoff/``) and as a PyInstaller
    bundle does (``resources/`` under ``sys._MEIPASS``), with no checkout around, and ask a fresh
    interpreter where the resources are."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "app" / "signoff", site / "signoff", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "resources", site / "signoff" / "_resources")
    script = (
        "import sys; from signoff.resources import resources_dir;"
        "from signoff.importers.policy_file import load_policy;"
        "print(resources_dir()); print(load_policy('default')[0].name)"
    )
    installed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.split() == [str(site / "signoff" / "_resources"), "default"]

    bundle = tmp_path / "bundle"
    shutil.copytree(REPO / "resources", bundle / "resources")
    frozen = subprocess.run(
        [sys.executable, "-c", f"import sys; sys._MEIPASS = {str(bundle)!r}; {script}"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert frozen.returncode == 0, frozen.stderr
    assert frozen.stdout.split() == [str(bundle / "resources"), "default"]
