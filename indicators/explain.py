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

from indicators import catalog, months, store
from indicators.catalog import ALL_DEPARTMENTS, SERVICE_COMPONENTS, UNCLASSIFIED
from indicators.channels import CHANNEL_INDICATORS, NOT_PER_CHANNEL, channel_facts
from indicators.facts import facts_table

BY = ("department", "component", "channel")
"""What a change can be split by."""
AGAINST = ("previous", "year")
"""The month compared with: the previous month, or the same month a year earlier."""


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
    "active_customers": "a customer who buys in two departments is one customer of All",
    "new_customers": "a customer who buys in two departments is one customer of All",
    "returning_customers_rate": "a customer who buys in two departments is one customer of All",
    "revenue_per_customer": "a customer who buys in two departments is one customer of All",
    "revenue_growth_mom": "a growth rate compares two months of each part",
    "revenue_growth_yoy": "a growth rate compares two months of each part",
}


WHY_NOT_BY_CHANNEL = {
    "active_customers": "a customer who buys in two channels is one customer of the whole",
    "revenue_per_customer": "a customer who buys in two channels is one customer of the whole",
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


def explain(
    con: duckdb.DuckDBPyConnection, *, indicator: str, month: str,
    department: str = ALL_DEPARTMENTS, by: str = "department", against: str = "previous",
) -> Explanation:
    """The change of ``indicator`` in ``department`` from the month compared with to ``month``,
    split ``by`` department (``department`` must be All), channel or component (module
    docstring)."""
    try:
        catalog.get(indicator)
    except KeyError:
        raise ExplainError(f"unknown indicator {indicator!r}") from None
    if by not in BY:
        raise ExplainError(f"--by must be one of {', '.join(BY)}; got {by!r}")
    if against not in AGAINST:
        raise ExplainError(f"--against must be one of {', '.join(AGAINST)}; got {against!r}")
    if indicator in WHY_NOT or (indicator not in SUMS and indicator not in RATIOS
                                and indicator not in SCALED_SUMS):
        reason = (WHY_NOT_BY_CHANNEL.get(indicator) if by == "channel" else None) or WHY_NOT.get(
            indicator, "it is not a sum or a ratio of sums")
        raise ExplainError(f"{indicator} can't be split into parts: {reason}")
    if by == "channel" and indicator not in CHANNEL_INDICATORS:
        raise ExplainError(f"{indicator} is not computed per channel: "
                           f"{NOT_PER_CHANNEL[indicator]}")
    if by == "department" and department != ALL_DEPARTMENTS:
        raise ExplainError("a split by department explains All's change: leave out "
                           "--department, or split one department by component")
    if by == "component" and indicator not in COMPONENT_INDICATORS:
        raise ExplainError(f"only {', '.join(COMPONENT_INDICATORS)} carry a component")
    month = months.label(months.parse(month))
    earlier = months.shift(month, -1 if against == "previous" else -12)
    before, after = _facts(con, earlier), _facts(con, month)
    for label, facts in ((earlier, before), (month, after)):
        if department not in facts.index:
            raise ExplainError(f"no data for {department} in {label}")
    factor = float(store.read_settings(con).iceberg_factor)
    value_before = _value(before, indicator, department, factor)
    value_after = _value(after, indicator, department, factor)
    if math.isnan(value_before) or math.isnan(value_after):
        raise ExplainError(f"{indicator} has no value in {department} in "
                           f"{earlier if math.isnan(value_before) else month}")
    parts = _parts(con, indicator, department, by, (earlier, month), (before, after), factor)
    found = sum(p.contribution for p in parts)
    if abs(found - (value_after - value_before)) > 1e-9 * max(1.0, abs(value_before),
                                                             abs(value_after)):
        raise ExplainError(  # the segments don't make up the whole: never printed as if they did
            f"the {by} parts of {indicator} add up to {found!r}, not to the change "
            f"{value_after - value_before!r}")
    return Explanation(indicator, department, by, month, earlier, value_before, value_after,
                       tuple(parts))


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

        def pairs(facts: pd.DataFrame, names: list[str]) -> dict[str, tuple[float, float]]:
            n = _column(facts, ratio.numerator)
            return {d: (float(n[d]), float(facts.loc[d, ratio.denominator])) for d in names}
        parts = ratio_parts(pairs(before, segments[0]), pairs(after, segments[1]),
                            scale=ratio.scale)
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
