"""What moved an indicator: its change between two months split into what each segment added.

Pure arithmetic over the monthly facts (:func:`indicators.facts.facts_table`, per channel
:func:`indicators.channels.channel_facts`) and the stored complaints; no UI.  A *segment* is a
department (the change of *All*), a channel (the change of *All* or of one department; an empty
channel is the segment ``not given``) or, for the complaint indicators, a service component
(the change of *All* or of one department).

**By channel** the indicators computed per channel only
(:data:`indicators.channels.CHANNEL_INDICATORS`: not the retention rate, whose dataset has no
channel).  A ratio whose numerator falls in a channel where its denominator is 0 (complaints in
``email``, where nothing is bought) cannot be split by channel: refused, naming the channel,
as the parts would not add up to the change.

**Sums** (purchases, revenue, complaints, compensation, estimated dissatisfied customers): the
value is ``V = Σ_s v_s``, so segment ``s`` contributes ``v_s(after) − v_s(before)``.

**Ratios** ``R = k × N ÷ D`` (CSAT, complaint rate, promise kept …, :data:`RATIOS`): with each
segment's weight ``w_s = d_s ÷ D`` and own rate ``r_s = k × n_s ÷ d_s``, ``R = Σ_s w_s × r_s``, and
the change of segment ``s``'s term splits exactly into

* a **mix effect** ``(w_s′ − w_s) × (r_s + r_s′) ÷ 2`` — its weight changed, and
* a **rate effect** ``(r_s′ − r_s) × (w_s + w_s′) ÷ 2`` — its own rate changed

(′: the later month; the midpoint split, so neither month is favoured).  A segment absent in one
month (``d_s = 0``) takes its other month's rate there: its whole term is mix.  The
contributions (mix + rate) add up to ``R′ − R`` exactly, up to floating-point rounding.  When only
the numerator is split (complaint rate by component: the purchases have no component) the
contribution is ``k × (n_s′ ÷ D′ − n_s ÷ D)`` and there is no mix.

Not decomposed, with the reason said: medians and percentiles (a median is no sum of parts),
distinct customers by department (a customer who buys in two departments is one customer of
All), and the revenue growth rates.

Examples
--------
>>> before = {"North": (45.0, 50.0), "South": (40.0, 50.0)}  # (satisfied, answers)
>>> after = {"North": (72.0, 80.0), "South": (8.0, 20.0)}
>>> parts = ratio_parts(before, after, scale=100.0)
>>> [(p.segment, round(p.mix_effect, 2), round(p.rate_effect, 2)) for p in parts]
[('North', 27.0, 0.0), ('South', -18.0, -14.0)]
>>> round(sum(p.contribution for p in parts), 10), (72 + 8) / 100 * 100 - (45 + 40) / 100 * 100
(-5.0, -5.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from indicators import catalog, months, store, stored_indicators
from indicators.catalog import ALL_DEPARTMENTS, SERVICE_COMPONENTS, UNCLASSIFIED
from indicators.channels import CHANNEL_INDICATORS, NOT_PER_CHANNEL, channel_facts
from indicators.facts import facts_table

BY = ("department", "component", "channel")
"""What a change can be split by."""
AGAINST = ("previous", "year", "target")
"""What the month is compared with: the previous month, the same month a year earlier, or the
planned value of the indicator's target in that month (its route)."""
OTHERS = "other departments"
"""The one segment that stands for every department a reader may not see (:func:`merge_others`)."""


@dataclass(frozen=True)
class Ratio:
    """``scale × numerator ÷ denominator``, each a sum of facts columns (a ``-`` prefix
    subtracts)."""

    numerator: tuple[str, ...]
    denominator: str
    scale: float = 100.0


SUMS: dict[str, tuple[str, ...]] = {
    "purchases": ("purchases",),
    "revenue": ("revenue",),
    "complaints": ("complaints",),
    "complaint_backlog": ("backlog",),
}
"""Indicators that are a sum of facts over their segments."""
RATIOS: dict[str, Ratio] = {
    "complaint_rate": Ratio(("complaints",), "purchases"),
    "repeat_complaint_rate": Ratio(("repeat_complaints",), "complaints_with_customer"),
    "unresolved_complaints_rate": Ratio(("unresolved_complaints",), "complaints"),
    "csat": Ratio(("csat_satisfied",), "csat_answers"),
    "nps": Ratio(("nps_promoters", "-nps_detractors"), "nps_answers"),
    "promise_kept_rate": Ratio(("promise_kept",), "requests"),
    "retention_rate": Ratio(("retention_end", "-retention_new"), "retention_start"),
    "average_ticket": Ratio(("revenue",), "purchases", 1.0),
    "discount_rate": Ratio(("list_amount", "-list_paid"), "list_amount"),
    "compensation_per_complaint": Ratio(("compensation",), "complaints", 1.0),
    "compensation_share": Ratio(("compensation",), "revenue"),
    "contacts_per_100_purchases": Ratio(("requests", "complaints"), "purchases"),
    "first_contact_resolution": Ratio(("fcr_resolved",), "fcr_judged"),
    "ces": Ratio(("ces_easy",), "ces_answers"),
    "ces_mean": Ratio(("ces_score_sum",), "ces_answers", 1.0),
    "complaints_resolved_within_promise": Ratio(("complaints_within_promise",), "complaints"),
    "complaints_closed_3_business_days": Ratio(("complaints_closed_3_business_days",),
                                               "complaints"),
    "complaints_closed_8_weeks": Ratio(("complaints_closed_8_weeks",), "complaints"),
    "complaints_closed_later": Ratio(("complaints_closed_later",), "complaints"),
    "backlog_over_8_weeks": Ratio(("backlog_over_8_weeks",), "backlog"),
}
"""Indicators that are a ratio of sums (``compute.FORMULAS``' definitions, as sums)."""
SCALED_SUMS = {"estimated_dissatisfied"}
"""Complaints × the organisation's iceberg factor: a sum."""
COMPONENT_INDICATORS = ("complaints", "complaint_rate", "estimated_dissatisfied")
"""The indicators whose rows carry a component: counts of complaints, and per 100 purchases."""
WHY_NOT = {
    "response_time_median": "a median is not a sum of its parts",
    "response_time_p90": "a percentile is not a sum of its parts",
    "resolution_time_median": "a median is not a sum of its parts",
    "backlog_age_median": "a median is not a sum of its parts",
    "active_customers": "a customer who buys in two departments is one customer of All",
    "new_customers": "a customer who buys in two departments is one customer of All",
    "returning_customers_rate": "a customer who buys in two departments is one customer of All",
    "revenue_per_customer": "a customer who buys in two departments is one customer of All",
    "revenue_at_risk": "it needs revenue per customer, and a customer who buys in two "
    "departments is one customer of All",
    "revenue_growth_mom": "a growth rate compares two months of each part",
    "revenue_growth_yoy": "a growth rate compares two months of each part",
}


WHY_NOT_BY_CHANNEL = {
    "active_customers": "a customer who buys in two channels is one customer of the whole",
    "revenue_per_customer": "a customer who buys in two channels is one customer of the whole",
    "revenue_at_risk": "it needs revenue per customer, and a customer who buys in two channels "
    "is one customer of the whole",
}
"""The reasons that differ when the split is by channel."""


class ExplainError(ValueError):
    """A change that can't be split as asked (the message says why)."""


@dataclass(frozen=True)
class Part:
    """One segment's share of the change; ``mix_effect``/``rate_effect`` NaN for a sum."""

    segment: str
    before: float
    after: float
    contribution: float
    mix_effect: float = math.nan
    rate_effect: float = math.nan


@dataclass(frozen=True)
class Explanation:
    indicator: str
    department: str
    by: str
    month: str
    compared_with: str
    value_before: float
    value_after: float
    parts: tuple[Part, ...]

    @property
    def total_change(self) -> float:
        return self.value_after - self.value_before


# --- the arithmetic (pure) ---------------------------------------------------------------


def sum_parts(before: Mapping[str, float], after: Mapping[str, float]) -> list[Part]:
    """Each segment's change of a sum, segments sorted by name.

    >>> [(p.segment, p.contribution) for p in sum_parts({"A": 3, "B": 5}, {"A": 4, "C": 2})]
    [('A', 1.0), ('B', -5.0), ('C', 2.0)]
    """
    parts = []
    for segment in sorted(set(before) | set(after)):
        b, a = float(before.get(segment, 0.0)), float(after.get(segment, 0.0))
        parts.append(Part(segment, b, a, a - b))
    return parts


def ratio_parts(
    before: Mapping[str, tuple[float, float]], after: Mapping[str, tuple[float, float]],
    *, scale: float,
) -> list[Part]:
    """Each segment's mix and rate effects on ``scale × Σn ÷ Σd`` (module docstring); the
    segments' ``(n, d)`` in each month.  :class:`ExplainError` when a month's Σd is 0."""
    total_before = sum(d for _, d in before.values())
    total_after = sum(d for _, d in after.values())
    if total_before == 0 or total_after == 0:
        raise ExplainError("the indicator has no value in one of the two months (nothing to "
                           "divide by)")
    parts = []
    for segment in sorted(set(before) | set(after)):
        n0, d0 = before.get(segment, (0.0, 0.0))
        n1, d1 = after.get(segment, (0.0, 0.0))
        if d0 == 0 and d1 == 0:
            continue
        w0, w1 = d0 / total_before, d1 / total_after
        r0 = scale * n0 / d0 if d0 else scale * n1 / d1
        r1 = scale * n1 / d1 if d1 else r0
        mix = (w1 - w0) * (r0 + r1) / 2
        rate = (r1 - r0) * (w0 + w1) / 2
        parts.append(Part(segment, r0 if d0 else math.nan, r1 if d1 else math.nan, mix + rate,
                          mix, rate))
    return parts


def numerator_parts(
    before: Mapping[str, float], after: Mapping[str, float], denominator: tuple[float, float],
    *, scale: float,
) -> list[Part]:
    """Each segment's change of ``scale × n_s ÷ D`` when only the numerator is split."""
    d0, d1 = denominator
    if d0 == 0 or d1 == 0:
        raise ExplainError("the indicator has no value in one of the two months (nothing to "
                           "divide by)")
    return [Part(p.segment, scale * p.before / d0, scale * p.after / d1,
                 scale * (p.after / d1 - p.before / d0))
            for p in sum_parts(before, after)]


def gap_sum_parts(
    baseline: Mapping[str, float], after: Mapping[str, float], planned: float,
    *, scale: float = 1.0, denominator: float = 1.0,
) -> list[Part]:
    """Each segment's share of the gap between ``scale × Σ after ÷ denominator`` and the planned
    value: the plan is shared out as the segments shared the baseline month
    (``plan_s = planned × b_s ÷ Σb``), and segment ``s`` contributes ``scale × a_s ÷ denominator −
    plan_s``.  :class:`ExplainError` when the baseline month has nothing to share by.

    >>> [(p.segment, p.before, p.contribution) for p in gap_sum_parts({"A": 3, "B": 1},
    ...                                                               {"A": 5, "B": 1}, 8)]
    [('A', 6.0, -1.0), ('B', 2.0, -1.0)]
    """
    whole = sum(float(v) for v in baseline.values())
    if whole == 0:
        raise ExplainError("the target's baseline month has nothing to share the plan by")
    parts = []
    for segment in sorted(set(baseline) | set(after)):
        plan = planned * float(baseline.get(segment, 0.0)) / whole
        actual = scale * float(after.get(segment, 0.0)) / denominator
        parts.append(Part(segment, plan, actual, actual - plan))
    return parts


def gap_ratio_parts(
    after: Mapping[str, tuple[float, float]], planned: float, *, scale: float,
) -> list[Part]:
    """Each segment's share of the gap between ``R′ = scale × Σn ÷ Σd`` and the planned rate
    ``P``: its weight times how far its own rate is from the plan, ``w_s′ × (r_s′ − P)``
    (``Σ w_s′ = 1``, so the parts add up to ``R′ − P``).  The plan has no mix of its own: the
    whole gap is rate (``rate_effect``), the mix effect 0.

    >>> [(p.segment, p.contribution) for p in gap_ratio_parts({"A": (9, 10), "B": (5, 10)}, 80,
    ...                                                        scale=100)]
    [('A', 5.0), ('B', -15.0)]
    """
    total = sum(d for _, d in after.values())
    if total == 0:
        raise ExplainError("the indicator has no value in the month (nothing to divide by)")
    parts = []
    for segment in sorted(after):
        n, d = after[segment]
        if d == 0:
            continue
        rate = scale * n / d
        gap = d / total * (rate - planned)
        parts.append(Part(segment, planned, rate, gap, 0.0, gap))
    return parts


def merge_others(parts: list[Part], allowed: frozenset[str] | None) -> list[Part]:
    """The parts of departments outside ``allowed`` as one segment, :data:`OTHERS` (its before
    and after missing, its effects summed), so a team lead sees their departments' parts and
    only the rest's total; ``None`` = every department may be seen.

    >>> [(p.segment, p.contribution) for p in merge_others(
    ...     [Part("A", 1, 2, 1.0), Part("B", 1, 3, 2.0), Part("C", 1, 0, -1.0)], frozenset("A"))]
    [('A', 1.0), ('other departments', 1.0)]
    """
    if allowed is None:
        return parts
    mine = [p for p in parts if p.segment in allowed]
    rest = [p for p in parts if p.segment not in allowed]
    if not rest:
        return mine
    return [*mine, Part(OTHERS, math.nan, math.nan, sum(p.contribution for p in rest),
                        sum(p.mix_effect for p in rest), sum(p.rate_effect for p in rest))]


# --- reading the segments ------------------------------------------------------------------


def _column(facts: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    total = pd.Series(0.0, index=facts.index)
    for name in names:
        sign, column = (-1.0, name[1:]) if name.startswith("-") else (1.0, name)
        total = total + sign * facts[column].astype("float64")
    return total


def _facts(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    facts = facts_table(con, months=(month, month))
    return facts[facts["month"] == month].set_index("department")


def _component_counts(con: duckdb.DuckDBPyConnection, month: str, department: str
                      ) -> dict[str, float]:
    sql = ("SELECT coalesce(component, ?) AS component, count(*) FROM complaints "
           "WHERE month = CAST(? AS DATE)" + ("" if department == ALL_DEPARTMENTS else
                                               " AND department = ?") + " GROUP BY 1")
    params: list[object] = [UNCLASSIFIED, months.parse(month).isoformat()]
    if department != ALL_DEPARTMENTS:
        params.append(department)
    counts = {c: 0.0 for c in (*SERVICE_COMPONENTS, UNCLASSIFIED)}
    counts.update({str(c): float(n) for c, n in con.execute(sql, params).fetchall()})
    return counts


def _value(facts: pd.DataFrame, indicator: str, department: str, factor: float) -> float:
    row = facts.loc[[department]]
    if indicator in SUMS:
        return float(_column(row, SUMS[indicator]).iloc[0])
    if indicator in SCALED_SUMS:
        return float(row["complaints"].iloc[0]) * factor
    ratio = RATIOS[indicator]
    d = float(row[ratio.denominator].iloc[0])
    return math.nan if d == 0 else ratio.scale * float(_column(row, ratio.numerator).iloc[0]) / d


def planned_value(
    con: duckdb.DuckDBPyConnection, indicator: str, department: str, month: str
) -> tuple[float, str]:
    """``(planned value in month, baseline month)`` of the target for ``indicator`` in
    ``department`` (its route's shape: :mod:`indicators.route`); :class:`ExplainError` without a
    target, or for a month outside its route."""
    from indicators import route
    from indicators.scope import Scope

    targets = store.read_targets(con)
    stored_as = store.ANY_DEPARTMENT if department == ALL_DEPARTMENTS else department
    mine = targets[(targets["indicator"] == indicator) & (targets["department"] == stored_as)]
    if mine.empty:
        raise ExplainError(f"there is no target for {indicator} in {department}")
    table = stored_indicators.read(con, Scope(departments=(department,)), indicators=(indicator,))
    rows, summary = route.route_tables(mine, table, forecast=False)
    at = rows[rows["month"] == month]
    target = summary.iloc[0]
    if at.empty or pd.isna(at["planned"].iloc[0]):
        raise ExplainError(
            f"{month} is not on the route of the target for {indicator} in {department} "
            f"({target['baseline_month']} … {target['target_month']})")
    return float(at["planned"].iloc[0]), str(target["baseline_month"])


def explain(
    con: duckdb.DuckDBPyConnection, *, indicator: str, month: str,
    department: str = ALL_DEPARTMENTS, by: str = "department", against: str = "previous",
    allowed: frozenset[str] | None = None,
) -> Explanation:
    """The change of ``indicator`` in ``department`` from what ``month`` is compared with to
    ``month``, split ``by`` department (``department`` must be All), channel or component
    (module docstring); against a target, the gap to its planned value.  ``allowed``: the
    departments the reader may see one by one (the rest is one segment, :data:`OTHERS`); None =
    all."""
    try:
        catalog.get(indicator)
    except KeyError:
        raise ExplainError(f"unknown indicator {indicator!r}") from None
    if by not in BY:
        raise ExplainError(f"--by must be one of {', '.join(BY)}; got {by!r}")
    if against not in AGAINST:
        raise ExplainError(f"--against must be one of {', '.join(AGAINST)}; got {against!r}")
    refusal = why_not(indicator, by)
    if refusal:
        raise ExplainError(refusal)
    if by == "department" and department != ALL_DEPARTMENTS:
        raise ExplainError("a split by department explains All's change: leave out "
                           "--department, or split one department by component")
    month = months.label(months.parse(month))
    factor = float(store.read_settings(con).iceberg_factor)
    if against == "target":
        planned, earlier = planned_value(con, indicator, department, month)
    else:
        earlier = months.shift(month, -1 if against == "previous" else -12)
    before, after = _facts(con, earlier), _facts(con, month)
    for label, facts in ((earlier, before), (month, after)):
        if department not in facts.index:
            raise ExplainError(f"no data for {department} in {label}")
    value_after = _value(after, indicator, department, factor)
    value_before = planned if against == "target" else _value(before, indicator, department,
                                                              factor)
    if math.isnan(value_before) or math.isnan(value_after):
        raise ExplainError(f"{indicator} has no value in {department} in "
                           f"{earlier if math.isnan(value_before) else month}")
    if against == "target":
        parts = _gap_parts(con, indicator, department, by, (earlier, month), (before, after),
                           factor, planned)
    else:
        parts = _parts(con, indicator, department, by, (earlier, month), (before, after), factor)
    if by == "department":
        parts = merge_others(parts, allowed)
    found = sum(p.contribution for p in parts)
    if abs(found - (value_after - value_before)) > 1e-9 * max(1.0, abs(value_before),
                                                             abs(value_after)):
        raise ExplainError(  # the segments don't make up the whole: never printed as if they did
            f"the {by} parts of {indicator} add up to {found!r}, not to the change "
            f"{value_after - value_before!r}")
    compared_with = TARGET if against == "target" else earlier
    return Explanation(indicator, department, by, month, compared_with, value_before,
                       value_after, tuple(parts))


TARGET = "target"
"""``Explanation.compared_with`` against a target's planned value."""


def why_not(indicator: str, by: str = "department") -> str | None:
    """Why ``indicator``'s change can't be split ``by`` that, in words; None when it can."""
    if indicator in WHY_NOT or (indicator not in SUMS and indicator not in RATIOS
                                and indicator not in SCALED_SUMS):
        reason = (WHY_NOT_BY_CHANNEL.get(indicator) if by == "channel" else None) or WHY_NOT.get(
            indicator, "it is not a sum or a ratio of sums")
        return f"{indicator} can't be split into parts: {reason}"
    if by == "channel" and indicator not in CHANNEL_INDICATORS:
        return f"{indicator} is not computed per channel: {NOT_PER_CHANNEL[indicator]}"
    if by == "component" and indicator not in COMPONENT_INDICATORS:
        return f"only {', '.join(COMPONENT_INDICATORS)} carry a component"
    return None


def _gap_parts(
    con: duckdb.DuckDBPyConnection, indicator: str, department: str, by: str,
    labels: tuple[str, str], frames: tuple[pd.DataFrame, pd.DataFrame], factor: float,
    planned: float,
) -> list[Part]:
    """The gap to the planned value, segment by segment (:func:`gap_sum_parts`,
    :func:`gap_ratio_parts`); ``labels``/``frames``: the baseline month and the month."""
    base, after = frames
    if by == "component":
        shares, counts = (_component_counts(con, m, department) for m in labels)
        if indicator == "complaints":
            return gap_sum_parts(shares, counts, planned)
        if indicator == "estimated_dissatisfied":
            return gap_sum_parts(shares, counts, planned, scale=factor)
        purchases = float(after.loc[department, "purchases"])
        if purchases == 0:
            raise ExplainError("the indicator has no value in the month (nothing to divide by)")
        return gap_sum_parts(shares, counts, planned, scale=RATIOS[indicator].scale,
                             denominator=purchases)
    if by == "channel":
        frames = base, after = tuple(_channel_facts(con, m, department) for m in labels)
        names = [list(f.index) for f in frames]
        if indicator in RATIOS:
            _refuse_empty_denominators(indicator, labels[1:], (after,))
    else:
        names = [[d for d in f.index if d != ALL_DEPARTMENTS] for f in frames]
    if indicator in SUMS or indicator in SCALED_SUMS:
        return gap_sum_parts(*({d: _value(f, indicator, d, factor) for d in n}
                               for f, n in zip(frames, names, strict=True)), planned)
    return gap_ratio_parts(_pairs(after, names[1], RATIOS[indicator]), planned,
                           scale=RATIOS[indicator].scale)


def _pairs(facts: pd.DataFrame, names: list[str], ratio: Ratio) -> dict[str, tuple[float, float]]:
    """Each department's ``(numerator, denominator)`` of ``ratio``."""
    n = _column(facts, ratio.numerator)
    return {d: (float(n[d]), float(facts.loc[d, ratio.denominator])) for d in names}


def _parts(
    con: duckdb.DuckDBPyConnection, indicator: str, department: str, by: str,
    labels: tuple[str, str], frames: tuple[pd.DataFrame, pd.DataFrame], factor: float,
) -> list[Part]:
    before, after = frames
    if by == "channel":
        before, after = (_channel_facts(con, m, department) for m in labels)
        segments = [list(before.index), list(after.index)]
        if indicator in RATIOS:
            _refuse_empty_denominators(indicator, labels, (before, after))
    elif by == "component":
        counts = [_component_counts(con, m, department) for m in labels]
        if indicator == "complaints":
            return sum_parts(*counts)
        if indicator == "estimated_dissatisfied":
            return [Part(p.segment, p.before * factor, p.after * factor, p.contribution * factor)
                    for p in sum_parts(*counts)]
        purchases = tuple(float(f.loc[department, "purchases"]) for f in frames)
        return numerator_parts(*counts, purchases, scale=RATIOS[indicator].scale)
    else:
        segments = [[d for d in f.index if d != ALL_DEPARTMENTS] for f in frames]
    if indicator in SUMS or indicator in SCALED_SUMS:
        def sums(facts: pd.DataFrame, names: list[str]) -> dict[str, float]:
            return {d: _value(facts, indicator, d, factor) for d in names}
        parts = sum_parts(sums(before, segments[0]), sums(after, segments[1]))
    else:
        ratio = RATIOS[indicator]
        parts = ratio_parts(_pairs(before, segments[0], ratio),
                            _pairs(after, segments[1], ratio), scale=ratio.scale)
    return parts


def _channel_facts(con: duckdb.DuckDBPyConnection, month: str, department: str) -> pd.DataFrame:
    """``department``'s (or All's) facts of ``month`` per channel, indexed by channel."""
    frame = channel_facts(con, months=(month, month), departments=[department])
    frame = frame[(frame["month"] == month) & (frame["department"] == department)]
    return frame.set_index("channel")


def _refuse_empty_denominators(indicator: str, labels: tuple[str, str],
                               frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """:class:`ExplainError` when a channel holds some of the ratio's numerator but none of
    its denominator in one of the months: that part belongs to no channel's rate."""
    ratio = RATIOS[indicator]
    for label, facts in zip(labels, frames, strict=True):
        n, d = _column(facts, ratio.numerator), facts[ratio.denominator].astype("float64")
        stranded = [str(c) for c in facts.index if d[c] == 0 and n[c] != 0]
        if stranded:
            raise ExplainError(
                f"{indicator} can't be split by channel: in {label} the channel "
                f"{stranded[0]!r} has {ratio.numerator[0].lstrip('-')} but no "
                f"{ratio.denominator}, so its part is no channel's rate")
