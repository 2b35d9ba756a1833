"""Champion vs challenger against independent oracles: statsmodels' McNemar, Holm and z-test, a DeLong
written here from its definition (all pairs, O(n^2)), Newcombe's published example, scipy tails, and a
row-level bootstrap for the count-table bootstrap of the fairness gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from signoff.analysis.compare import (
    VersionColumns,
    holm,
    join_logs,
    newcombe,
    run_paired_comparison,
    run_unpaired_comparison,
)
from signoff.domain.comparison import ComparisonResult
from signoff.domain.errors import InputError

CHAMPION = VersionColumns("label", "pred_a", "score_a")
CHALLENGER = VersionColumns("label", "pred_b", "score_b")
Z95 = stats.norm.ppf(0.975)


def paired_log(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.4, 0.6])
    race = rng.choice(["A", "B", "C", None], n, p=[0.6, 0.25, 0.13, 0.02])
    y = rng.random(n) < np.where(sex == "Female", 0.3, 0.4)
    # Scores rounded to two decimals: many ties, which DeLong's mid-ranks must handle.
    score_a = np.round(np.clip(0.25 * y + rng.random(n) * 0.75, 0, 1), 2)
    score_b = np.round(np.clip(0.35 * y + rng.random(n) * 0.65 - 0.05 * (sex == "Female"), 0, 1), 2)
    return pd.DataFrame(
        {
            "row_id": [f"r{i}" for i in range(n)],
            "label": y.astype(int),
            "pred_a": (score_a >= 0.5).astype(int),
            "pred_b": (score_b >= 0.5).astype(int),
            "score_a": score_a,
            "score_b": score_b,
            "sex": sex,
            "race": race,
        }
    )


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return paired_log()


@pytest.fixture(scope="module")
def paired(log: pd.DataFrame) -> ComparisonResult:
    return run_paired_comparison(
        log, champion=CHAMPION, challenger=CHALLENGER, sensitive=["sex", "race"], n_resamples=2000, seed=3
    )


def _groups(result: ComparisonResult, log: pd.DataFrame):
    """(group result, the rows of that group) for overall and every group of every segment."""
    race = log["race"].fillna("Unknown")
    yield result.overall, log
    for seg in result.segments:
        for g in seg.groups:
            if seg.name == "sex":
                rows = log[log["sex"] == g.group]
            elif seg.name == "race":
                rows = log[race == g.group]
            else:
                sex, r = g.group.split(" & ")
                rows = log[(log["sex"] == sex) & (race == r)]
            yield g, rows


def _definition_delong(y: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their covariance from DeLong, DeLong & Clarke-Pearson (1988), every pair compared."""
    pos, neg = y == 1, y == 0
    v10, v01 = [], []
    for s in scores:
        x, z = s[pos][:, None], s[neg][None, :]
        psi = (x > z) + 0.5 * (x == z)
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    aucs = np.array([v.mean() for v in v10])
    s10 = np.atleast_2d(np.cov(np.vstack(v10)))
    s01 = np.atleast_2d(np.cov(np.vstack(v01)))
    return aucs, s10 / pos.sum() + s01 / neg.sum()


def test_mcnemar_matches_statsmodels_for_every_group(paired: ComparisonResult, log: pd.DataFrame) -> None:
    checked = 0
    for group, rows in _groups(paired, log):
        y, a, b = rows["label"].to_numpy(), rows["pred_a"].to_numpy(), rows["pred_b"].to_numpy()
        for metric, keep, right_a, right_b in (
            ("accuracy", np.ones(len(y), bool), a == y, b == y),
            ("tpr", y == 1, a == 1, b == 1),
            ("fpr", y == 0, a == 1, b == 1),
            ("selection_rate", np.ones(len(y), bool), a == 1, b == 1),
        ):
            m = group.metric(metric)
            if group.insufficient:
                assert m.p_holm is None
            ra, rb = right_a[keep], right_b[keep]
            table = [[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]]
            discordant = table[0][1] + table[1][0]
            exact = discordant < 25
            oracle = sm_mcnemar(table, exact=exact, correction=True)
            assert m.test == ("mcnemar_exact" if exact else "mcnemar_chi2")
            assert m.p_value == pytest.approx(oracle.pvalue, rel=1e-9, abs=1e-300)
            assert m.statistic == pytest.approx(oracle.statistic, rel=1e-9)
            assert m.champion == pytest.approx(ra.mean() if metric != "accuracy" else (a == y).mean())
            assert m.difference == pytest.approx(rb.mean() - ra.mean())
            checked += 1
    assert checked >= 4 * 12


def test_exact_mcnemar_when_few_discordant_pairs() -> None:
    log = paired_log(400, seed=11)
    log["pred_b"] = log["pred_a"]
    flip = log.index[:7]
    log.loc[flip, "pred_b"] = 1 - log.loc[flip, "pred_b"]
    result = run_paired_comparison(
        log, champion=CHAMPION, challenger=CHALLENGER, sensitive=["sex"], n_resamples=0
    )
    m = result.overall.metric("selection_rate")
    changed_up = int(((log.pred_a == 0) & (log.pred_b == 1)).sum())
    table = [[0, 7 - changed_up], [changed_up, 0]]
    assert m.test == "mcnemar_exact"
    assert m.p_value == pytest.approx(sm_mcnemar(table, exact=True).pvalue, rel=1e-12)
    assert m.p_value == pytest.approx(min(1.0, 2 * stats.binom.cdf(min(changed_up, 7 - changed_up), 7, 0.5)))


def test_correlated_auc_matches_delong_from_its_definition(
    paired: ComparisonResult, log: pd.DataFrame
) -> None:
    for group, rows in _groups(paired, log):
        y = rows["label"].to_numpy()
        m = group.metric("roc_auc")
        if y.min() == y.max():
            assert m.difference is None
            continue
        aucs, cov = _definition_delong(y, [rows["score_a"].to_numpy(), rows["score_b"].to_numpy()])
        variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
        z = (aucs[1] - aucs[0]) / np.sqrt(variance)
        assert m.champion == pytest.approx(aucs[0], abs=1e-12)
        assert m.challenger == pytest.approx(aucs[1], abs=1e-12)
        assert m.statistic == pytest.approx(z, rel=1e-7)
        assert m.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6, abs=1e-300)
        half = Z95 * np.sqrt(variance)
        assert m.ci[0] == pytest.approx(aucs[1] - aucs[0] - half, abs=1e-9)
        assert m.ci[1] == pytest.approx(aucs[1] - aucs[0] + half, abs=1e-9)


def test_unpaired_auc_adds_the_two_delong_variances_and_uses_newcombe(log: pd.DataFrame) -> None:
    a, b = log.iloc[:1400], log.iloc[1400:]
    result = run_unpaired_comparison(
        a, b, champion=CHAMPION, challenger=CHALLENGER, sensitive=["sex"], n_resamples=0
    )
    assert result.design == "unpaired" and result.coverage.compared_rows == len(log)
    m = result.overall.metric("roc_auc")
    auc_a, var_a = _definition_delong(a["label"].to_numpy(), [a["score_a"].to_numpy()])
    auc_b, var_b = _definition_delong(b["label"].to_numpy(), [b["score_b"].to_numpy()])
    z = (auc_b[0] - auc_a[0]) / np.sqrt(var_a[0, 0] + var_b[0, 0])
    assert m.statistic == pytest.approx(z, rel=1e-7)
    assert m.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6)
    # Selection rates: statsmodels' pooled two-proportion z-test, and Newcombe's interval by hand.
    for group, rows_a, rows_b in [
        (result.overall, a, b),
        *[(g, a[a.sex == g.group], b[b.sex == g.group]) for g in result.segments[0].groups],
    ]:
        sr = group.metric("selection_rate")
        k = np.array([rows_b.pred_b.sum(), rows_a.pred_a.sum()])
        n = np.array([len(rows_b), len(rows_a)])
        zstat, p = proportions_ztest(k, n)
        assert sr.test == "two_proportion_z"
        assert sr.statistic == pytest.approx(zstat, rel=1e-9)
        assert sr.p_value == pytest.approx(p, rel=1e-9)
        lo, hi = _hand_newcombe(k[1], n[1], k[0], n[0])
        assert sr.ci == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))


def _hand_wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (2 * n * p + z * z) / (2 * (n + z * z))
    half = z * np.sqrt(z * z + 4 * n * p * (1 - p)) / (2 * (n + z * z))
    return centre - half, centre + half


def _hand_newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    (l1, u1), (l2, u2) = _hand_wilson(k1, n1), _hand_wilson(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    d = p2 - p1
    return d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def test_newcombe_reproduces_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    low, high = newcombe(np.array(48), np.array(80), np.array(56), np.array(70), Z95)
    assert (round(float(low), 4), round(float(high), 4)) == (0.0524, 0.3339)


def test_holm_matches_statsmodels(paired: ComparisonResult) -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    family = next(f for f in paired.families if f.metric == "accuracy")
    members = [
        g.metric("accuracy") for g in [paired.overall, *(g for s in paired.segments for g in s.groups)]
    ]
    tested = [m for m in members if m.p_holm is not None]
    assert family.size == len(tested) and "Holm" in family.description
    expected = multipletests([m.p_value for m in tested], method="holm")[1]
    assert [m.p_holm for m in tested] == pytest.approx(list(expected))


def test_decision_changes_counted_and_tested(paired: ComparisonResult, log: pd.DataFrame) -> None:
    seg = next(s for s in paired.segments if s.name == "race")
    rows = []
    for g in seg.groups:
        part = log[log.race.fillna("Unknown") == g.group]
        up = int(((part.pred_a == 0) & (part.pred_b == 1)).sum())
        down = int(((part.pred_a == 1) & (part.pred_b == 0)).sum())
        assert (g.changes.newly_approved, g.changes.newly_declined) == (up, down)
        assert g.changes.unchanged == len(part) - up - down
        if not g.insufficient and not g.unknown:
            rows.append([up, down, len(part) - up - down])
    observed = np.array(rows, dtype=float)
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    chi2 = ((observed - expected) ** 2 / expected).sum()
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    assert seg.change_test.statistic == pytest.approx(chi2, rel=1e-10)
    assert seg.change_test.p_value == pytest.approx(stats.chi2.sf(chi2, dof), rel=1e-9)
    assert "Unknown" not in seg.change_test.groups
    rates = {
        g.group: g.changes.newly_approved_rate for g in seg.groups if g.changes.approval_ratio is not None
    }
    assert max(g.changes.approval_ratio for g in seg.groups if g.changes.approval_ratio) == 1.0
    for g in seg.groups:
        if g.changes.approval_ratio is not None:
            assert g.changes.approval_ratio == pytest.approx(rates[g.group] / max(rates.values()))


def _gaps(
    codes: np.ndarray, y: np.ndarray, pred: np.ndarray, judged: np.ndarray, included: np.ndarray
) -> dict[str, float]:
    """The three gaps of one version's rows, straight from the rows (group codes, labels, decisions).

    Which groups are judged (minimum size) and included (known, over 2% of rows) is decided once on the
    observed data and kept for every resample, as the analysis does."""
    k = len(judged)
    with np.errstate(invalid="ignore", divide="ignore"):
        sr = np.bincount(codes, pred, k) / np.bincount(codes, minlength=k)
        tpr = np.bincount(codes[y == 1], pred[y == 1], k) / np.bincount(codes[y == 1], minlength=k)
        fpr = np.bincount(codes[y == 0], pred[y == 0], k) / np.bincount(codes[y == 0], minlength=k)
    return {
        "impact_ratio": np.nanmin(sr[included]) / np.nanmax(sr[included]),
        "demographic_parity_difference": np.nanmax(sr[judged]) - np.nanmin(sr[judged]),
        "equalized_odds_difference": max(
            np.nanmax(tpr[judged]) - np.nanmin(tpr[judged]), np.nanmax(fpr[judged]) - np.nanmin(fpr[judged])
        ),
    }


def _masks(*code_arrays: np.ndarray, unknown: int = 3, min_size: int = 30) -> tuple[np.ndarray, np.ndarray]:
    sizes = [np.bincount(c, minlength=unknown + 1) for c in code_arrays]
    judged = np.minimum.reduce(sizes) >= min_size
    included = sum(sizes) / sum(len(c) for c in code_arrays) >= 0.02
    included[unknown] = False
    return judged, included


def test_gap_changes_and_their_bootstrap_agree_with_a_row_bootstrap(
    paired: ComparisonResult, log: pd.DataFrame
) -> None:
    seg = next(s for s in paired.segments if s.name == "race")
    codes = log["race"].map({"A": 0, "B": 1, "C": 2}).fillna(3).to_numpy(dtype=np.int64)
    y, a, b = (log[c].to_numpy() for c in ("label", "pred_a", "pred_b"))
    masks = _masks(codes)
    before, after = _gaps(codes, y, a, *masks), _gaps(codes, y, b, *masks)
    rng = np.random.default_rng(99)
    draws: dict[str, list[float]] = {k: [] for k in before}
    for _ in range(2000):
        rows = rng.integers(0, len(log), len(log))
        ga, gb = _gaps(codes[rows], y[rows], a[rows], *masks), _gaps(codes[rows], y[rows], b[rows], *masks)
        for k in draws:
            draws[k].append(gb[k] - ga[k])
    for gap in seg.gaps:
        assert gap.difference == pytest.approx(after[gap.name] - before[gap.name], abs=1e-12)
        low, high = np.percentile(draws[gap.name], [2.5, 97.5])
        spread = high - low
        # Monte Carlo error of a 2.5% quantile from 2000 draws is a few percent of the interval's width.
        assert abs(gap.ci[0] - low) < 0.08 * spread, gap.name
        assert abs(gap.ci[1] - high) < 0.08 * spread, gap.name


def test_insufficient_groups_are_shown_but_not_tested(log: pd.DataFrame) -> None:
    result = run_paired_comparison(
        log, champion=CHAMPION, challenger=CHALLENGER, sensitive=["race"], min_group_size=100, n_resamples=0
    )
    unknown = next(g for g in result.segments[0].groups if g.group == "Unknown")
    assert unknown.unknown and unknown.insufficient and unknown.champion_count == log.race.isna().sum()
    assert unknown.metric("accuracy").p_value is not None and unknown.metric("accuracy").p_holm is None
    accuracy = next(f for f in result.families if f.metric == "accuracy")
    assert accuracy.size == 1 + sum(1 for g in result.segments[0].groups if not g.insufficient)


def test_join_counts_rows_in_only_one_log_and_checks_labels(log: pd.DataFrame) -> None:
    a = log.drop(columns=["pred_b", "score_b"]).iloc[:2500]
    b = log[["row_id", "label", "pred_b", "score_b"]].iloc[100:].sample(frac=1, random_state=1)
    left, right, coverage = join_logs(a, b, champion_id="row_id", challenger_id="row_id")
    assert (coverage.compared_rows, coverage.only_champion, coverage.only_challenger) == (2400, 100, 500)
    assert list(left.row_id) == list(right.row_id)
    frame = left.assign(
        label_b=right.label.to_numpy(), pred_b=right.pred_b.to_numpy(), score_b=right.score_b.to_numpy()
    )
    joined = run_paired_comparison(
        frame,
        champion=CHAMPION,
        challenger=VersionColumns("label_b", "pred_b", "score_b"),
        sensitive=["sex"],
        coverage=coverage,
        n_resamples=0,
    )
    direct = run_paired_comparison(
        log.iloc[100:2500], champion=CHAMPION, challenger=CHALLENGER, sensitive=["sex"], n_resamples=0
    )
    assert joined.coverage.only_challenger == 500
    assert joined.overall.metrics == direct.overall.metrics
    frame.loc[5, "label_b"] = 1 - frame.loc[5, "label_b"]
    with pytest.raises(InputError, match="different label") as error:
        run_paired_comparison(
            frame,
            champion=CHAMPION,
            challenger=VersionColumns("label_b", "pred_b", "score_b"),
            sensitive=["sex"],
        )
    assert error.value.row == 6
    with pytest.raises(InputError, match="row ids repeat"):
        join_logs(pd.concat([a, a.iloc[:1]]), b, champion_id="row_id", challenger_id="row_id")


def test_result_round_trips_and_observes(paired: ComparisonResult) -> None:
    assert ComparisonResult.from_dict(paired.to_dict()) == paired
    observed = {(o.metric, o.scope): o for o in paired.observations()}
    auc = observed[("compare.roc_auc_difference", "overall")]
    assert (auc.value, auc.ci_low) == (
        paired.overall.metric("roc_auc").difference,
        paired.overall.metric("roc_auc").ci[0],
    )
    assert ("compare.selection_rate_difference", "sex=Female") in observed
    assert ("compare.impact_ratio_change", "race") in observed


def test_unpaired_gap_bootstrap_agrees_with_a_two_sample_row_bootstrap(log: pd.DataFrame) -> None:
    a, b = log.iloc[:1500], log.iloc[1500:]
    result = run_unpaired_comparison(
        a, b, champion=CHAMPION, challenger=CHALLENGER, sensitive=["race"], n_resamples=2000, seed=5
    )
    codes = {
        name: part["race"].map({"A": 0, "B": 1, "C": 2}).fillna(3).to_numpy(dtype=np.int64)
        for name, part in (("a", a), ("b", b))
    }
    ya, pa = a["label"].to_numpy(), a["pred_a"].to_numpy()
    yb, pb = b["label"].to_numpy(), b["pred_b"].to_numpy()
    masks = _masks(codes["a"], codes["b"])
    rng = np.random.default_rng(17)
    draws: dict[str, list[float]] = {}
    for _ in range(2000):
        ra, rb = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        ga = _gaps(codes["a"][ra], ya[ra], pa[ra], *masks)
        gb = _gaps(codes["b"][rb], yb[rb], pb[rb], *masks)
        for k in ga:
            draws.setdefault(k, []).append(gb[k] - ga[k])
    for gap in result.segments[0].gaps:
        low, high = np.percentile(draws[gap.name], [2.5, 97.5])
        assert abs(gap.ci[0] - low) < 0.08 * (high - low), gap.name
        assert abs(gap.ci[1] - high) < 0.08 * (high - low), gap.name
