"""The report section of a champion-vs-challenger comparison, present when the evidence holds one.

Content only (tables, bars, paragraphs of ``reporting.content``); the assembler decides where the
section goes and the renderer how it looks. Every text taken from the evidence is passed as data,
never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from signoff.domain.comparison import ComparisonResult, GroupComparison
from signoff.reporting.content import BarChart, Block, Heading, KeyValues, Paragraph, Section, Table

TITLE = "Champion vs challenger"
EXPLANATION = (
    "Each difference is the challenger's value minus the champion's. Paired comparisons (both versions "
    "scored the same rows) test error rates with McNemar's test (exact binomial below 25 discordant pairs) "
    "and AUCs with DeLong's test for correlated curves; their intervals come from a multinomial bootstrap of "
    "the paired count table. Unpaired comparisons (an A/B test) use Newcombe's hybrid score intervals, the "
    "two-proportion test and DeLong's test for independent curves. p values are Holm-adjusted within the "
    "family stated below. Groups below the minimum size are shown but not tested."
)


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _interval(ci: tuple[float | None, float | None]) -> str:
    return "—" if ci[0] is None or ci[1] is None else f"{ci[0]:+.3f} to {ci[1]:+.3f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _metric_rows(group: GroupComparison) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (m.metric, _number(m.champion), _number(m.challenger), _signed(m.difference), _interval(m.ci),
         m.test or "—", _p(m.p_value), _p(m.p_holm))
        for m in group.metrics
    )  # fmt: skip


def _comparison_blocks(title: str, result: ComparisonResult) -> list[Block]:
    cov = result.coverage
    level = f"{result.confidence_level:.0%}"
    facts = [
        ("Comparison", title),
        ("Design", result.design),
        ("Rows compared", f"{cov.compared_rows:,}"),
    ]
    if cov.joined_on:
        facts.append(("Joined on", cov.joined_on))
        facts.append(
            ("Rows in one log only", f"champion {cov.only_champion:,}; challenger {cov.only_challenger:,}")
        )
    facts.append(("Favourable outcome", result.positive_label))
    blocks: list[Block] = [
        Heading(title),
        KeyValues(tuple(facts)),
        Table(
            columns=(
                "Metric",
                "Champion",
                "Challenger",
                "Difference",
                f"{level} interval",
                "Test",
                "p",
                "p (Holm)",
            ),
            rows=_metric_rows(result.overall),
            align=("left", "right", "right", "right", "right", "left", "right", "right"),
            caption="Overall",
        ),
    ]
    for segment in result.segments:
        groups = [g for g in segment.groups if g.champion_count or g.challenger_count]
        rows = []
        for g in groups:
            sr, acc = g.metric("selection_rate"), g.metric("accuracy")
            changes = (
                "—" if g.changes is None else f"+{g.changes.newly_approved:,} / -{g.changes.newly_declined:,}"
            )
            rows.append(
                (
                    g.group,
                    f"{min(g.champion_count, g.challenger_count):,}",
                    f"{_signed(sr.difference)} ({_interval(sr.ci)})",
                    f"{_signed(acc.difference)} ({_interval(acc.ci)})",
                    changes,
                    "insufficient data" if g.insufficient else _p(sr.p_holm),
                )
            )
        blocks.append(
            Table(
                columns=(
                    "Group",
                    "Rows",
                    "Selection rate change",
                    "Accuracy change",
                    "Newly approved / declined",
                    "p (Holm), selection rate",
                ),
                rows=tuple(rows),
                align=("left", "right", "right", "right", "right", "right"),
                caption=f"By {segment.name}",
                widths=(1.6, 0.8, 2.0, 2.0, 1.4, 1.2),
            )
        )
        shown = [g for g in groups if g.metric("selection_rate").difference is not None]
        if shown:
            changes = [g.metric("selection_rate") for g in shown]
            blocks.append(
                BarChart(
                    title=f"Selection rate, challenger - champion, by {segment.name} ({level} interval)",
                    categories=tuple(g.group for g in shown),
                    values=tuple(c.difference for c in changes),
                    axis_label="difference",
                    error_low=tuple(c.ci[0] for c in changes),
                    error_high=tuple(c.ci[1] for c in changes),
                    reference=0.0,
                    reference_label="no change",
                    value_format="{:+.3f}",
                )
            )
        gap_rows = tuple(
            (
                gap.name,
                _number(gap.champion),
                _number(gap.challenger),
                _signed(gap.difference),
                _interval(gap.ci),
            )
            for gap in segment.gaps
        )
        blocks.append(
            Table(
                columns=("Fairness gap", "Champion", "Challenger", "Change", f"{level} interval"),
                rows=gap_rows,
                align=("left", "right", "right", "right", "right"),
                caption=f"Fairness gaps by {segment.name}",
            )
        )
        test = segment.change_test
        if test is not None and test.p_value is not None:
            blocks.append(
                Paragraph(
                    f"Decision changes across the groups of {segment.name}: chi-square {test.statistic:.3g} "
                    f"({test.dof} degree(s) of freedom), p {_p(test.p_value)}, Holm-adjusted {_p(test.p_holm)}.",
                    style="note",
                )
            )
    if result.reliance:
        blocks.append(
            Table(
                columns=("Feature", "Scope", "Champion mean |SHAP|", "Challenger mean |SHAP|", "Change"),
                rows=tuple(
                    (r.feature, r.scope, _number(r.champion), _number(r.challenger), _signed(r.difference))
                    for r in result.reliance
                ),
                align=("left", "left", "right", "right", "right"),
                caption="Reliance on features (SHAP), each model in its own output space",
            )
        )
    blocks += [Paragraph(f"Family: {f.description}.", style="note") for f in result.families]
    return blocks


def comparison_section(number: int, comparisons: Sequence[tuple[str, ComparisonResult]]) -> Section:
    blocks: list[Block] = [Paragraph(EXPLANATION)]
    for title, result in comparisons:
        blocks += _comparison_blocks(title, result)
    return Section(number, TITLE, tuple(blocks), new_page=True)
