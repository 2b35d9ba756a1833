"""AIF360's signed unprivileged-vs-privileged metrics equal ``aif360==0.6.1`` ClassificationMetric.

On the UCI Adult test set: the privileged group is Signoff's reference group (the largest); the
segment-wide value pools every other judged group as unprivileged, the per-group value takes one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_oracles import same

from signoff.analysis.fairness import run_fairness

AIF360_METHODS = {
    "statistical_parity_difference": "statistical_parity_difference",
    "disparate_impact": "disparate_impact",
    "aif360_equal_opportunity_difference": "equal_opportunity_difference",
    "average_odds_difference": "average_odds_difference",
}


@pytest.fixture(scope="module")
def aif360_datasets(adult_log):
    from aif360.datasets import BinaryLabelDataset

    sexes = sorted(adult_log["sex"].unique())
    races = sorted(adult_log["race"].unique())
    frame = pd.DataFrame(
        {
            "sex": adult_log["sex"].map(sexes.index).astype(float),
            "race": adult_log["race"].map(races.index).astype(float),
            "label": adult_log["label"].astype(float),
        }
    )
    truth = BinaryLabelDataset(
        df=frame,
        label_names=["label"],
        protected_attribute_names=["sex", "race"],
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
    classified = truth.copy(deepcopy=True)
    classified.labels = adult_log["prediction"].to_numpy(dtype=float).reshape(-1, 1)
    return truth, classified, {"sex": sexes, "race": races}


def _aif360(truth, classified, unprivileged, privileged) -> dict[str, float]:
    from aif360.metrics import ClassificationMetric

    metric = ClassificationMetric(
        truth, classified, unprivileged_groups=unprivileged, privileged_groups=[privileged]
    )
    return {ours: getattr(metric, theirs)() for ours, theirs in AIF360_METHODS.items()}


def _code(values: dict[str, list[str]], attributes: tuple[str, ...], label: str) -> dict[str, float]:
    parts = label.split(" & ")
    return {a: float(values[a].index(v)) for a, v in zip(attributes, parts, strict=True)}


@pytest.mark.parametrize("segment_name", ["sex", "race", "sex&race"])
def test_aif360_conventions_equal_classification_metric(adult_log, aif360_datasets, segment_name):
    truth, classified, values = aif360_datasets
    result = run_fairness(
        adult_log,
        label="label",
        prediction="prediction",
        sensitive=["sex", "race"],
        intersections=[("sex", "race")],
        n_resamples=0,
    )
    segment = result.segment(segment_name)
    attributes = segment.attributes
    privileged = _code(values, attributes, segment.reference)
    assert segment.reference == (
        "Male" if segment_name == "sex" else "White" if segment_name == "race" else "Male & White"
    )

    pooled = segment.comparison("statistical_parity_difference").groups
    assert pooled and segment.reference not in pooled
    expected = _aif360(truth, classified, [_code(values, attributes, g) for g in pooled], privileged)
    for name, value in expected.items():
        assert same(segment.comparison(name).value, value), (segment_name, name)

    judged = [g for g in segment.groups if g.count > 0 and g.group != segment.reference]
    for group in judged:
        expected = _aif360(truth, classified, [_code(values, attributes, group.group)], privileged)
        for name, value in expected.items():
            ours = segment.comparison(name, group=group.group).value
            if np.isnan(value) or np.isinf(value):
                assert ours is None, (group.group, name)
            else:
                assert same(ours, value), (segment_name, group.group, name, ours, value)
