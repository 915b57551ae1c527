"""A target's route in plain words: the headline and the figures people read (pure, no Streamlit).

The input is one row of :func:`indicators.route.route_summary` (any mapping with its columns).
Every number goes through :mod:`dashboard.format`, so it is rounded for people and written in
the indicator's unit (and the run's currency); the command line's JSON keeps the full values.

A target is in one of three *phases*, by its latest month with data:

* ``open``     — the target month is still ahead (or there is no data yet);
* ``deadline`` — the latest month is the target month;
* ``after``    — there is data after the target month.

The share of the route travelled (``travelled``, percent of the way from the baseline to the
target) is said as:

* 0–100: ``"40 % of the route travelled, 60 % to go"`` (whole percent, rounded down, so 99.6 is
  never "100 %"), with a progress bar;
* below 0: ``"moved away from the target by 2.1 pp"`` — the distance from the baseline, in the
  wrong direction, in the indicator's unit (a percentage moves by points, ``pp``);
* above 100: ``"beyond the target by 1.3 pp"`` — the distance past the target;
* a distance that rounds to nothing reads as 0 % or 100 % of the route.

At and after the deadline the headline is the verdict (the status of the latest month):

* at the deadline: ``"achieved (11.6 %, target 12.0 %)"`` or ``"not met at the deadline (2.9,
  target 2.0)"`` (the status there is still SPEC §3's: ``at risk`` or ``off track``);
* after it, ``achieved``: ``"achieved (11.6 %, target 12.0 %)"``, or, when the target month
  itself was worse, ``"achieved after the deadline (1.8, target 2.0; 2.9 at the deadline)"``;
* after it, ``missed``: ``"met in 2025-06 — now 11.6 %, worse than the target"`` when the target
  was met at the deadline (``met_month``: since when), else ``"missed (2.9 at the deadline,
  target 2.0) — now 2.7"``.

"Pace needed" is among the figures only while the target is open and not yet achieved; the
projected value at the target month, its 80 % range and the chance of reaching the target by then
(whole percent; "under 1 %" / "over 99 %" for what is neither impossible nor certain) only while
it is open.

Examples
--------
>>> row = {"indicator": "csat", "baseline_month": "2025-01", "baseline": 50.0,
...        "target_month": "2025-07", "target": 80.0, "tolerance": 3.0, "status": "at risk",
...        "latest_month": "2025-03", "latest_actual": 62.0, "travelled": 40.0,
...        "remaining": 60.0, "forecast_at_target": 74.0, "forecast_low": 70.0,
...        "forecast_high": 78.0, "reach_probability": 0.12, "forecast_method": "least squares",
...        "reached_month": "2025-09", "reached_note": "expected in 2025-09", "pace_needed": 4.5,
...        "deadline_actual": float("nan"), "met_month": None, "note": None}
>>> words = route_words(row)
>>> words.headline, words.progress
('40 % of the route travelled, 60 % to go', 0.4)
>>> words.figures
(('Latest (2025-03)', '62.0 %'), ('Projected for 2025-07', '74.0 %'), ('80 % range', '70.0 % – 78.0 %'), ('Chance of reaching the target', '12 %'), ('Pace needed', '+4.5 pp per month'))
>>> words.forecast
'Forecast (least squares): expected in 2025-09, after the deadline.'
>>> after = {**row, "status": "missed", "latest_month": "2025-09", "latest_actual": 78.0,
...          "deadline_actual": 81.0, "met_month": "2025-06", "pace_needed": float("nan")}
>>> route_words(after).headline
'met in 2025-06 — now 78.0 %, worse than the target'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from dashboard.format import MISSING, format_delta, format_indicator
from indicators import catalog, months, units
from indicators.route import ALREADY_ACHIEVED, NOT_ENOUGH_DATA
from indicators.units import is_missing

Phase = Literal["open", "deadline", "after"]

WORST_FIRST: tuple[str, ...] = ("missed", "off track", "at risk", "on track", "achieved", "no data")
"""Statuses in the order the route page lists them: the ones that need attention first."""


@dataclass(frozen=True)
class RouteWords:
    """What a person reads about one target."""

    phase: Phase
    headline: str
    """The verdict at or after the deadline; the share of the route travelled before it."""
    travelled: str
    """The share of the route travelled, in words (``"—"`` when it can't be worked out)."""
    progress: float | None
    """0–1 for a progress bar, only when the share travelled lies within 0–100 %."""
    figures: tuple[tuple[str, str], ...]
    """``(label, value)`` pairs, values written for people."""
    forecast: str | None
    """Where the forecast leads, while that is still worth saying."""
    baseline: str
    """Where the route starts, and the tolerance."""
    shape: str | None = None
    """How the planned route is drawn, when it is not straight."""


def status_rank(status: object) -> int:
    """Where ``status`` comes in :data:`WORST_FIRST` (unknown statuses last).

    >>> sorted(["achieved", "missed", "at risk"], key=status_rank)
    ['missed', 'at risk', 'achieved']
    """
    return WORST_FIRST.index(status) if status in WORST_FIRST else len(WORST_FIRST)


def indicator_name(indicator_id: str) -> str:
    """The indicator's label with its unit, for a table: ``"Customer satisfaction (CSAT) · %"``
    (a duration is written in the unit its size calls for, so its name says only "time").

    >>> indicator_name("complaint_rate"), indicator_name("response_time_median")
    ('Complaints per 100 purchases · per 100', 'Response time (median) · time')
    """
    return f"{catalog.get(indicator_id).label} · {units.unit_of(indicator_id).label}"


def phase(row: Mapping[str, Any]) -> Phase:
    """``open``, ``deadline`` or ``after``, by the latest month against the target month."""
    latest = row.get("latest_month")
    if not isinstance(latest, str) or latest < str(row["target_month"]):
        return "open"
    return "deadline" if latest == str(row["target_month"]) else "after"


def _size(value: float, unit: str) -> str | None:
    """A distance (≥ 0) written in ``unit``, ``None`` when it rounds to nothing."""
    text = format_delta(0.0, abs(value), unit)
    if text is None or not any(ch in "123456789" for ch in text):
        return None
    return text.lstrip("+")


def travelled_words(row: Mapping[str, Any]) -> tuple[str, float | None]:
    """The share travelled in words, and the progress bar's fraction when it lies in 0–100 %.

    >>> base = {"indicator": "complaint_rate", "baseline": 5.0, "target": 2.0}
    >>> travelled_words({**base, "travelled": (5.3 - 5.0) / (2.0 - 5.0) * 100, "latest_actual": 5.3})
    ('moved away from the target by 0.3', None)
    >>> travelled_words({**base, "travelled": (1.5 - 5.0) / (2.0 - 5.0) * 100, "latest_actual": 1.5})
    ('beyond the target by 0.5', None)
    >>> travelled_words({**base, "travelled": 100.0, "latest_actual": 2.0})
    ('100 % of the route travelled, 0 % to go', 1.0)
    """
    travelled = row.get("travelled")
    if is_missing(travelled):
        return f"share of the route travelled: {MISSING}", None
    share = float(travelled)
    unit = catalog.get(str(row["indicator"])).unit
    if share < 0:
        away = _size(float(row["latest_actual"]) - float(row["baseline"]), unit)
        if away is not None:
            return f"moved away from the target by {away}", None
        share = 0.0
    elif share > 100:
        beyond = _size(float(row["latest_actual"]) - float(row["target"]), unit)
        if beyond is not None:
            return f"beyond the target by {beyond}", None
        share = 100.0
    done = min(max(math.floor(share + 1e-9), 0), 100)
    return f"{done} % of the route travelled, {100 - done} % to go", done / 100


def verdict(row: Mapping[str, Any]) -> str | None:
    """The headline at or after the deadline (``None`` while the target is open)."""
    when = phase(row)
    status = row.get("status")
    if when == "open" or status not in ("achieved", "missed", "at risk", "off track"):
        return None
    indicator = str(row["indicator"])
    now = format_indicator(row["latest_actual"], indicator)
    target = format_indicator(row["target"], indicator)
    if when == "deadline":
        if status == "achieved":
            return f"achieved ({now}, target {target})"
        return f"not met at the deadline ({now}, target {target})"
    met_month = row.get("met_month")
    deadline = row.get("deadline_actual")
    at_deadline = ("no value at the deadline" if is_missing(deadline)
                   else f"{format_indicator(deadline, indicator)} at the deadline")
    if status == "achieved":
        if isinstance(met_month, str):
            return f"achieved ({now}, target {target})"
        return f"achieved after the deadline ({now}, target {target}; {at_deadline})"
    if isinstance(met_month, str):
        return f"met in {met_month} — now {now}, worse than the target"
    return f"missed ({at_deadline}, target {target}) — now {now}"


def chance_words(probability: object) -> str:
    """The chance of reaching a target, for people: whole percent, never a false 0 or 100.

    >>> chance_words(0.374), chance_words(0.004), chance_words(0.9999), chance_words(1.0)
    ('37 %', 'under 1 %', 'over 99 %', '100 %')
    """
    if is_missing(probability):
        return MISSING
    p = float(probability)  # type: ignore[arg-type]
    if 0 < p < 0.01:
        return "under 1 %"
    if 0.99 < p < 1:
        return "over 99 %"
    return f"{round(p * 100):d} %"


def _forecast(row: Mapping[str, Any], when: Phase) -> str | None:
    note, reached = row.get("reached_note"), row.get("reached_month")
    method = row.get("forecast_method")
    lead = f"Forecast ({method})" if isinstance(method, str) else "Forecast"
    if when == "open":
        if note == ALREADY_ACHIEVED:
            return "Already at or better than the target."
        if note == NOT_ENOUGH_DATA:
            return "Not enough data for a forecast (three months at least)."
        if isinstance(reached, str):
            late = reached > str(row["target_month"])
            return (f"{lead}: expected in {reached}, "
                    f"{'after the deadline' if late else 'in time'}.")
        if isinstance(note, str):
            return f"{lead}: {note}."
        return None
    if row.get("status") == "missed" and note != ALREADY_ACHIEVED and isinstance(note, str) \
            and note != NOT_ENOUGH_DATA:
        return f"{lead}: {note}."
    return None


def _band(row: Mapping[str, Any], indicator: str) -> str:
    low, high = row.get("forecast_low"), row.get("forecast_high")
    if is_missing(low) or is_missing(high):
        return MISSING
    low_text, high_text = format_indicator(low, indicator), format_indicator(high, indicator)
    return low_text if low_text == high_text else f"{low_text} – {high_text}"


def _figures(row: Mapping[str, Any], when: Phase) -> tuple[tuple[str, str], ...]:
    indicator, target_month = str(row["indicator"]), str(row["target_month"])
    latest = row.get("latest_month")
    value = format_indicator(row.get("latest_actual"), indicator)
    if when == "deadline":
        return ((f"Actual in {target_month}, the target month", value),)
    if when == "after":
        return ((f"At the deadline ({target_month})",
                 format_indicator(row.get("deadline_actual"), indicator)),
                (f"Latest ({latest})", value))
    figures = [(f"Latest ({latest if isinstance(latest, str) else MISSING})", value),
               (f"Projected for {target_month}",
                format_indicator(row.get("forecast_at_target"), indicator))]
    if not is_missing(row.get("forecast_at_target")):
        figures.append(("80 % range", _band(row, indicator)))
    if not is_missing(row.get("reach_probability")) and row.get("status") != "achieved":
        figures.append(("Chance of reaching the target", chance_words(row["reach_probability"])))
    pace = format_delta(0.0, row.get("pace_needed"), catalog.get(indicator).unit)
    if pace is not None and row.get("status") != "achieved":
        figures.append(("Pace needed", f"{pace} per month"))
    return tuple(figures)


def _baseline(row: Mapping[str, Any]) -> str:
    indicator = str(row["indicator"])
    tolerance = row.get("tolerance")
    size = MISSING if is_missing(tolerance) else (
        _size(float(tolerance), catalog.get(indicator).unit)
        or format_delta(0.0, 0.0, catalog.get(indicator).unit)
    )
    return (f"Baseline {format_indicator(row.get('baseline'), indicator)} in "
            f"{row['baseline_month']}, tolerance {size}.")


def shape_words(row: Mapping[str, Any]) -> str | None:
    """The planned route's shape in words; ``None`` for a straight one (or one drawn straight).

    >>> shape_words({"shape": "seasonal", "baseline_month": "2025-01"})
    'Planned route: follows the season of 2024-01 … 2024-12 (the 12 months before the baseline).'
    >>> shape_words({"shape": "steps", "baseline_month": "2025-01"})
    'Planned route: in steps, each planned value held until the next.'
    """
    shape = row.get("shape")
    if shape == "seasonal":
        first = months.shift(str(row["baseline_month"]), -12)
        last = months.shift(str(row["baseline_month"]), -1)
        return (f"Planned route: follows the season of {first} … {last} "
                "(the 12 months before the baseline).")
    if shape == "steps":
        return "Planned route: in steps, each planned value held until the next."
    return None


def route_words(row: Mapping[str, Any]) -> RouteWords:
    """Everything a person reads about one target (see the module docstring)."""
    when = phase(row)
    travelled, progress = travelled_words(row)
    return RouteWords(
        phase=when,
        headline=verdict(row) or travelled,
        travelled=travelled,
        progress=progress,
        figures=_figures(row, when),
        forecast=_forecast(row, when),
        baseline=_baseline(row),
        shape=shape_words(row),
    )


# --- the route page's order and its table ----------------------------------------------

SORTS: tuple[str, ...] = ("Worst first", "Deadline", "Indicator")
"""The route page's sort choices (short, to fit a phone): by status, worst first; by target
month, soonest first; by indicator label.  The first is the default."""


def ordered(
    summary: pd.DataFrame,
    *,
    sort: str = SORTS[0],
    statuses: Iterable[str] | None = None,
    focused: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The summary rows to show, in the order chosen, the ``focused`` target first.

    ``statuses`` keeps only rows with those statuses (``None``: every row); the focused target
    (``(indicator, department)``, from a link) is shown even when its status is not chosen.
    Ties keep a fixed order: status (worst first), target month, indicator label, department.
    """
    frame = summary.reset_index(drop=True)
    label = frame["indicator"].map(lambda i: catalog.get(str(i)).label)
    keys = pd.DataFrame({
        "focus": [focused is not None and (str(i), str(d)) == focused
                  for i, d in zip(frame["indicator"], frame["department"], strict=True)],
        "rank": frame["status"].map(status_rank),
        "deadline": frame["target_month"].astype(str),
        "label": label,
        "department": frame["department"].astype(str),
    })
    first = {SORTS[1]: ["deadline", "rank"], SORTS[2]: ["label"]}.get(sort, ["rank"])
    by = ["focus", *first, *(k for k in ("rank", "deadline", "label", "department")
                             if k not in first)]
    order = keys.sort_values(by, ascending=[False] + [True] * (len(by) - 1), kind="mergesort")
    frame = frame.loc[order.index]
    if statuses is not None:
        wanted = set(statuses)
        frame = frame[frame["status"].isin(wanted) | keys.loc[frame.index, "focus"]]
    return frame.reset_index(drop=True)


TABLE_COLUMNS: tuple[str, ...] = (
    "Indicator", "Department", "Status", "Where it stands", "Latest month", "Latest value",
    "Target", "Target month", "Projected for the target month", "80 % range",
    "Chance of reaching the target", "Pace needed per month",
)


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The route summary for people: indicator labels with their unit, human headers, every
    value written as text by :mod:`dashboard.format` (the CSV download keeps the summary itself).
    """
    rows = []
    for row in summary.to_dict("records"):
        indicator = str(row["indicator"])
        words = route_words(row)
        figures = dict(words.figures)
        rows.append({
            "Indicator": indicator_name(indicator),
            "Department": str(row["department"]),
            "Status": str(row["status"]),
            "Where it stands": words.headline,
            "Latest month": row["latest_month"] if isinstance(row["latest_month"], str)
            else MISSING,
            "Latest value": format_indicator(row["latest_actual"], indicator),
            "Target": format_indicator(row["target"], indicator),
            "Target month": str(row["target_month"]),
            "Projected for the target month": figures.get(
                f"Projected for {row['target_month']}", MISSING),
            "80 % range": figures.get("80 % range", MISSING),
            "Chance of reaching the target": figures.get("Chance of reaching the target",
                                                         MISSING),
            "Pace needed per month": figures.get("Pace needed", MISSING).removesuffix(
                " per month"),
        })
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS), dtype="str")
