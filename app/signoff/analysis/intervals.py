"""Uncertainty: Wilson intervals, a multinomial bootstrap over count tables, and significance tests.

Resampling n rows with replacement and counting them gives a multinomial draw over the table's cells
with the observed cell shares as probabilities; drawing that directly (for the joint table, so every
segment's marginal comes from the same resample) is the row bootstrap at the cost of a table, not a log.
Intervals are 95% percentile intervals (numpy's linear interpolation) over the resamples in which the
statistic is defined.
"""

from __future__ import annotations

import math

import numpy as np

from signoff.analysis.counts import Tally

LEVEL = 0.95
# scipy.stats.norm.ppf(0.975) written out: importing scipy.stats takes most of a second, and an analysis
# needs it only for Fisher's exact test (statistics.NormalDist differs from it in the last bit).
Z = 1.959963984540054


def wilson(successes: np.ndarray, trials: np.ndarray, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (no continuity correction); NaN where there are no trials."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def resample(tally: Tally, n_resamples: int, seed: int) -> Tally:
    """The same table with ``counts`` replaced by ``(n_resamples, entries)`` multinomial draws."""
    rng = np.random.default_rng(seed)
    n = int(tally.counts.sum())
    if n == 0:
        return tally.with_counts(np.zeros((n_resamples, len(tally.counts)), dtype=np.int64))
    draws = rng.multinomial(n, tally.counts / n, size=n_resamples)
    return tally.with_counts(draws)


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring NaN (a resample where the statistic is undefined).

    Equal to ``np.nanpercentile(samples, [2.5, 97.5], axis=0)`` but vectorised over all columns at
    once (numpy's nan-aware version loops in Python per column).
    """
    ordered = np.sort(samples, axis=0)  # NaN sorts last
    valid = (~np.isnan(samples)).sum(axis=0)
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        pos = q * np.maximum(valid - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(valid - 1, 0))
        frac = pos - lo
        a = np.take_along_axis(ordered, lo[None, ...], axis=0)[0]
        b = np.take_along_axis(ordered, hi[None, ...], axis=0)[0]
        value = a + (b - a) * frac
        out.append(np.where(valid > 0, value, np.nan))
    return out[0], out[1]


def two_proportion_test(k1: int, n1: int, k0: int, n0: int) -> tuple[str, float | None, float | None]:
    """Compare k1/n1 with k0/n0, two-sided: pooled z-test, or Fisher's exact test for small cells.

    Fisher's exact test is used when any expected cell of the 2x2 table is below 5, where the normal
    approximation of the z-test is poor. Returns (test name, statistic, p-value).
    """
    if n1 == 0 or n0 == 0:
        return "two_proportion_z", None, None
    total = n1 + n0
    selected = k1 + k0
    expected = np.outer([n1, n0], [selected, total - selected]) / total
    if expected.min() < 5:
        from scipy import stats

        table = [[k1, n1 - k1], [k0, n0 - k0]]
        res = stats.fisher_exact(table, alternative="two-sided")
        odds = float(res.statistic)
        return "fisher_exact", (odds if np.isfinite(odds) else None), float(res.pvalue)
    pooled = selected / total
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (k1 / n1 - k0 / n0) / se
    # 2 * Phi(-|z|) = erfc(|z| / sqrt 2), the standard normal's two-sided tail. The standard library's
    # erfc agrees with scipy's ndtr to 4e-14 relative; importing scipy.special for it took ~0.9 s of a
    # first call.
    return "two_proportion_z", float(z), math.erfc(abs(z) / math.sqrt(2))


def chi_square_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for a chi-square X with ``dof`` (integer) degrees of freedom: the regularised
    upper incomplete gamma Q(dof/2, statistic/2) in its closed form for integer and half-integer shapes
    (a Poisson tail; plus erfc for odd ``dof``). Agrees with scipy.special.chdtrc to 1e-15 up to 100
    degrees of freedom and to 4e-13 up to 2,000; written out so that deriving drift from its counts loads
    no scipy."""
    if statistic <= 0:
        return 1.0
    half = statistic / 2.0
    start = 0.0 if dof % 2 == 0 else 0.5
    first = 0.0 if dof % 2 == 0 else math.erfc(math.sqrt(half))
    log_term = start * math.log(half) - half - math.lgamma(start + 1.0)
    terms = []
    term = None
    for i in range(dof // 2):
        a = start + i
        if term is None and log_term > -575.0:  # from here on the terms are normal floats: a recurrence
            term = math.exp(log_term)
        if term is None:
            log_term += math.log(half / (a + 1.0))
            continue
        terms.append(term)
        term *= half / (a + 1.0)
    return min(1.0, first + math.fsum(terms))


def chi_square_test(table: np.ndarray) -> tuple[float, float, int, np.ndarray]:
    """Pearson's chi-square test of independence on a contingency table, as
    ``scipy.stats.chi2_contingency(table, correction=False)``: (statistic, p-value, dof, expected counts)."""
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 0:  # one row or column: observed equals expected
        return 0.0, 1.0, 0, expected
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, chi_square_sf(statistic, int(dof)), int(dof), expected
