"""The scorecard rows for one month and department (pure: DataFrames in, DataFrame out).

One row per catalog indicator, in catalog order: its value in the month, the value the month
before, both written for the unit, its last 12 months for a sparkline, and — where a target
for that indicator and department exists — the target and the route status of that month.
A missing value stays missing (NaN and ``—``), never 0.

Besides the rows, the reads a scorecard card and its top need, fixed here once:

* **Not loaded.**  An indicator whose source dataset has no rows in a month for the department
  (:func:`indicators.completeness.indicator_not_loaded`) is *not loaded* there: its value is
  missing, written ``— not loaded``, with no change and no trend point — a file that has not
  arrived is never a 0 shown as an improvement.
* **Compare** (:func:`rank_among`).  A department's *rank* among the departments in a month is
  ``1 +`` the number of departments strictly better by the indicator's direction: ties share a
  rank (competition ranking, ``1, 2, 2, 4``).  A department is ranked only with a value and, when
  volumes are given, a volume of at least ``min_volume`` rows in the month
  (:func:`indicator_volumes`: for a count the department's rows in every dataset, else the most
  rows among the indicator's source datasets; the retention dataset holds one summary row per
  month, so indicators of it alone are ranked whatever their volume).  The count is of the
  ranked departments.
* **Trend** (:func:`trend`).  The least-squares slope of the (up to) 12 months to the month,
  over the months with a value, one unit of x per month.  The trend is *up* or *down* when the
  slope is more than :data:`TREND_SIGNIFICANCE` standard errors away from 0
  (``se = √(Σ residual² ÷ (n − 2) ÷ Σ(x − x̄)²)``), else *flat*; fewer than three months:
  no trend.  The sparkline is green when the trend is better by the indicator's direction, red
  when worse, grey when flat — or, when a target has a status in the month, the status colour.
* **Status strip** (:func:`status_strip`): how many of the department's targets stand in each
  status in the month (the route table's row of that month), the ones off track or missed by
  name; a target whose route has no row in the month is *not started* (the month is before its
  baseline month) or counted with *no data*.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"month": ["2025-01", "2025-02"], "department": ["All", "All"],
...                   "indicator": ["revenue", "revenue"], "value": [10.0, 10 + 20.5]})
>>> row = scorecard(t, "All", "2025-02").set_index("indicator").loc["revenue"]
>>> row["value_text"], row["delta_text"]
('30.50', '+20.50')

North is 2nd of 3: East is better (higher is better), West worse, and South has no value, so
it is not ranked.

>>> rank_among({"North": 70.0, "East": 80.0, "West": 60.0, "South": float("nan")}, "North",
...            "higher", None, 30)
(2, 3)
>>> ordinal(2), ordinal(11), ordinal(23)
('2nd', '11th', '23rd')
>>> trend([1.0, 2.0, 3.0, 4.0]), trend([5.0, 5.0, 5.0])
('up', 'flat')
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.format import (
    MISSING,
    STATUS_COLOURS,
    format_delta,
    format_indicator,
    format_value,
    is_missing,
)
from indicators import catalog, charts, iceberg, schema
from indicators.checkins import notes_applying
from indicators.route import STATUSES
from indicators.store import Settings

TREND_MONTHS = 12

NOT_LOADED = f"{MISSING} not loaded"
NOT_JUDGED = f"{MISSING} not judged yet"
"""The card of an indicator judged only once later data arrives (first-contact resolution: the
days after the month's end), in the latest month, which is never judged yet."""
JUDGED_LATER: tuple[str, ...] = ("first_contact_resolution",)
"""The value of an indicator whose dataset has no rows in the month."""

TREND_SIGNIFICANCE = 2.0
"""A slope this many standard errors from 0 is a trend; closer, the series is flat."""

SPARK_COLOURS: dict[str, str] = {
    "green": "#21c354",
    "red": "#ff4b4b",
    "blue": "#1c83e1",
    "orange": "#ff8700",
    "gray": "#a3a8b8",
}
"""The sparkline's line colour per colour name (Streamlit's palette; names as STATUS_COLOURS)."""

STRIP_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s != "no data")
"""The statuses the strip counts, best first (``missed`` included once the route has it)."""
ATTENTION: tuple[str, ...] = ("missed", "off track")
"""Statuses the strip names one by one, worst first."""

AGGREGATE_DATASETS = schema.AGGREGATE_DATASETS
"""Datasets of one summary row per month and department: their rows are not a volume."""

SCORECARD_COLUMNS: tuple[str, ...] = (
    "family", "indicator", "label", "unit", "direction", "month", "value", "previous",
    "value_text", "delta_text", "target", "target_month", "status", "trend", "trend_months",
    "trend_colour", "not_loaded", "all_value", "rank", "ranked_of", "compare_text",
)

COMPARE_COLUMNS: tuple[str, ...] = (
    "indicator", "all_value", "all_not_loaded", "rank", "ranked_of", "volume", "below_min_volume",
)
"""What a card needs to compare a department with the others (:func:`compare_frame`): All's
value (NaN when All has not loaded the indicator's datasets: ``all_not_loaded``), the
department's rank (NaN when not ranked) among ``ranked_of`` departments, its volume (rows in the
month, NaN when the indicator has no volume) and whether that is below the minimum while it has
a value.  No other department's name or value."""

TABLE_HEADERS: dict[str, str] = {
    "label": "Indicator",
    "value_text": "Value",
    "delta_text": "Change vs previous month",
    "compare_text": "All and rank",
    "target_text": "Target",
    "target_month": "Target month",
    "status": "Status",
    "unusual_reason": "Unusual",
}
"""The scorecard table's columns and their headers, in order (``compare_text`` and
``unusual_reason`` only when some row has one)."""


# --- one value of the long table --------------------------------------------------------


def value_at(table: pd.DataFrame, indicator_id: str, department: str, month: str) -> float:
    """One value of the long table, NaN when absent."""
    hit = table.loc[
        (table["indicator"] == indicator_id)
        & (table["department"] == department)
        & (table["month"] == month),
        "value",
    ]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def previous_month(months: list[str], month: str) -> str | None:
    """The month before ``month`` among the reported ``months`` (which are contiguous)."""
    ordered = sorted(months)
    i = ordered.index(month) if month in ordered else -1
    return ordered[i - 1] if i > 0 else None


# --- compare: rank among departments ----------------------------------------------------


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th`` … ``11th``, ``12th``, ``13th``, ``21st``."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _rankable(
    department: str, value: object, volumes: Mapping[str, int] | None, min_volume: int
) -> bool:
    if department == catalog.ALL_DEPARTMENTS or is_missing(value):
        return False
    return volumes is None or volumes.get(department, 0) >= min_volume


def rank_among(
    values: Mapping[str, float],
    department: str,
    direction: str,
    volumes: Mapping[str, int] | None,
    min_volume: int,
) -> tuple[int | None, int]:
    """``(rank, count)`` of ``department`` among the ranked departments of ``values``.

    ``values`` maps department → value in one month (``All`` is never ranked); ``direction`` is
    the indicator's (``"higher"`` or ``"lower"`` is better).  A department is ranked when it has
    a value and, if ``volumes`` (department → rows) is given, at least ``min_volume`` rows (a
    department absent from ``volumes`` has 0).  ``rank`` is ``1 +`` the ranked departments
    strictly better (ties share a rank), ``None`` when ``department`` is not ranked; ``count``
    is the number of ranked departments.
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    sign = 1.0 if direction == "higher" else -1.0
    ranked = {d: float(v) for d, v in values.items() if _rankable(d, v, volumes, min_volume)}
    if department not in ranked:
        return None, len(ranked)
    mine = ranked[department]
    better = sum(1 for v in ranked.values() if sign * (v - mine) > 0)
    return 1 + better, len(ranked)


def indicator_volumes(
    rows: Mapping[str, Mapping[str, int]], indicator_id: str
) -> dict[str, int] | None:
    """Department → its volume for the indicator in one month: what the minimum volume judges.

    ``rows`` maps dataset → department → rows in the month.  A *count* (unit ``count``:
    purchases, complaints …) is exact however small, so its volume is the department's size:
    its rows in every dataset.  Any other figure (a rate, a median, a sum of money) is computed
    from its source datasets, so its volume is the most rows among them.
    :data:`AGGREGATE_DATASETS` rows are never a volume; an indicator that reads only them has
    none (``None``: ranked whatever its rows).

    >>> rows = {"purchases": {"North": 40, "South": 3}, "complaints": {"North": 2}}
    >>> indicator_volumes(rows, "complaint_rate"), indicator_volumes(rows, "complaints")
    ({'North': 40, 'South': 3}, {'North': 42, 'South': 3})
    >>> indicator_volumes(rows, "retention_rate") is None
    True
    """
    ind = catalog.get(indicator_id)
    sources = {s.split(".")[0] for s in ind.sources} - AGGREGATE_DATASETS
    if not sources:
        return None
    out: dict[str, int] = {}
    if ind.unit == "count":
        for dataset in sorted(set(rows) - AGGREGATE_DATASETS):
            for department, n in rows[dataset].items():
                out[department] = out.get(department, 0) + int(n)
        return out
    for dataset in sorted(sources):
        for department, n in rows.get(dataset, {}).items():
            out[department] = max(out.get(department, 0), int(n))
    return out


def month_rows(row_counts: pd.DataFrame, month: str) -> dict[str, dict[str, int]]:
    """Dataset → department → rows in ``month``, from the store's row counts."""
    at = row_counts[row_counts["month"].astype("str") == month]
    out: dict[str, dict[str, int]] = {}
    for dataset, department, rows in zip(at["dataset"], at["department"], at["rows"], strict=True):
        out.setdefault(str(dataset), {})[str(department)] = int(rows)
    return out


def compare_frame(
    month_values: pd.DataFrame,
    department: str,
    *,
    rows: Mapping[str, Mapping[str, int]],
    min_volume: int,
    not_loaded: Mapping[str, frozenset[str]] | None = None,
) -> pd.DataFrame:
    """:data:`COMPARE_COLUMNS` for ``department``, one row per catalog indicator.

    ``month_values`` is the long indicator table of one month for every department and All;
    ``rows`` the month's rows per dataset and department (:func:`month_rows`); ``not_loaded``
    the datasets each department (and All) has not loaded in the month — an indicator not loaded
    in a department is no value there, so it is neither ranked nor counted.
    """
    from indicators.completeness import indicator_not_loaded

    wide = month_values.pivot_table(
        index="department", columns="indicator", values="value", aggfunc="first", dropna=False
    )
    missing = not_loaded or {}
    records = []
    for ind in catalog.INDICATORS:
        column = wide[ind.id] if ind.id in wide.columns else pd.Series(dtype=float)
        values = {
            str(d): (float("nan") if indicator_not_loaded(ind.id, missing.get(str(d), frozenset()))
                     else float(v))
            for d, v in column.items() if d != catalog.ALL_DEPARTMENTS
        }
        volumes = indicator_volumes(rows, ind.id)
        rank, count = rank_among(values, department, ind.direction, volumes, min_volume)
        volume = float("nan") if volumes is None else float(volumes.get(department, 0))
        all_absent = indicator_not_loaded(
            ind.id, missing.get(catalog.ALL_DEPARTMENTS, frozenset()))
        records.append({
            "indicator": ind.id,
            "all_value": (float("nan") if all_absent
                          else float(column.get(catalog.ALL_DEPARTMENTS, float("nan")))),
            "all_not_loaded": all_absent,
            "rank": float("nan") if rank is None else float(rank),
            "ranked_of": count,
            "volume": volume,
            # without a value the department is simply not ranked, whatever its volume
            "below_min_volume": (volumes is not None and volume < min_volume
                                 and not is_missing(values.get(department))),
        })
    return pd.DataFrame.from_records(records, columns=list(COMPARE_COLUMNS))


def compare_text(
    all_value: object, indicator_id: str, rank: object, ranked_of: int, *,
    volume: object = float("nan"), below_min_volume: bool = False, all_not_loaded: bool = False,
) -> str:
    """``All 74.9 % · 6th of 6``; ``not ranked`` without a rank (``(n = 4)`` under the minimum).

    >>> compare_text(74.94, "csat", 6.0, 6)
    'All 74.9 % · 6th of 6'
    >>> compare_text(74.94, "csat", float("nan"), 5, volume=4.0, below_min_volume=True)
    'All 74.9 % · not ranked (n = 4)'
    >>> compare_text(float("nan"), "csat", float("nan"), 0, all_not_loaded=True)
    'All not loaded · not ranked'
    """
    head = "All not loaded" if all_not_loaded else f"All {format_indicator(all_value, indicator_id)}"
    if is_missing(rank):
        why = f" (n = {int(float(volume)):,})" if below_min_volume and not is_missing(volume) else ""
        return f"{head} · not ranked{why}"
    return f"{head} · {ordinal(int(float(rank)))} of {ranked_of:,}"


# --- trend ------------------------------------------------------------------------------


def trend_fit(values: Sequence[float | None]) -> tuple[float, float] | None:
    """``(slope per month, its standard error)`` by least squares; ``None`` under 3 points.

    ``values`` are consecutive months (``None``/NaN = no value, left out; x is the position).

    >>> slope, se = trend_fit([1.0, None, 3.0, 4.0])  # (0, 1), (2, 3), (3, 4): y = x + 1
    >>> round(slope, 12), round(se, 12)
    (1.0, 0.0)
    """
    points = [(float(i), float(v)) for i, v in enumerate(values) if not is_missing(v)]
    n = len(points)
    if n < 3:
        return None
    x_mean = sum(x for x, _ in points) / n
    y_mean = sum(y for _, y in points) / n
    sxx = sum((x - x_mean) ** 2 for x, _ in points)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in points) / sxx
    residual = sum((y - y_mean - slope * (x - x_mean)) ** 2 for x, y in points)
    return slope, math.sqrt(residual / (n - 2) / sxx)


def trend(values: Sequence[float | None]) -> str | None:
    """``"up"``, ``"down"`` or ``"flat"`` (see the module docstring); ``None`` under 3 points."""
    fit = trend_fit(values)
    if fit is None:
        return None
    slope, se = fit
    level = max((abs(float(v)) for v in values if not is_missing(v)), default=0.0)
    if abs(slope) <= TREND_SIGNIFICANCE * se or abs(slope) <= 1e-9 * max(1.0, level):
        return "flat"
    return "up" if slope > 0 else "down"


def trend_colour(
    values: Sequence[float | None], direction: str, status: object = None
) -> str:
    """The sparkline's colour name: the status's when there is one, else the trend's.

    >>> trend_colour([3.0, 2.0, 1.0], "lower"), trend_colour([3.0, 2.0, 1.0], "higher")
    ('green', 'red')
    >>> trend_colour([3.0, 2.0, 1.0], "higher", status="on track")
    'blue'
    """
    if isinstance(status, str) and status in STATUS_COLOURS and status != "no data":
        return STATUS_COLOURS[status]
    moved = trend(values)
    if moved in (None, "flat"):
        return "gray"
    better = (moved == "up") == (direction == "higher")
    return "green" if better else "red"


# --- the rows ---------------------------------------------------------------------------


def scorecard(
    table: pd.DataFrame,
    department: str,
    month: str,
    *,
    targets: pd.DataFrame | None = None,
    route: pd.DataFrame | None = None,
    compare: pd.DataFrame | None = None,
    not_loaded: Mapping[str, frozenset[str]] | None = None,
    latest: str | None = None,
) -> pd.DataFrame:
    """Scorecard rows (:data:`SCORECARD_COLUMNS`) for ``department`` in ``month``.

    ``targets`` is the route summary (``indicator``, ``department`` with ``All`` for ``*``,
    ``target``, ``target_month``); ``route`` the route table (``indicator``, ``department``,
    ``month``, ``status``).  The status is the route's status in ``month``; outside the route's
    months it is missing.  ``compare`` (:func:`compare_frame`) adds All's value and the rank;
    ``not_loaded`` maps a month to the datasets the department has not loaded in it.
    ``latest``: the last month holding data; there an indicator of :data:`JUDGED_LATER` without
    a value reads :data:`NOT_JUDGED` (it is judged once data after the month arrives).
    """
    from indicators.completeness import indicator_not_loaded

    rows = table[table["department"] == department]
    by_indicator: dict[str, dict[str, float]] = {}
    for ind_id, m, v in zip(rows["indicator"].astype(str), rows["month"].astype(str),
                            rows["value"].to_numpy(dtype=float, na_value=math.nan), strict=True):
        by_indicator.setdefault(ind_id, {})[m] = float(v)
    months = sorted(set(rows["month"].astype(str)))
    before = previous_month(months, month)
    window = [m for m in months if m <= month][-TREND_MONTHS:]
    missing = not_loaded or {}
    goals = _targets_of(department, month, targets, route)

    def loaded(indicator_id: str, m: str | None) -> bool:
        return m is None or not indicator_not_loaded(indicator_id, missing.get(m, frozenset()))

    compared = None if compare is None or compare.empty else compare.set_index("indicator")
    records = []
    for ind in catalog.INDICATORS:
        series = by_indicator.get(ind.id, {})
        absent = not loaded(ind.id, month)
        value = math.nan if absent else series.get(month, math.nan)
        previous = math.nan
        if before and loaded(ind.id, before):
            previous = series.get(before, math.nan)
        target, target_month, status = goals.get(ind.id, (math.nan, None, None))
        trend_values = [
            None if is_missing(series.get(m)) or not loaded(ind.id, m) else series[m]
            for m in window
        ]
        record = {
            "family": ind.family,
            "indicator": ind.id,
            "label": ind.label,
            "unit": ind.unit,
            "direction": ind.direction,
            "month": month,
            "value": value,
            "previous": previous,
            "value_text": NOT_LOADED if absent else (
                NOT_JUDGED if ind.id in JUDGED_LATER and is_missing(value)
                and latest is not None and month >= latest else format_value(value, ind.unit)),
            "delta_text": None if absent else format_delta(previous, value, ind.unit),
            "target": target,
            "target_month": target_month,
            "status": status,
            "trend": trend_values,
            "trend_months": list(window),
            # not loaded: neither better nor worse, whatever the months before did
            "trend_colour": "gray" if absent else trend_colour(trend_values, ind.direction, status),
            "not_loaded": absent,
            **_compared(compared, ind.id),
        }
        records.append(record)
    return pd.DataFrame.from_records(records, columns=list(SCORECARD_COLUMNS))


def add_compare(card: pd.DataFrame, compare: pd.DataFrame | None) -> pd.DataFrame:
    """``card`` with All's value, the rank and the compare line of ``compare`` (a copy).

    For a scorecard drawn before its compare was read (the compare costs more than the cards).
    """
    compared = None if compare is None or compare.empty else compare.set_index("indicator")
    filled = pd.DataFrame.from_records(
        [_compared(compared, i) for i in card["indicator"]], index=card.index,
        columns=["all_value", "rank", "ranked_of", "compare_text"],
    )
    return card.assign(**{c: filled[c] for c in filled.columns})


def _compared(compared: pd.DataFrame | None, indicator_id: str) -> dict[str, Any]:
    if compared is None or indicator_id not in compared.index:
        return {"all_value": float("nan"), "rank": float("nan"), "ranked_of": float("nan"),
                "compare_text": None}
    hit = compared.loc[indicator_id]
    return {
        "all_value": float(hit["all_value"]),
        "rank": float(hit["rank"]),
        "ranked_of": float(hit["ranked_of"]),
        "compare_text": compare_text(
            hit["all_value"], indicator_id, hit["rank"], int(hit["ranked_of"]),
            volume=hit["volume"], below_min_volume=bool(hit["below_min_volume"]),
            all_not_loaded=bool(hit["all_not_loaded"]),
        ),
    }


def _targets_of(
    department: str, month: str, targets: pd.DataFrame | None, route: pd.DataFrame | None
) -> dict[str, tuple[float, str | None, str | None]]:
    """Indicator → ``(target, target month, route status in month)`` of ``department``."""
    if targets is None or targets.empty:
        return {}
    mine = targets[targets["department"] == department]
    status: dict[str, str] = {}
    if route is not None and not route.empty:
        at = route[(route["department"] == department) & (route["month"] == month)]
        status = dict(zip(at["indicator"].astype(str), at["status"].astype(str), strict=True))
    goals = {}
    for ind_id, target, target_month in zip(mine["indicator"].astype(str), mine["target"],
                                             mine["target_month"].astype(str), strict=True):
        goals.setdefault(ind_id, (float(target), target_month, status.get(ind_id)))
    return goals


# --- the status strip -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusStrip:
    """How a department's targets stand in one month (:func:`status_strip`)."""

    counts: dict[str, int]
    """Targets per status of :data:`STRIP_STATUSES` (0 included), in that order."""
    no_data: int
    """Targets whose route has no value in the month."""
    not_started: int
    """Targets whose baseline month is after the month."""
    attention: list[dict[str, Any]]
    """The missed and off-track targets, worst first, then in catalog order: ``indicator``,
    ``department``, ``status``, ``text`` (e.g. ``Complaint rate — off track: 4.1, planned 3.2``)."""

    @property
    def targets(self) -> int:
        return sum(self.counts.values()) + self.no_data + self.not_started


def status_strip(route: pd.DataFrame, summary: pd.DataFrame, month: str) -> StatusStrip:
    """Count the targets of ``summary`` by their route status in ``month``.

    ``route`` and ``summary`` are :func:`indicators.route.route_table` and
    :func:`~indicators.route.route_summary` of the department's targets.
    """
    counts = dict.fromkeys(STRIP_STATUSES, 0)
    no_data = not_started = 0
    attention = []
    at = route[route["month"] == month].set_index(["indicator", "department"]) if len(route) else None
    order = {ind.id: i for i, ind in enumerate(catalog.INDICATORS)}
    for target in summary.to_dict("records"):
        key = (target["indicator"], target["department"])
        if at is None or key not in at.index:
            if month < str(target["baseline_month"]):
                not_started += 1
            else:
                no_data += 1
            continue
        row = at.loc[key]
        status = str(row["status"])
        if status not in counts:
            no_data += 1
            continue
        counts[status] += 1
        if status in ATTENTION:
            attention.append({
                "indicator": target["indicator"], "department": target["department"],
                "status": status, "text": _attention_text(target, row, status),
            })
    attention.sort(key=lambda a: (ATTENTION.index(a["status"]), order.get(a["indicator"], 99)))
    return StatusStrip(counts, no_data, not_started, attention)


def _attention_text(target: Mapping[str, Any], row: Mapping[str, Any], status: str) -> str:
    """``Complaint rate — off track: 4.1, planned 3.2`` / ``… — missed: 4.1, target 3.2 by …``."""
    indicator_id = str(target["indicator"])
    label = catalog.get(indicator_id).label if indicator_id in catalog.INDICATOR_IDS else indicator_id
    actual = format_indicator(row["actual"], indicator_id)
    if status == "missed":
        goal = f"target {format_indicator(target['target'], indicator_id)} by {target['target_month']}"
    else:
        goal = f"planned {format_indicator(row['planned'], indicator_id)}"
    return f"{label} — {status}: {actual}, {goal}"


# --- words, sparkline and table ---------------------------------------------------------


def iceberg_sentence(
    complaints: float, dissatisfied: float, *, not_loaded: bool = False,
    settings: Settings | None = None, at_risk: float = math.nan,
) -> str:
    """The iceberg in words: ``38 complaints → about 380 dissatisfied customers``.

    With ``settings``, also where the complaints are counted, the range the evidence gives for
    that count (:func:`indicators.iceberg.factor_range`) and ``at_risk``, the revenue at risk:
    ``38 complaints counted at head office → about 950 dissatisfied customers (between 760 and
    3,800 on the evidence), about €41,040 of revenue at risk``.  ``not_loaded``: no complaints
    file for the month yet, so nothing is estimated.
    """
    if not_loaded:
        return "Complaints not loaded for this month yet, so the iceberg can't be estimated."
    if is_missing(complaints):
        return "No complaint data for this month."
    n = int(round(float(complaints)))
    noun = "complaint" if n == 1 else "complaints"
    where = "" if settings is None else iceberg.COUNTED_AT[settings.iceberg_counted_at].where
    if where:
        noun += f" counted {where}"
    if is_missing(dissatisfied):
        return f"{n:,} {noun}"
    text = f"{n:,} {noun} → about {float(dissatisfied):,.0f} dissatisfied customers"
    if settings is None or n == 0:
        return text
    span = iceberg.factor_range(settings.iceberg_counted_at)
    if span is not None:
        low, high = (float(complaints) * f for f in span)
        text += f" (between {low:,.0f} and {high:,.0f} on the evidence)"
    if is_missing(at_risk):
        return f"{text}; revenue at risk unknown without the month's purchases"
    return f"{text}, about {format_indicator(at_risk, 'revenue_at_risk')} of revenue at risk"


def iceberg_basis(settings: Settings) -> str:
    """Where the iceberg's factor and leave share come from, in words under the sentence."""
    choice = iceberg.COUNTED_AT[settings.iceberg_counted_at]
    if choice.factor is None:
        factor = (f"Each complaint stands for about {settings.iceberg_factor:g} dissatisfied "
                  "customers: your own factor (a setting).")
    else:
        factor = (f"Complaints are counted {choice.where} (a setting). "
                  f"{choice.evidence} ({iceberg.CITATION}.)")
    return (f"{factor} {settings.dissatisfied_leave_share:g} % of the dissatisfied customers are "
            "assumed to leave, each taking the month's revenue per customer (a planning "
            "assumption, a setting).")


SPARK_HEIGHT = 44
"""Pixels: the sparkline under a card's figure."""
SPARK_WIDTH = 120
"""Units of the sparkline's drawing across; the picture stretches to the card's width."""
SPARK_PAD = 4.0
"""Units kept free above and below the line, so a dot at the top or bottom is not cut."""
SPARK_TARGET_COLOUR = "#808495"
SPARK_NOTE_COLOUR = "#5b6472"
SPARK_UNUSUAL_COLOUR = charts.UNUSUAL_COLOUR
"""A halo around an unusual month's dot (:mod:`indicators.unusual`)."""


@dataclass(frozen=True)
class Sparkline:
    """Where a sparkline draws (:func:`sparkline`), in drawing units: x from 0 to
    :data:`SPARK_WIDTH`, y from 0 (top) to :data:`SPARK_HEIGHT`."""

    runs: list[list[tuple[float, float]]]
    """The line's points, one list per run of consecutive months with a value (a gap breaks the
    line; a run of one month is a dot alone)."""
    target_y: float | None
    """The dashed target line's height, ``None`` without a target."""
    colour: str
    """The line's colour (:data:`SPARK_COLOURS` of the row's ``trend_colour``)."""
    title: str
    """What hovering the sparkline says: its months and values as the card writes them."""
    notes: tuple[float, ...] = ()
    """Where a month with a note on an event sits across (a small grey triangle at the foot)."""
    unusual: tuple[tuple[float, float], ...] = ()
    """The points of the months whose value is unusual (an orange halo round the dot)."""


def sparkline(row: Mapping[str, Any]) -> Sparkline | None:
    """The sparkline of a scorecard row; ``None`` under 2 values.

    The months sit evenly from :data:`SPARK_PAD` to ``SPARK_WIDTH - SPARK_PAD``; the values
    (and the target, so its line is in the picture) span the height less :data:`SPARK_PAD`
    above and below, the highest at the top; all values equal: the middle.  A month without a
    value is a gap, never a dip to 0.
    """
    values = list(row["trend"])
    if sum(not is_missing(v) for v in values) < 2:
        return None
    unit = str(row["unit"])
    target = None if is_missing(row["target"]) else float(row["target"])
    present = [float(v) for v in values if not is_missing(v)] + ([] if target is None else [target])
    low, high = min(present), max(present)
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        if high == low:
            return SPARK_HEIGHT / 2
        return SPARK_PAD + (high - v) / (high - low) * (SPARK_HEIGHT - 2 * SPARK_PAD)

    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if is_missing(v):
            if run:
                runs.append(run)
            run = []
        else:
            run.append((SPARK_PAD + i * step, y(float(v))))
    if run:
        runs.append(run)
    lines = [f"{row['label']}, month by month:"]
    lines += [f"{m}: {format_value(v, unit)}"
              for m, v in zip(row["trend_months"], values, strict=True)]
    if target is not None:
        lines.append(f"Target {format_value(target, unit)} (dashed)")
    noted = [m for m in (row.get("note_months") or ()) if m in list(row["trend_months"])]
    if noted:
        # Months only: the notes' own text is the user's, and is written by the card's caption.
        lines.append(f"Notes on events (triangles): {', '.join(noted)}")
    at = {m: SPARK_PAD + i * step for i, m in enumerate(row["trend_months"])}
    value_at = dict(zip(row["trend_months"], values, strict=True))
    odd = [m for m in (row.get("unusual_months") or ()) if not is_missing(value_at.get(m))]
    if odd:
        lines.append(f"Unusual values (orange halo): {', '.join(odd)}")
    return Sparkline(
        runs=runs,
        target_y=None if target is None else y(target),
        colour=SPARK_COLOURS.get(str(row["trend_colour"]), SPARK_COLOURS["gray"]),
        title="\n".join(lines),
        notes=tuple(at[m] for m in noted),
        unusual=tuple((at[m], y(float(value_at[m]))) for m in odd),
    )


def general_notes(notes: pd.DataFrame, department: str, month: str) -> list[str]:
    """The texts of ``month``'s notes on every indicator that apply in ``department``."""
    if notes.empty:
        return []
    mine = notes_applying(notes, "", department)
    return [str(n) for m, i, n in zip(mine["month"], mine["indicator"], mine["note"], strict=True)
            if m == month and pd.isna(i)]


def with_notes(card: pd.DataFrame, notes: pd.DataFrame, department: str) -> pd.DataFrame:
    """``card`` with ``note_months`` (the months of its sparkline with a note on an event that
    belongs on the indicator's chart in ``department``) and ``notes_now`` (the texts of the
    chosen month's notes on that indicator alone: a note on every indicator is said once for the
    page, :func:`general_notes`) per row."""
    months_of, now = [], []
    for row in card.to_dict("records"):
        mine = notes_applying(notes, str(row["indicator"]), department)
        shown = set(row["trend_months"])
        months_of.append(sorted({str(m) for m in mine["month"] if m in shown})
                         if len(mine) else [])
        now.append([str(n) for m, i, n in zip(mine["month"], mine["indicator"], mine["note"],
                                              strict=True)
                    if m == row["month"] and not pd.isna(i)] if len(mine) else [])
    return card.assign(note_months=pd.Series(months_of, index=card.index, dtype=object),
                       notes_now=pd.Series(now, index=card.index, dtype=object))


NOT_PER_CHANNEL = "— not per channel"
"""What a card of an indicator that is not computed per channel reads with a channel chosen."""


def not_per_channel(card: pd.DataFrame) -> pd.DataFrame:
    """``card`` of one channel: the indicators not computed per channel
    (:data:`indicators.channels.NOT_PER_CHANNEL`) read :data:`NOT_PER_CHANNEL`, with no change
    and no trend colour (a copy).

    >>> card = pd.DataFrame({"indicator": ["csat", "retention_rate"], "value_text": ["—", "—"],
    ...                      "delta_text": [None, None], "trend_colour": ["gray", "gray"]})
    >>> not_per_channel(card)["value_text"].tolist()
    ['—', '— not per channel']
    """
    from indicators.channels import NOT_PER_CHANNEL as WHY

    out = card.copy()
    absent = out["indicator"].isin(list(WHY))
    out.loc[absent, "value_text"] = NOT_PER_CHANNEL
    out.loc[absent, "delta_text"] = None
    out.loc[absent, "trend_colour"] = "gray"
    return out


def with_unusual(card: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """``card`` with ``unusual_months`` (the months of its sparkline whose value is unusual) and
    ``unusual_reason`` (the chosen month's reason, else None) per row; ``flags``: the unusual
    values of the card's department (:func:`dashboard.data.unusual`).

    >>> card = pd.DataFrame({"indicator": ["csat"], "month": ["2025-12"],
    ...                      "trend_months": [["2025-11", "2025-12"]]})
    >>> flags = pd.DataFrame({"month": ["2025-12"], "indicator": ["csat"], "reason": ["high"]})
    >>> with_unusual(card, flags)[["unusual_months", "unusual_reason"]].iloc[0].tolist()
    [['2025-12'], 'high']
    """
    by = {}
    for m, i, reason in zip(flags["month"], flags["indicator"], flags["reason"], strict=True):
        by.setdefault(str(i), {})[str(m)] = str(reason)
    months_of, now = [], []
    for row in card.to_dict("records"):
        mine = by.get(str(row["indicator"]), {})
        months_of.append(sorted(m for m in mine if m in set(row["trend_months"])))
        now.append(mine.get(str(row["month"])))
    return card.assign(unusual_months=pd.Series(months_of, index=card.index, dtype=object),
                       unusual_reason=pd.Series(now, index=card.index, dtype=object))


def sparkline_svg(spark: Sparkline) -> str:
    """The sparkline as an SVG document: the line, a dot per month, the target dashed.

    Drawn to stretch (``preserveAspectRatio="none"``) with strokes of constant width
    (``non-scaling-stroke``), so a dot is a round cap of a zero-length stroke and stays round.
    """
    def xy(x: float, y: float) -> str:
        return f"{x:.2f},{y:.2f}"

    line = " ".join("M" + " L".join(xy(x, y) for x, y in run) for run in spark.runs if len(run) > 1)
    dots = " ".join(f"M{xy(x, y)} h0.01" for run in spark.runs for x, y in run)
    stroke = 'fill="none" vector-effect="non-scaling-stroke" stroke-linecap="round"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        f'preserveAspectRatio="none">'
    ]
    if spark.target_y is not None:
        parts.append(
            f'<path d="M0,{spark.target_y:.2f} H{SPARK_WIDTH}" stroke="{SPARK_TARGET_COLOUR}" '
            f'stroke-width="1" stroke-dasharray="4 3" {stroke}/>'
        )
    if line:
        parts.append(f'<path d="{line}" stroke="{spark.colour}" stroke-width="2" '
                     f'stroke-linejoin="round" {stroke}/>')
    if spark.unusual:
        halos = " ".join(f"M{xy(x, y)} h0.01" for x, y in spark.unusual)
        parts.append(f'<path d="{halos}" stroke="{SPARK_UNUSUAL_COLOUR}" stroke-width="11" '
                     f'stroke-opacity="0.85" {stroke}/>')
    parts.append(f'<path d="{dots}" stroke="{spark.colour}" stroke-width="5" '
                 f'stroke-opacity="0.7" {stroke}/>')
    for x in spark.notes:
        parts.append(f'<path d="M{x - 2.5:.2f},{SPARK_HEIGHT} L{x + 2.5:.2f},{SPARK_HEIGHT} '
                     f'L{x:.2f},{SPARK_HEIGHT - 5} Z" fill="{SPARK_NOTE_COLOUR}"/>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline_html(row: Mapping[str, Any]) -> str | None:
    """The sparkline of a scorecard row as an ``<img>`` of :func:`sparkline_svg`, its hover text
    the months and values; ``None`` under 2 values.

    A picture the server draws: the browser only paints it.  A chart element per card (Vega-Lite,
    or ``st.metric``'s own ``chart_data``, which is a Vega embed too and takes the delta's
    colour, with no target line) costs the browser about a second for two dozen cards.
    """
    spark = sparkline(row)
    if spark is None:
        return None
    data = base64.b64encode(sparkline_svg(spark).encode()).decode("ascii")
    words = html.escape(spark.title, quote=True).replace("\n", "&#10;")
    alt = html.escape(f"{row['label']}: the {len(row['trend'])} months to this one", quote=True)
    return (f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}" title="{words}" '
            f'style="display:block;width:100%;height:{SPARK_HEIGHT}px">')


def display_frame(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as people read it: :data:`TABLE_HEADERS`, every value written for its unit.

    The compare column only when the card compares (a department, not All).
    """
    out = card.assign(
        target_text=[format_indicator(t, i) if not is_missing(t) else None
                     for t, i in zip(card["target"], card["indicator"], strict=True)],
    )
    optional = ("compare_text", "unusual_reason")
    columns = [c for c in TABLE_HEADERS if c not in optional
               or (c in out.columns and out[c].notna().any())]
    return out[columns].rename(columns=TABLE_HEADERS)


def export_frame(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as a plain table for CSV: full precision, snake_case, no sparkline lists."""
    out = card.drop(columns=["trend", "trend_months", "trend_colour", "value_text", "delta_text",
                             "compare_text", "note_months", "notes_now", "unusual_months"],
                    errors="ignore")
    return out.rename(columns={"previous": "previous_month_value"})
