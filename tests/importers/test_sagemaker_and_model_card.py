"""SageMaker exports and Hugging Face model cards, written here from the documented shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from signoff.cli.main import SETTING_FLAGS
from signoff.domain.canonical import canonical_json
from signoff.domain.errors import InputError
from signoff.importers.model_card import read_model_card
from signoff.importers.sagemaker import read_sagemaker_export

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/{}"

CARD_CONTENT = {
    "model_overview": {"model_name": "credit-risk", "model_description": "Gradient boosting on bureau data."},
    "intended_uses": {
        "purpose_of_model": "Pre-screen consumer loan applications.",
        "intended_uses": "Decision support; a human makes the final call.",
        "risk_rating": "High",
        "explanations_for_risk_rating": "Affects access to credit.",
    },
    "training_details": {
        "objective_function": {
            "function": {"function": "Minimize", "facet": "Loss", "condition": "log loss"}
        },
        "training_observations": "Trained on 2019-2023 applications.",
    },
    "evaluation_details": [
        {
            "name": "holdout 2024",
            "evaluation_observation": "Stable across regions.",
            "datasets": ["s3://lake/credit/holdout.parquet"],
            "metric_groups": [
                {
                    "name": "binary classification",
                    "metric_data": [
                        {"name": "auc", "type": "number", "value": 0.87},
                        {"name": "recall", "type": "number", "value": 0.71, "notes": "at threshold 0.5"},
                    ],
                }
            ],
        }
    ],
    "additional_information": {
        "ethical_considerations": "Sex and age are not used as features.",
        "caveats_and_recommendations": "Not for small-business loans.",
    },
}


def package(version: int, **extra) -> dict:
    body = {
        "ModelPackageGroupName": "credit-risk",
        "ModelPackageVersion": version,
        "ModelPackageArn": ARN.format(version),
        "ModelPackageDescription": f"version {version}",
        "CreationTime": "2026-02-01T10:00:00.123000+00:00",
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "PendingManualApproval",
        "CreatedBy": {
            "UserProfileName": "zoë",
            "IamIdentity": {"Arn": "arn:aws:sts::123456789012:assumed-role/ds/zoe"},
        },
        "MetadataProperties": {"CommitId": "abc123", "Repository": "git@example.com:credit.git"},
        "CustomerMetadataProperties": {"team": "credit"},
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": "s3://reports/quality.json"}
            },
            "Bias": {
                "PostTrainingReport": {"ContentType": "application/json", "S3Uri": "s3://reports/bias.json"}
            },
        },
    }
    body.update(extra)
    return body


def write(tmp_path, name, value):
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_one_describe_model_package_with_an_embedded_card(tmp_path):
    embedded = package(
        3,
        ModelApprovalStatus="Approved",
        ApprovalDescription="Signed off by the risk committee.",
        ModelCard={"ModelCardContent": json.dumps(CARD_CONTENT), "ModelCardStatus": "Approved"},
    )
    snapshot = read_sagemaker_export(write(tmp_path, "one.json", embedded))
    assert snapshot.source_kind == "sagemaker"
    assert snapshot.source_uri == "sagemaker:aws:sagemaker:eu-west-1:123456789012"
    assert snapshot.scope == ("credit-risk",)
    version = snapshot.model("credit-risk").version("3")
    assert version.approval_status == "Approved"
    assert version.approval_description == "Signed off by the risk committee."
    assert version.created_by == "zoë"
    assert version.created_at == datetime(2026, 2, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert version.source_uri == ARN.format(3)
    assert version.tags == {
        "metadata.CommitId": "abc123",
        "metadata.Repository": "git@example.com:credit.git",
        "team": "credit",
    }
    assert [(p.kind, p.s3_uri) for p in version.metrics_pointers] == [
        ("Bias.PostTrainingReport", "s3://reports/bias.json"),
        ("ModelQuality.Statistics", "s3://reports/quality.json"),
    ]
    card = version.card
    assert card.risk_rating == "High"
    assert "Pre-screen consumer loan applications." in card.intended_uses
    assert "human makes the final call" in card.intended_uses
    assert "2019-2023" in card.training_details and "Minimize Loss log loss" in card.training_details
    assert card.ethical_considerations == "Sex and age are not used as features."
    assert card.limitations == "Not for small-business loans."
    assert card.evaluation_details == "holdout 2024: Stable across regions."
    assert [(r.metric, r.value, r.dataset, r.note) for r in card.evaluation_results] == [
        ("auc", 0.87, "s3://lake/credit/holdout.parquet", ""),
        ("recall", 0.71, "s3://lake/credit/holdout.parquet", "at threshold 0.5"),
    ]


def test_a_list_of_descriptions(tmp_path):
    snapshot = read_sagemaker_export(
        write(tmp_path, "list.json", [package(2), package(1, ModelApprovalStatus="Rejected")])
    )
    versions = snapshot.model("credit-risk").versions
    assert [(v.version, v.approval_status) for v in versions] == [
        ("1", "Rejected"),
        ("2", "PendingManualApproval"),
    ]


def test_list_model_packages_with_descriptions_beside_it(tmp_path):
    listing = {
        "ModelPackageSummaryList": [
            {
                "ModelPackageGroupName": "credit-risk",
                "ModelPackageVersion": 1,
                "ModelPackageArn": ARN.format(1),
                "CreationTime": 1767261600.0,
                "ModelPackageStatus": "Completed",
                "ModelApprovalStatus": "Approved",
            },
            {
                "ModelPackageGroupName": "credit-risk",
                "ModelPackageVersion": 2,
                "ModelPackageArn": ARN.format(2),
                "ModelPackageStatus": "Completed",
                "ModelApprovalStatus": "PendingManualApproval",
            },
        ],
        "descriptions": [package(2, ApprovalDescription="needs bias report")],
    }
    snapshot = read_sagemaker_export(write(tmp_path, "listing.json", listing))
    first, second = snapshot.model("credit-risk").versions
    assert first.approval_status == "Approved" and first.created_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert first.metrics_pointers == ()  # only the summary was exported for it
    assert second.approval_description == "needs bias report" and len(second.metrics_pointers) == 2


def test_separate_model_card_file_attaches_by_package_arn(tmp_path):
    export = write(tmp_path, "two.json", [package(1), package(2)])
    card_answer = {
        "ModelCardName": "credit-risk-card",
        "ModelCardStatus": "Draft",
        "Content": json.dumps(
            {**CARD_CONTENT, "model_package_details": {"model_package_arn": ARN.format(2)}}
        ),
    }
    snapshot = read_sagemaker_export(export, model_card=write(tmp_path, "card.json", card_answer))
    model = snapshot.model("credit-risk")
    assert model.version("1").card is None
    assert model.version("2").card.risk_rating == "High"
    with pytest.raises(InputError, match="which model package"):
        read_sagemaker_export(export, model_card=write(tmp_path, "bare.json", CARD_CONTENT))


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (
            {"ModelPackageSummaryList": {"not": "a list"}},
            r"at \$\.ModelPackageSummaryList: expected a list, found an object",
        ),
        ([package(1), "oops"], r"at \$\[1\]: expected an object, found text"),
        (
            [package(1, ModelMetrics={"Bias": {"Report": {"ContentType": "x"}}})],
            r"\$\[0\]\.ModelMetrics\.Bias\.Report",
        ),
        ([package(1, ModelApprovalStatus="Maybe")], r"\$\[0\]\.ModelApprovalStatus: 'Maybe' is not one of"),
        ([package(1, CreationTime="yesterday")], r"\$\[0\]\.CreationTime: expected an ISO 8601 time"),
        ([package(1, CreationTime=1e300)], r"\$\[0\]\.CreationTime: expected seconds since 1970 of a time"),
        ([package(1, CreationTime=-1e18)], r"\$\[0\]\.CreationTime: expected seconds since 1970 of a time"),
        ([package(1, ModelCard={"ModelCardContent": "{broken"})], r"\$\[0\]\.ModelCard\.ModelCardContent"),
        ({"Models": []}, r"at \$: expected a describe-model-package answer"),
        ([package(1), package(1)], "lists a version twice"),
        ([], "holds no model packages"),
    ],
)
def test_wrong_shapes_name_the_file_and_the_json_path(tmp_path, value, where):
    path = write(tmp_path, "wrong shape.json", value)
    with pytest.raises(InputError, match=where) as error:
        read_sagemaker_export(path)
    assert error.value.file == str(path)
    assert str(path) in str(error.value)


def test_not_json_at_all(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("ModelPackageArn: yaml?", encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid JSON \(line 1"):
        read_sagemaker_export(path)


HF_CARD = """---
license: apache-2.0
library_name: sklearn
model_version: "4"
model-index:
- name: credit-risk-ü
  results:
  - task:
      type: tabular-classification
      name: Tabular Classification
    dataset:
      name: UCI Adult
      type: scikit-learn/adult-census-income
      split: test
    metrics:
    - type: accuracy
      value: 0.853
    - type: f1
      value: 0.67
      name: F1 (positive class)
---

# credit-risk-ü

## Model description

A gradient boosted tree on census attributes.

## Intended uses & limitations

Research on fairness auditing only; not for decisions about people.

## Training data

UCI Adult training split, 32,561 rows.

## Evaluation

Evaluated on the 16,281-row test split.

## Bias, risks, and limitations

Sex and race are correlated with income in this data.
"""


def test_hugging_face_card_front_matter_and_sections(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(HF_CARD, encoding="utf-8")
    snapshot = read_model_card(path)
    assert snapshot.source_kind == "model-card"
    version = snapshot.model("credit-risk-ü").version("4")
    card = version.card
    assert [(r.metric, r.value, r.dataset, r.task, r.split) for r in card.evaluation_results] == [
        ("accuracy", 0.853, "UCI Adult", "tabular-classification", "test"),
        ("F1 (positive class)", 0.67, "UCI Adult", "tabular-classification", "test"),
    ]
    assert "not for decisions about people" in card.intended_uses
    assert "32,561 rows" in card.training_details
    assert "16,281-row" in card.evaluation_details
    assert "correlated with income" in card.limitations
    assert "gradient boosted" in card.summary
    assert version.tags == {"card.license": "apache-2.0", "card.library_name": "sklearn"}


def test_card_attaches_to_the_version_the_user_names(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(HF_CARD, encoding="utf-8")
    snapshot = read_model_card(path, model="credit risk ü model", version="2")
    assert [(m.name, [v.version for v in m.versions]) for m in snapshot.models] == [
        ("credit risk ü model", ["2"])
    ]


def test_card_without_a_version_asks_for_one(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("---\nlicense: mit\n---\n# x\n## Training data\nsome\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"say which model the card is for \(model name\)") as caught:
        read_model_card(path)
    assert "for (--model)" in caught.value.text_naming(SETTING_FLAGS)  # the CLI names its flag
    with pytest.raises(InputError, match=r"the card is for \(model version\)"):
        read_model_card(path, model="m")


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("model-index: {a: 1}", "model-index must be a list"),
        (
            "model-index:\n- name: m\n  results:\n  - metrics:\n    - type: acc\n",
            r"model-index\[0\]\.results\[0\]\.metrics\[0\] needs a type and a value",
        ),
        ("key: [unclosed", "front matter cannot be read"),
        ("deep: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("- just\n- a list", "must be a mapping"),
    ],
)
def test_bad_front_matter(tmp_path, front, message):
    path = tmp_path / "README.md"
    path.write_text(f"---\n{front}\n---\n# card\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_model_card(path, model="m", version="1")


def test_out_of_scope_uses_are_limitations_and_wrapped_lines_join(tmp_path):
    """Hugging Face's template has "### Out-of-Scope Use" under "## Uses": it limits the model, so it
    must not read as an intended use; a paragraph hard-wrapped in the Markdown reads as one paragraph."""
    path = tmp_path / "README.md"
    path.write_text(
        "# m\n\n## Uses\n\n### Direct Use\n\nPre-screening of\ncredit applications.\n\n"
        "### Out-of-Scope Use\n\nDecisions about\nemployment.\n\n- item one\n- item two\n",
        encoding="utf-8",
    )
    card = read_model_card(path, model="m", version="1").model("m").version("1").card
    assert "Pre-screening of credit applications." in card.intended_uses
    assert "employment" not in card.intended_uses
    assert "Decisions about employment." in card.limitations
    assert "- item one\n- item two" in card.limitations


def test_a_nan_metric_in_a_card_is_kept_as_text_and_the_snapshot_hashes(tmp_path):
    """YAML's .nan has no JSON form: it used to stop the import with a traceback (issue 18)."""
    path = tmp_path / "README.md"
    path.write_text(
        "---\nmodel-index:\n- name: m\n  results:\n  - dataset: {name: d}\n    metrics:\n"
        "    - {type: accuracy, value: .nan}\n    - {type: loss, value: -.inf}\n---\n# card\n",
        encoding="utf-8",
    )
    snapshot = read_model_card(path, model="m", version="1")
    card = snapshot.models[0].versions[0].card
    assert [(r.metric, r.value) for r in card.evaluation_results] == [("accuracy", "nan"), ("loss", "-inf")]
    assert json.loads(canonical_json(snapshot.to_dict()))["models"][0]["name"] == "m"
