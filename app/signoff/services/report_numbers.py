"""Every number a report gives, derived again from the count tables it carries, and compared.

``count-tables.json`` holds, per cited run, the tables and parameters its analysis derives its numbers
from (``services/count_tables.py``). Verifying derives each run's result again with the analysis' own
code (``fairness_from_counts``, ``drift_from_counts`` ...: numpy on the tables, the same seeded bootstrap)
and compares it with ``report.json``: the run's full result at full precision (``TOLERANCE``), and every
number the pages print at the precision it is printed with; then judges the policy's verdicts again on the
recomputed results. No log, no database, no pandas, no scipy.stats.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from signoff.analysis.compare import ComparisonCounts, comparison_from_counts
from signoff.analysis.drift import DriftCounts, drift_from_counts, drift_verdict
from signoff.analysis.fairness import FairnessCounts, fairness_from_counts
from signoff.analysis.monitoring import MonitoringCounts, monitoring_from_counts
from signoff.analysis.performance import PerformanceCounts, performance_from_counts
from signoff.analysis.profiles import ValidationCounts, validation_from_counts
from signoff.domain.analysis_kinds import run_observations
from signoff.domain.comparison import ComparisonResult, GroupComparison
from signoff.domain.drift import DriftResult, DriftThresholds
from signoff.domain.fairness import FairnessResult, GroupMetrics
from signoff.domain.observations import Observation
from signoff.domain.performance import PerformanceResult
from signoff.domain.policy import Operator
from signoff.domain.validation import ValidationAnalysis
from signoff.reporting.file_names import COUNT_TABLES_NAME, COUNT_TABLES_SCHEMA
from signoff.reporting.verify import ReportCheck

NUMBERS_CHECK = "numbers recomputed from the embedded count tables"
# Relative to max(1, |value|): the same arithmetic on the same counts, up to summation order.
TOLERANCE = 1e-12
# Result keys that describe the computation, not its numbers (the engine's version may have moved on).
_NOT_COMPARED = frozenset({"engine_version", "source"})
# Per kind, result keys whose numbers come from other evidence than counts (a comparison's reliance on
# features: from the two versions' SHAP explanations), named as not recomputed when the result has them.
_NOT_FROM_COUNTS = {"compare": {"reliance": "reliance on features (SHAP)"}}
# A hostile file must not make verification draw billions of resamples.
MAX_RESAMPLES = 100_000
_NUMBER = re.compile(r"(<\s*)?(-?\d[\d,]*(?:\.\d+)?)")
_SHOWN_DIFFERENCES = 12


@dataclass
class Recomputation:
    checked: int = 0  # numbers compared
    printed: int = 0  # of which printed on the pages
    differences: list[str] = field(default_factory=list)
    not_recomputed: list[str] = field(default_factory=list)
    bounded: list[str] = field(default_factory=list)  # checked within bounds, not exactly

    def differ(self, what: str, stated: Any, derived: Any) -> None:
        self.differences.append(f"{what}: report says {_shown(stated)}, the counts give {_shown(derived)}")


def numbers_check(content: Mapping[str, Any] | None, attachments: Mapping[str, bytes]) -> ReportCheck:
    """The check "numbers recomputed from the embedded count tables", for ``verify``'s list."""
    if COUNT_TABLES_NAME not in attachments:
        return ReportCheck(
            NUMBERS_CHECK, None, f"the report carries no {COUNT_TABLES_NAME} (exported before it did)"
        )
    try:
        tables = json.loads(attachments[COUNT_TABLES_NAME].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ReportCheck(NUMBERS_CHECK, False, f"{COUNT_TABLES_NAME} is not JSON")
    if not isinstance(tables, dict) or tables.get("schema") != COUNT_TABLES_SCHEMA or content is None:
        return ReportCheck(
            NUMBERS_CHECK, False, f"{COUNT_TABLES_NAME} is not of schema {COUNT_TABLES_SCHEMA}"
        )
    done = recompute(content, tables)
    if done.differences:
        shown = done.differences[:_SHOWN_DIFFERENCES]
        more = len(done.differences) - len(shown)
        return ReportCheck(
            NUMBERS_CHECK,
            False,
            f"{len(done.differences)} of {done.checked} numbers differ: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else ""),
        )
    if not done.checked:
        return ReportCheck(NUMBERS_CHECK, None, "the report cites no analysis whose numbers come from counts")
    detail = (
        f"{done.checked} numbers checked ({done.printed} of them as printed), all as the counts give them"
    )
    if done.bounded:
        detail += "; " + ", ".join(done.bounded)
    if done.not_recomputed:
        detail += "; not recomputed here: " + ", ".join(done.not_recomputed)
    return ReportCheck(NUMBERS_CHECK, True, detail)


def recompute(content: Mapping[str, Any], tables: Mapping[str, Any]) -> Recomputation:
    """Derive each counted run's result from its tables; compare with ``report.json`` (``content``)."""
    payload = content.get("payload") if isinstance(content.get("payload"), dict) else {}
    runs = {r.get("id"): r for r in payload.get("analysis_runs", []) if isinstance(r, dict)}
    log_ids = {
        log.get("evidence_sha256"): log.get("id")
        for log in payload.get("prediction_logs", [])
        if isinstance(log, dict)
    }
    printed_tables = PrintedTables([s for s in content.get("sections", []) if isinstance(s, dict)])
    done = Recomputation()
    counted = set()
    derived_results: dict[Any, Any] = {}  # run id -> its result as the counts give it
    summarised: list[str] = []  # validation runs with number columns
    listed = tables.get("runs")
    for entry in listed if isinstance(listed, list) else []:
        entry = entry if isinstance(entry, dict) else {}
        run = runs.get(entry.get("run_id"))
        kind = entry.get("kind")
        if run is None or run.get("kind") != kind or kind not in RECOMPUTED_KINDS:
            done.differences.append(
                f"count tables of run {entry.get('run_id')} ({kind}): the report cites no such run"
            )
            continue
        counted.add(run["id"])
        derive, printed = RECOMPUTED_KINDS[kind]
        try:
            resamples = int(entry["tables"]["params"].get("n_resamples", 0))
            if not 0 <= resamples <= MAX_RESAMPLES:
                raise ValueError(f"{resamples:,} bootstrap resamples, more than Signoff ever draws")
            stated = run.get("result") if isinstance(run.get("result"), dict) else {}
            derived = derive(entry["tables"], stated)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as error:
            done.differences.append(f"{kind} run {run['id']}: its count tables cannot be read ({error})")
            continue
        inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
        log_id = log_ids.get(inputs.get("log"))
        derived_numbers = derived.to_dict()
        if kind == "drift":
            _drift_within_bounds(done, derived_numbers, stated, f"{kind} run {run['id']}")
            derived = DriftResult.from_dict(derived_numbers)  # the pages' numbers as the bounds allow them
            if any(c.ks_p_value is not None for c in derived.columns):
                done.not_recomputed.append(
                    f"KS p-values of drift run {run['id']} (functions of the recomputed statistics and row "
                    "counts, taken as stated: scipy's Kolmogorov distributions are not loaded offline)"
                )
        if kind == "validation" and any(c.get("summary") for c in entry["tables"].get("columns", [])):
            summarised.append(str(run["id"]))
        for key, what in _NOT_FROM_COUNTS.get(kind, {}).items():
            derived_numbers.pop(key, None)
            if stated.get(key):
                done.not_recomputed.append(f"{what} of {kind} run {run['id']}")
        _compare(done, f"{kind} run {run['id']}", run.get("result"), derived_numbers)
        where = kind if log_id is None else f"{kind} of log {log_id}"
        heading = _heading(kind, run, payload)
        _compare_printed(done, printed_tables, printed(derived, log_id, heading), where)
        derived_results[run["id"]] = derived
    if summarised:
        done.not_recomputed.append(
            f"the number columns' range, mean, sd and quantiles of validation run(s) {', '.join(summarised)} "
            "(taken on the log's rows again at export and carried as such: compared, not derived)"
        )
    judged = _recompute_policies(done, runs, derived_results, printed_tables)
    # Runs the export did not count: an engine's profile of a source (with its reason), or a kind counted
    # only since (a report exported before): named, and left out.
    listed_out = tables.get("not_counted")
    uncounted = {
        e.get("run_id"): e.get("reason") or "exported before Signoff counted this kind"
        for e in (listed_out if isinstance(listed_out, list) else [])
        if isinstance(e, dict) and e.get("kind") in RECOMPUTED_KINDS
    }
    for run_id, run in sorted(runs.items(), key=lambda item: str(item[0])):
        if run_id in counted or run_id in judged:
            continue
        if run_id in uncounted:
            done.not_recomputed.append(f"{run.get('kind')} run {run_id} ({uncounted[run_id]})")
        elif run.get("kind") in RECOMPUTED_KINDS:
            done.differences.append(
                f"{run.get('kind')} run {run_id}: the report carries no count tables for it"
            )
        else:
            done.not_recomputed.append(f"{run.get('kind')} run {run_id}")
    return done


# ------------------------------------------------------------------------------ policy verdicts


def _recompute_policies(
    done: Recomputation,
    runs: Mapping[Any, Mapping[str, Any]],
    derived: Mapping[Any, Any],
    printed: PrintedTables,
) -> set[Any]:
    """Each policy verdict judged again on the observations of the recomputed results: the observed value,
    interval and n, the number judged, and pass or fail against the rule's threshold; the rows of the
    "Verdict per rule and scope" table as printed. Returns the policy runs so checked. A verdict on an
    analysis not recomputed (SHAP), and an insufficient-data or waived verdict's status (the policy's
    minimum group size and the signed waivers decide it), are taken as stated and named."""
    checked = set()
    for run_id, run in runs.items():
        result = run.get("result") if isinstance(run.get("result"), dict) else {}
        if run.get("kind") != "policy" or not isinstance(result.get("verdicts"), list):
            continue
        # per cited run's source (how a verdict's detail names it): its observations by metric and scope
        observed: list[tuple[str, dict[tuple[str, str], list[Observation]]]] = []
        inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
        for key in inputs:
            kind, _, cited = str(key).partition(":")
            cited_run = runs.get(int(cited)) if cited.isdigit() else None
            if cited_run is None or int(cited) not in derived:
                continue
            cited_inputs = cited_run.get("inputs") if isinstance(cited_run.get("inputs"), dict) else {}
            by_scope: dict[tuple[str, str], list[Observation]] = {}
            for observation in run_observations(kind, cited_inputs, derived[int(cited)]):
                by_scope.setdefault((observation.metric, observation.scope), []).append(observation)
            source = ", ".join(f"{role} {sha[:12]}" for role, sha in sorted(cited_inputs.items()))
            observed.append((source, by_scope))  # two runs may read one log: a source is not a key
        taken = 0
        seen: dict[str, int] = {}  # rows printed so far per (rule, scope): a rule on several logs repeats
        for verdict in result["verdicts"]:
            if not isinstance(verdict, dict):
                continue
            row = f"{verdict.get('rule_id')} {_short_metric(str(verdict.get('metric')))} | {verdict.get('scope')}"
            occurrence = seen[row] = seen.get(row, -1) + 1
            observation = _observation_of(verdict, observed)
            if observation is None:
                taken += verdict.get("value") is not None  # judged on a result not recomputed here
                continue
            where = f"policy run {run_id} / {verdict.get('rule_id')} / {verdict.get('scope')}"
            value, low, high = (
                _finite(observation.value),
                _finite(observation.ci_low),
                _finite(observation.ci_high),
            )
            again = {"value": value, "ci_low": low, "ci_high": high, "n": observation.n}
            again["detail"] = observation.detail
            status = verdict.get("status")
            if status in ("pass", "fail", "waived"):
                on = {"value": value, "ci_low": low, "ci_high": high}.get(str(verdict.get("on")))
                again["judged"] = on
                if on is not None and status != "waived":
                    holds = Operator(verdict["operator"]).holds(on, float(verdict["threshold"]))
                    again["status"] = "pass" if holds else "fail"
            elif status == "insufficient_data":
                taken += 1
            _compare(done, where, verdict, again)
            table = "Verdict per rule and scope"
            interval = (low, high) if low is not None and high is not None else (None,)
            _compare_printed(
                done,
                printed,
                [
                    Printed("judged", table, "Judged", row, (again.get("judged"),), occurrence=occurrence),
                    Printed("interval", table, "95% interval", row, interval, occurrence=occurrence),
                    Printed("n", table, "n", row, (observation.n,), occurrence=occurrence),
                ],
                where,
            )
        checked.add(run_id)
        if taken:
            done.not_recomputed.append(
                f"{taken} verdicts of policy run {run_id} (on results not recomputed here, or insufficient "
                "data by the policy's minimum group size: taken as stated)"
            )
    return checked


def _observation_of(
    verdict: Mapping[str, Any], observed: Sequence[tuple[str, Mapping[tuple[str, str], list[Observation]]]]
) -> Observation | None:
    """The recomputed observation a verdict judged: of the cited run its detail names (``... (log 1a2b)``),
    with its metric and scope; where one run observes both several times, the one with its detail."""
    detail = str(verdict.get("detail", ""))
    found: list[Observation] = []
    for source, by_scope in observed:
        if detail == source or detail.endswith(f"({source})"):
            found += by_scope.get((str(verdict.get("metric")), str(verdict.get("scope"))), [])
    same = [o for o in found if o.detail == detail]
    return (same or found or [None])[0]


def _finite(value: Any) -> float | None:
    return float(value) if _is_number(value) and math.isfinite(float(value)) else None


def _short_metric(metric: str) -> str:
    """``fairness.impact_ratio`` -> ``impact_ratio``, as the verdict table's first column prints it."""
    return metric.split(".", 1)[1] if "." in metric else metric


# ------------------------------------------------------------------------------ full precision


def _compare(done: Recomputation, where: str, stated: Any, derived: Any) -> None:
    """Walk the derived result; every number (and every word beside it) must be the report's."""
    if stated == derived:  # most of a result, compared in one deep equality: only counted
        done.checked += _numbers_in(derived)
        return
    if isinstance(derived, dict):
        if not isinstance(stated, dict):
            done.differ(where, stated, "a record")
            return
        for key, value in derived.items():
            if key not in _NOT_COMPARED:
                _compare(done, f"{where} / {key}", stated.get(key), value)
        return
    if isinstance(derived, list):
        if not isinstance(stated, list) or len(stated) != len(derived):
            done.differ(
                f"{where} (entries)", len(stated) if isinstance(stated, list) else stated, len(derived)
            )
            return
        bounds = len(derived) == 2 and all(v is None or _is_number(v) for v in derived)  # an interval
        for index, (a, b) in enumerate(zip(stated, derived, strict=True)):
            _compare(done, f"{where} / {('low', 'high')[index] if bounds else _item_name(b, index)}", a, b)
        return
    if _is_number(derived) or _is_number(stated):
        done.checked += 1
        if not (_is_number(derived) and _is_number(stated) and _close(float(stated), float(derived))):
            done.differ(where, stated, derived)
    elif stated != derived:
        done.differ(where, stated, derived)


def _numbers_in(value: Any) -> int:
    """How many numbers a result holds (one pass with a stack: results hold tens of thousands)."""
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(v for k, v in item.items() if k not in _NOT_COMPARED)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            count += 1
    return count


def _item_name(item: Any, index: int) -> str:
    """A list entry by its name (a segment, metric or column; a comparison with its group) or its group, else its position."""
    if not isinstance(item, dict):
        return str(index)
    name = item.get("name", item.get("metric", item.get("column")))  # a segment, metric or drift column
    group = item.get("group")
    if isinstance(name, str):
        return f"{name} ({group})" if isinstance(group, str) else name
    return group if isinstance(group, str) else str(index)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


# ------------------------------------------------------------------------------ printed numbers


@dataclass(frozen=True)
class Printed:
    """Numbers a table cell should print: found by table caption, column header and row label."""

    what: str  # "race / Black / selection rate"
    caption: str  # the start of the table's caption
    column: str
    row: str
    values: tuple[float | None, ...]  # None: the cell prints no number there
    heading: str | None = None  # the sub-heading the table is under, where captions repeat (comparisons)
    occurrence: int = 0  # which of the rows with this label, where labels repeat (a rule on several logs)


class PrintedTables:
    """The report's tables, indexed once. ``cell`` is the text printed in the table whose caption starts
    with ``caption``, in the column headed ``column``, on the row whose first cell is ``row`` (spaces
    normalised), under the sub-heading ``heading`` when given, or None when not printed: the one place that
    knows how the pages lay numbers out."""

    def __init__(self, sections: Sequence[Mapping[str, Any]]) -> None:
        self._tables: list[tuple[str, dict[str, int], dict[str, list[list[Any]]], str]] = []
        for section in sections:
            heading = ""
            for block in section.get("blocks", []):
                if isinstance(block, dict) and block.get("kind") == "heading":
                    heading = str(block.get("text", ""))
                if not isinstance(block, dict) or block.get("kind") != "table":
                    continue
                columns: dict[str, int] = {}
                for index, column in enumerate(block.get("columns", [])):
                    columns.setdefault(str(column), index)
                rows: dict[str, list[list[Any]]] = {}
                for cells in block.get("rows", []):
                    if isinstance(cells, list) and cells:
                        rows.setdefault(_words(str(cells[0])), []).append(cells)
                        if len(cells) > 1:  # where the first cell repeats (a rule per scope): both cells
                            rows.setdefault(f"{_words(str(cells[0]))} | {_words(str(cells[1]))}", []).append(
                                cells
                            )
                self._tables.append((str(block.get("caption", "")), columns, rows, heading))
        self._by_caption: dict[str, list[tuple[str, dict[str, int], dict[str, list[list[Any]]], str]]] = {}

    def cell(
        self, caption: str, column: str, row: str, heading: str | None = None, occurrence: int = 0
    ) -> str | None:
        if caption not in self._by_caption:
            self._by_caption[caption] = [t for t in self._tables if t[0].startswith(caption)]
        key = _words(row)
        for _, columns, rows, under in self._by_caption[caption]:
            if heading is not None and under != heading:
                continue
            at, found = columns.get(column), rows.get(key, [])
            cells = found[occurrence] if occurrence < len(found) else None
            if at is not None and cells is not None and at < len(cells):
                return str(cells[at])
        return None


def _words(text: str) -> str:
    return " ".join(text.split())


def fairness_printed(
    result: FairnessResult, log_id: int | None, _heading: str | None = None
) -> list[Printed]:
    """What the fairness pages print of ``result``: per-group counts, rates, intervals, impact ratios and
    p-values, and each segment's comparisons."""
    source = f"log {log_id}" if log_id is not None else "the analysed log"
    out: list[Printed] = []
    comparisons = f"Comparisons between the groups of each segment ({source})"
    for segment in result.segments:
        shown = segment.name.replace("&", " × ")
        table = f"Counts and selection rates by {shown} ({source})"
        ratios = {r.group: r for r in segment.impact_ratios}
        for group in segment.groups:
            row = group.group.replace("&", " & ")
            what = f"{segment.name} / {group.group}"
            rate = group.metrics.get("selection_rate")
            wilson = group.wilson.get("selection_rate", (None, None))
            out += [
                Printed(f"{what} / n", table, "n", row, (group.count,)),
                Printed(f"{what} / selection rate", table, "Selection rate", row, (rate,)),
                Printed(f"{what} / selection rate Wilson interval", table, "Wilson 95%", row, tuple(wilson)),
            ]
            ratio = ratios.get(group.group)
            if ratio is not None and not ratio.excluded:
                out.append(
                    Printed(f"{what} / impact ratio", table, "Impact ratio", row, (ratio.impact_ratio,))
                )
                out.append(
                    Printed(f"{what} / impact ratio interval", table, "95% interval", row, tuple(ratio.ci))
                )
            significance = group.significance
            if significance is not None and group.group != segment.reference:
                out.append(
                    Printed(f"{what} / p vs reference", table, "p vs ref.", row, (significance.p_value,))
                )
        for comparison in segment.comparisons:
            if comparison.group is None and comparison.name in _PRINTED_COMPARISONS:
                out.append(
                    Printed(
                        f"{segment.name} / {comparison.name.replace('_', ' ')}",
                        comparisons,
                        _PRINTED_COMPARISONS[comparison.name],
                        shown,
                        (comparison.value, *comparison.ci),
                    )
                )
    return out


# The comparisons' columns in the fairness summary table (reporting/audit_report.SEGMENT_COMPARISONS).
_PRINTED_COMPARISONS = {
    "demographic_parity_difference": "DP diff.",
    "demographic_parity_ratio": "DP ratio",
    "equalized_odds_difference": "EO diff.",
    "equalized_odds_ratio": "EO ratio",
    "statistical_parity_difference": "SPD (AIF360)",
    "disparate_impact": "DI (AIF360)",
}


def _compare_printed(done: Recomputation, tables: PrintedTables, expected: list[Printed], where: str) -> None:
    for item in expected:
        text = tables.cell(item.caption, item.column, item.row, item.heading, item.occurrence)
        if text is None:
            continue  # not printed in this layout: the full-precision comparison covers it
        done.printed += max(len([v for v in item.values if v is not None]), 1)
        printed = _printed_numbers(text)
        wanted = [v for v in item.values if v is not None]
        done.checked += max(len(wanted), 1)
        if len(printed) != len(wanted) or not all(
            (value < number)
            if bound
            else abs(value - number) <= 0.5 * 10.0**-decimals + 1e-9 * max(1.0, abs(value))
            for (number, decimals, bound), value in zip(printed, wanted, strict=False)
        ):
            derived = ", ".join(
                _at(value, printed[i][1] if i < len(printed) else 3) for i, value in enumerate(wanted)
            )
            done.differ(f"{where} / {item.what}", " ".join(text.split()), derived or "no number")


def _printed_numbers(text: str) -> list[tuple[float, int, bool]]:
    """Each number in a printed cell with its count of decimals and whether it is printed as an upper
    bound ("1,234" -> (1234.0, 0, False); "p < 0.001" -> (0.001, 3, True))."""
    out = []
    for bound, found in _NUMBER.findall(text):
        digits = found.replace(",", "")
        decimals = len(digits.partition(".")[2])
        out.append((float(digits), decimals, bool(bound)))
    return out


def _at(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}" if decimals else f"{value:,.0f}"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.12g}"
    if value is None:
        return "none"
    return str(value)


# Performance columns per group, as the performance section heads them (audit_report.GROUP_PERFORMANCE).
_PRINTED_PERFORMANCE = {
    "accuracy": "Accuracy",
    "tpr": "TPR",
    "fpr": "FPR",
    "ppv": "Precision",
    "roc_auc": "ROC AUC",
    "brier": "Brier",
    "mae": "MAE",
    "rmse": "RMSE",
    "mean_residual": "Mean residual",
}


def _metric_values(group: GroupMetrics, name: str) -> tuple[float | None, ...]:
    """A metric's value and the interval printed beside it (bootstrap, else Wilson, else none)."""
    value = group.metrics.get(name)
    ci = group.bootstrap.get(name) or group.wilson.get(name) or (None, None)
    return (value, *ci) if value is not None and ci[0] is not None else (value,)


def performance_printed(
    result: PerformanceResult, log_id: int | None, _heading: str | None = None
) -> list[Printed]:
    """What the performance pages print of ``result``: each overall metric, and per group of each
    attribute its count and the chosen metrics."""
    source = f"log {log_id}" if log_id is not None else "log"
    column = f"{source} ({result.task}, n {result.n_rows:,})"
    out = [
        Printed(
            f"overall / {name}", "Overall performance", column, name, _metric_values(result.overall, name)
        )
        for name in result.overall.metrics
    ]
    for segment in result.segments:
        table = f"Performance by {segment.name} ({source})"
        for group in segment.groups:
            row = group.group + (" (insufficient)" if group.insufficient else "")
            out.append(Printed(f"{segment.name} / {group.group} / n", table, "n", row, (group.count,)))
            for name, header in _PRINTED_PERFORMANCE.items():
                if name in group.metrics:
                    what = f"{segment.name} / {group.group} / {name}"
                    out.append(Printed(what, table, header, row, _metric_values(group, name)))
    return out


def _heading(kind: str, run: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """The sub-heading a run's tables are printed under, where several runs print tables of one caption:
    a comparison's title (``services/report.py``: "credit v1 (champion) vs v2 (challenger)")."""
    if kind != "compare":
        return None
    model = payload.get("model_version") if isinstance(payload.get("model_version"), dict) else {}
    parameters = run.get("parameters") if isinstance(run.get("parameters"), dict) else {}
    champion = parameters.get("champion") if isinstance(parameters.get("champion"), dict) else {}
    return (
        f"{model.get('name')} v{champion.get('version')} (champion) vs v{model.get('version')} (challenger)"
    )


def _change(metric: Any) -> tuple[float | None, ...]:
    """A difference and its interval, as printed beside each other ("+0.010 (-0.020 to +0.030)")."""
    if metric.difference is None:
        return (None,)
    return (metric.difference, *metric.ci) if metric.ci[0] is not None else (metric.difference,)


def _tested(p_value: float | None) -> tuple[float | None, ...]:
    return (p_value,)


def comparison_printed(result: ComparisonResult, _log_id: int | None, heading: str | None) -> list[Printed]:
    """What the comparison section prints of ``result`` (``reporting/comparison_section.py``): the overall
    metrics with their intervals and p values, per group the rows, the selection rate and accuracy
    changes, the decision changes and the Holm p value, and each segment's fairness gaps."""
    level = f"{result.confidence_level:.0%} interval"
    out = []
    for m in result.overall.metrics:
        what = f"overall / {m.metric}"
        ci = m.ci if m.difference is not None and m.ci[0] is not None else (None, None)
        out += [
            Printed(f"{what} / champion", "Overall", "Champion", m.metric, (m.champion,), heading),
            Printed(f"{what} / challenger", "Overall", "Challenger", m.metric, (m.challenger,), heading),
            Printed(f"{what} / difference", "Overall", "Difference", m.metric, (m.difference,), heading),
            Printed(f"{what} / interval", "Overall", level, m.metric, ci, heading),
            Printed(f"{what} / p", "Overall", "p", m.metric, _tested(m.p_value), heading),
            Printed(f"{what} / p (Holm)", "Overall", "p (Holm)", m.metric, _tested(m.p_holm), heading),
        ]
    for segment in result.segments:
        table = f"By {segment.name}"
        for g in segment.groups:
            if not (g.champion_count or g.challenger_count):
                continue
            what = f"{segment.name} / {g.group}"
            out += _group_printed(g, what, table, heading)
        gaps = f"Fairness gaps by {segment.name}"
        for gap in segment.gaps:
            what = f"{segment.name} / {gap.name}"
            ci = gap.ci if gap.difference is not None and gap.ci[0] is not None else (None, None)
            out += [
                Printed(f"{what} / champion", gaps, "Champion", gap.name, (gap.champion,), heading),
                Printed(f"{what} / challenger", gaps, "Challenger", gap.name, (gap.challenger,), heading),
                Printed(f"{what} / change", gaps, "Change", gap.name, (gap.difference,), heading),
                Printed(f"{what} / interval", gaps, level, gap.name, ci, heading),
            ]
    return out


def _group_printed(g: GroupComparison, what: str, table: str, heading: str | None) -> list[Printed]:
    sr, accuracy = g.metric("selection_rate"), g.metric("accuracy")
    out = [
        Printed(
            f"{what} / rows", table, "Rows", g.group, (min(g.champion_count, g.challenger_count),), heading
        ),
        Printed(
            f"{what} / selection rate change", table, "Selection rate change", g.group, _change(sr), heading
        ),
        Printed(f"{what} / accuracy change", table, "Accuracy change", g.group, _change(accuracy), heading),
    ]
    if g.changes is not None:  # printed "+approved / -declined"
        changes = (float(g.changes.newly_approved), -float(g.changes.newly_declined))
        out.append(
            Printed(
                f"{what} / decision changes", table, "Newly approved / declined", g.group, changes, heading
            )
        )
    if not g.insufficient:
        out.append(
            Printed(f"{what} / p (Holm)", table, "p (Holm), selection rate", g.group, (sr.p_holm,), heading)
        )
    return out


def validation_printed(result: ValidationAnalysis, log_id: int | None, _heading: str | None) -> list[Printed]:
    """What the Data section prints of a validation: the log's rows read, kept and quarantined, and per
    column its missing rows and share and its distinct values. The summaries (a number column's range,
    mean, sd and quantiles, computed on the rows; categories' shares, among words that may hold digits)
    are compared at full precision only."""
    if log_id is None:
        return []
    report = result.report
    logs = "Prediction logs"
    row = str(log_id)
    out = [
        Printed("rows read", logs, "Rows read", row, (report.rows_read,)),
        Printed("rows kept", logs, "Rows kept", row, (report.rows_kept,)),
        Printed("rows quarantined", logs, "Quarantined", row, (report.rows_quarantined,)),
    ]
    table = f"Column profile of log {log_id} ("
    for column in result.profile.columns:
        share = column.missing_share * 100  # printed as a percentage
        out.append(
            Printed(f"{column.name} / missing", table, "Missing", column.name, (column.missing, share))
        )
        out.append(Printed(f"{column.name} / distinct", table, "Distinct", column.name, (column.distinct,)))
    return out


def _drift_within_bounds(
    done: Recomputation, derived: dict[str, Any], stated: Mapping[str, Any], where: str
) -> None:
    """A column the count tables carry as a histogram (too many distinct values) gives its KS and
    Wasserstein statistics only within stated bounds: check the report's lie within them, then take the
    report's (and the verdict they give) so the exact comparison covers the rest."""
    stated_columns = (
        {c.get("column"): c for c in stated.get("columns", []) if isinstance(c, dict)}
        if isinstance(stated.get("columns"), list)
        else {}
    )
    thresholds = DriftThresholds.from_dict(derived["thresholds"])
    for column in derived["columns"]:
        bounds = column.pop("error_bounds", None)
        told = stated_columns.get(column["column"])
        if bounds is None or told is None or told.get("error_bounds") is not None:
            if bounds is not None:
                column["error_bounds"] = bounds
            continue
        column["notes"] = [n for n in column["notes"] if not n.startswith("read in histogram bins")]
        for key in ("ks_statistic", "wasserstein", "wasserstein_normalised"):
            bound, value, said = bounds.get(key), column.get(key), told.get(key)
            if value is None or said is None or bound is None:
                continue
            done.checked += 1
            if _is_number(said) and abs(float(said) - value) <= bound + TOLERANCE * max(1.0, abs(value)):
                column[key] = said
            else:
                done.differ(
                    f"{where} / {column['column']} / {key} (within {bound:.3g} of the counts' histogram)",
                    said,
                    value,
                )
        done.bounded.append(
            f"KS and Wasserstein of {column['column']} checked within bounds from a histogram of width "
            f"{bounds['resolution']:.3g}"
        )
        w_norm, p_value = column.get("wasserstein_normalised"), column.get("ks_p_value")
        effect = (w_norm >= thresholds.wasserstein) if w_norm is not None else bool(column.get("wasserstein"))
        column["verdict"] = drift_verdict(column.get("psi"), p_value, effect, thresholds).value


def drift_printed(result: DriftResult, _log_id: int | None, _heading: str | None) -> list[Printed]:
    """What the drift page prints of ``result``: per column its PSI, Jensen-Shannon, KS and chi-square
    statistics with their p-values, the normalised Wasserstein and the missing rows of both logs."""
    table = "Drift per column"
    out = []
    for c in result.columns:
        what, row = c.column, c.column
        out += [
            Printed(f"{what} / PSI", table, "PSI", row, (c.psi,)),
            Printed(f"{what} / Jensen-Shannon", table, "JS", row, (c.jensen_shannon,)),
            Printed(
                f"{what} / missing", table, "Missing ref / cur", row, (c.reference_missing, c.current_missing)
            ),
        ]
        if c.ks_statistic is not None:
            out.append(Printed(f"{what} / KS (p)", table, "KS (p)", row, (c.ks_statistic, c.ks_p_value)))
        if c.wasserstein_normalised is not None:
            out.append(
                Printed(
                    f"{what} / Wasserstein normalised",
                    table,
                    "Wasserstein norm.",
                    row,
                    (c.wasserstein_normalised,),
                )
            )
        if c.chi2_statistic is not None:
            out.append(
                Printed(
                    f"{what} / chi-square (p)", table, "Chi² (p)", row, (c.chi2_statistic, c.chi2_p_value)
                )
            )
    return out


def _drift(tables: Mapping[str, Any], stated: Mapping[str, Any]) -> DriftResult:
    """Drift from its counts, each column's KS p-value taken from the report (see ``drift_from_counts``)."""
    columns = stated.get("columns") if isinstance(stated.get("columns"), list) else []
    given = {c.get("column"): c.get("ks_p_value") for c in columns if isinstance(c, dict)}
    return drift_from_counts(DriftCounts.from_dict(tables), ks_p_values=given)


# kind -> (the result from its tables as report's count-tables.json carries them, what the pages print of it)
RECOMPUTED_KINDS: dict[
    str,
    tuple[
        Callable[[Mapping[str, Any], Mapping[str, Any]], Any],
        Callable[[Any, int | None, str | None], list[Printed]],
    ],
] = {
    "fairness": (lambda tables, _: fairness_from_counts(FairnessCounts.from_dict(tables)), fairness_printed),
    "performance": (
        lambda tables, _: performance_from_counts(PerformanceCounts.from_dict(tables)),
        performance_printed,
    ),
    # the pages print monitoring as observations of its result: compared at full precision
    "monitoring": (
        lambda tables, _: monitoring_from_counts(MonitoringCounts.from_dict(tables)),
        lambda *_: [],
    ),
    "drift": (_drift, drift_printed),
    "validation": (
        lambda tables, _: validation_from_counts(ValidationCounts.from_dict(tables)),
        validation_printed,
    ),
    "compare": (
        lambda tables, _: comparison_from_counts(ComparisonCounts.from_dict(tables)),
        comparison_printed,
    ),
}
