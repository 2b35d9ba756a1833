"""Intervals and tests: Wilson and the z/Fisher tests equal scipy; the count bootstrap equals a row bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import chdtrc

from signoff.analysis.fairness import run_fairness
from signoff.analysis.intervals import chi_square_sf, percentile_interval, two_proportion_test, wilson


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (81, 263), (263, 263), (5, 7), (4999, 10000)])
def test_wilson_equals_scipy(k, n):
    low, high = wilson(np.array([k]), np.array([n]))
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low[0] == pytest.approx(ci.low, abs=1e-12)
    assert high[0] == pytest.approx(ci.high, abs=1e-12)


def test_wilson_textbook_example():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553 to 0.3662 (method 3).
    low, high = wilson(np.array([81]), np.array([263]))
    assert (round(low[0], 4), round(high[0], 4)) == (0.2553, 0.3662)


def test_z_test_equals_scipy_chi_square_without_correction():
    # The pooled two-proportion z-test is the 2x2 chi-square test: z^2 = chi2, same p-value.
    test, z, p = two_proportion_test(130, 400, 95, 380)
    chi2, p_chi, _, _ = stats.chi2_contingency([[130, 270], [95, 285]], correction=False)
    assert test == "two_proportion_z"
    assert z**2 == pytest.approx(chi2, rel=1e-12)
    assert p == pytest.approx(p_chi, rel=1e-10)


def test_small_cells_use_fisher_exact():
    test, odds, p = two_proportion_test(2, 9, 40, 60)
    assert test == "fisher_exact"
    expected = stats.fisher_exact([[2, 7], [40, 20]])
    assert odds == pytest.approx(expected.statistic) and p == pytest.approx(expected.pvalue)


def test_significance_per_group_vs_reference_in_result(adult_log):
    result = run_fairness(
        adult_log, label="label", prediction="prediction", sensitive=["race"], n_resamples=0
    )
    segment = result.segment("race")
    assert segment.reference == "White" and segment.group("White").significance is None
    ref = adult_log[adult_log["race"] == "White"]
    for g in segment.groups:
        if g.group == "White":
            continue
        rows = adult_log[adult_log["race"] == g.group]
        table = [
            [int(rows["prediction"].sum()), int((1 - rows["prediction"]).sum())],
            [int(ref["prediction"].sum()), int((1 - ref["prediction"]).sum())],
        ]
        if g.significance.test == "fisher_exact":
            expected_p = stats.fisher_exact(table).pvalue
        else:
            expected_p = stats.chi2_contingency(table, correction=False).pvalue
        assert g.significance.p_value == pytest.approx(expected_p, rel=1e-9), g.group


@pytest.mark.parametrize(
    "nan_share",
    [0.1, 0.0, 0.002],  # columns with different counts of valid resamples, and with the same
)
def test_percentile_interval_equals_numpy_nanpercentile(nan_share):
    rng = np.random.default_rng(3)
    samples = rng.random((500, 7))
    samples[rng.random((500, 7)) < nan_share] = np.nan
    samples[:, 6] = np.nan
    low, high = percentile_interval(samples)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanpercentile(samples, [2.5, 97.5], axis=0)
    np.testing.assert_allclose(low, expected[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(high, expected[1], rtol=0, atol=1e-15)


def test_count_bootstrap_agrees_with_row_bootstrap_within_monte_carlo_error():
    """2,000 rows, two groups; 2,000 resamples each way.

    The 2.5% / 97.5% percentile of B resamples has Monte Carlo standard error about
    sqrt(q(1-q)/B) / density(x_q) = 0.0035 / (0.058 / sd) = 0.06 sd for a near-normal statistic, so two
    independent estimates differ by about 0.085 sd; 4 of those (0.34 sd) bounds the gap.
    """
    rng = np.random.default_rng(11)
    n = 2000
    group = rng.choice(["a", "b"], size=n, p=[0.7, 0.3])
    label = (rng.random(n) < 0.4).astype(int)
    prediction = (rng.random(n) < np.where(group == "a", 0.5, 0.35)).astype(int)
    log = pd.DataFrame({"label": label, "prediction": prediction, "group": group})
    result = run_fairness(
        log, label="label", prediction="prediction", sensitive=["group"], n_resamples=2000, seed=5
    )
    segment = result.segment("group")

    b = 2000
    idx = rng.integers(0, n, size=(b, n))
    is_a = group[idx] == "a"
    sel = prediction[idx] == 1
    pos = label[idx] == 1
    sr_a = (sel & is_a).sum(1) / is_a.sum(1)
    sr_b = (sel & ~is_a).sum(1) / (~is_a).sum(1)
    tpr_b = (sel & pos & ~is_a).sum(1) / (pos & ~is_a).sum(1)
    row_stats = {
        ("a", "selection_rate"): sr_a,
        ("b", "selection_rate"): sr_b,
        ("b", "tpr"): tpr_b,
        (None, "demographic_parity_difference"): np.abs(sr_a - sr_b),
    }
    for (g, name), values in row_stats.items():
        sd = values.std()
        lo, hi = np.percentile(values, [2.5, 97.5])
        ours = segment.comparison(name).ci if g is None else segment.group(g).bootstrap[name]
        assert abs(ours[0] - lo) < 0.34 * sd, (g, name, ours, lo, hi, sd)
        assert abs(ours[1] - hi) < 0.34 * sd, (g, name, ours, lo, hi, sd)
    # The count bootstrap is seeded: the same seed gives the same intervals.
    again = run_fairness(
        log, label="label", prediction="prediction", sensitive=["group"], n_resamples=2000, seed=5
    )
    assert again.to_dict() == result.to_dict()


@pytest.mark.parametrize("dof", [1, 2, 3, 9, 10, 49, 100, 499, 1999])
def test_chi_square_tail_agrees_with_scipy(dof):
    """The closed-form chi-square tail used where scipy is not loaded, against scipy's chdtrc."""
    for x in np.concatenate([np.linspace(0.0, 5 * dof + 50, 300), [dof * 0.9, dof, dof * 1.1, 1500.0]]):
        assert chi_square_sf(float(x), dof) == pytest.approx(float(chdtrc(dof, x)), abs=5e-13)
