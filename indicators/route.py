"""Targets → the route: planned path, share travelled and remaining, status and forecast (SPEC §3).

Pure pandas/numpy: no database, no UI.  Inputs are never mutated and their row order does not
matter; outputs are sorted by indicator, department and month.

Naming and units, fixed once for the whole module:

* a *month* is ``YYYY-MM`` text; month arithmetic is :mod:`indicators.months` (on a month's
  index ``year × 12 + (month − 1)``, 12 months a year);
* ``n = months_between(baseline_month, target_month)`` and ``k = months_between(baseline_month, m)``;
* values (``actual``, ``planned``, ``baseline``, ``target``, ``tolerance``, ``pace_needed``,
  ``deadline_actual``) are in the indicator's own unit; ``travelled`` and ``remaining`` are
  percent of the route;
* *better* follows the catalog direction: up for ``"higher"``, down for ``"lower"`` indicators;
  *met* means at or better than the target;
* a missing value is ``NaN`` (text columns: ``None``), never a made-up 0;
* the *latest month* is the latest month with data, at most :data:`PAST_DEADLINE_MONTHS` after
  ``target_month`` (data further on is not followed, and the summary's note says so).

Formulas, for every month ``m`` from ``baseline_month`` to ``target_month`` inclusive (SPEC §3):

* ``planned(m)   = baseline + (target − baseline) × k ÷ n``
* ``travelled(m) = (actual(m) − baseline) ÷ (target − baseline) × 100`` (missing when actual is
  missing or ``target == baseline``); ``remaining(m) = 100 − travelled(m)``
* ``tolerance``  = the given one, else ``|target − baseline| ÷ 10``
* ``status(m)``  = :func:`status_for` (``achieved`` / ``on track`` / ``at risk`` / ``off track`` /
  ``no data``)
* forecast: :func:`indicators.forecast.project` — with 24 consecutive months of data the seasonal
  model, else the least-squares line (:func:`forecast_line`) through the last six months with
  data up to the latest month (at least three) — evaluated at ``target_month`` with its 80 %
  band and the probability of meeting the target there, clamped to the indicator's value bounds
  (:func:`catalog.clamp`: a share never projects past 100 %, NPS past ±100); given only while the
  latest month is before ``target_month`` (after it, for a missed target, only the month the
  target is expected)
* ``pace_needed  = (target − latest_actual) ÷ months_between(latest_month, target_month)``, only
  while the target month is still ahead of the latest month

After the target month the route goes on to the latest month, so that data past the deadline is
seen: ``planned(m) = target``, ``travelled``/``remaining`` as above, and ``status(m)`` is
``achieved`` when ``actual(m)`` is met, ``missed`` when it is worse, ``no data`` when missing.
The summary's status is the latest month's, so a target past its deadline can move back from
``achieved`` to ``missed`` (and forth).  The deadline itself is kept in two columns:
``deadline_actual = actual(target_month)`` and ``met_month``, the first month of the last run of
months with data, ending in ``target_month``, whose values are all met (``None`` when the target
month has no value or is worse than the target).

``baseline`` is the given one, else the value measured at ``baseline_month``; with neither the
route can't be drawn and every month is ``no data``.

Comparisons against the target, the plan and the tolerance allow a relative slack of 1e-9, so
that a value that equals a boundary up to floating-point rounding counts as on it.

Examples
--------
>>> t = pd.DataFrame({"indicator": ["csat"], "department": ["*"], "baseline_month": ["2025-01"],
...                   "target_month": ["2025-03"], "target": [80.0], "baseline": [70.0],
...                   "tolerance": [float("nan")]})
>>> ind = pd.DataFrame({"month": ["2025-01", "2025-02"], "department": ["All", "All"],
...                     "indicator": ["csat", "csat"], "value": [70.0, 74.0]})
>>> route_table(t, ind)[["month", "actual", "planned", "travelled", "status"]]
     month  actual  planned  travelled    status
0  2025-01    70.0     70.0        0.0  on track
1  2025-02    74.0     75.0       40.0   at risk
2  2025-03     NaN     80.0        NaN   no data

Met at the deadline (81 in 2025-03), then worse in 2025-04: the route goes on, and the target
is ``missed`` now.

>>> late = pd.concat([ind, pd.DataFrame({"month": ["2025-03", "2025-04"], "department": "All",
...                                      "indicator": "csat", "value": [81.0, 78.0]})])
>>> route_table(t, late)[["month", "actual", "planned", "status"]].tail(2)
     month  actual  planned    status
2  2025-03    81.0     80.0  achieved
3  2025-04    78.0     80.0    missed
>>> route_summary(t, late)[["latest_month", "status", "deadline_actual", "met_month"]]
  latest_month  status  deadline_actual met_month
0      2025-04  missed             81.0   2025-03
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from indicators import catalog, forecast, months
from indicators.schema import ALL_DEPARTMENTS_TARGET, MAX_ROUTE_MONTHS, ROUTE_SHAPES
from indicators.units import is_missing, unit_of

STATUSES: tuple[str, ...] = ("achieved", "on track", "at risk", "off track", "missed", "no data")
"""Every status: the four of the route to the target month, best first, then ``missed`` (past
the target month and worse than the target) and ``no data``."""

PAST_DEADLINE_MONTHS = MAX_ROUTE_MONTHS
"""After the target month the route follows the data for at most this many months."""

FORECAST_WINDOW = forecast.LINE_WINDOW
"""The forecast line goes through at most this many latest months with data."""
FORECAST_MIN_POINTS = forecast.LINE_MIN_POINTS
"""Fewer months with data than this: no forecast."""
EXPECTED_WITHIN_MONTHS = 24
"""How far past the target month (or the latest month, if later) the forecast looks for the first
month the target is expected; a target not met by then is 'not expected by' that month."""

DEFAULT_TOLERANCE_SHARE = 0.1
"""The default tolerance: this share of |target − baseline|."""

EXPECTED_IN = "expected in {month}"
ALREADY_ACHIEVED = "already achieved"
NOT_EXPECTED_BY = "not expected by {month}"
NOT_ENOUGH_DATA = "not enough data for a forecast"
NOT_AFTER_DEADLINE = "measured at the target month: no forecast"

ROUTE_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "month", "actual", "planned", "travelled", "remaining", "status",
    "forecast", "forecast_low", "forecast_high",
)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "baseline_month", "baseline", "target_month", "target",
    "tolerance", "latest_month", "latest_actual", "planned_at_latest", "status", "travelled",
    "remaining", "forecast_at_target", "forecast_low", "forecast_high", "forecast_method",
    "reach_probability", "reached_month", "reached_note", "pace_needed",
    "deadline_actual", "met_month", "note", "shape", "shape_note", "owner",
)
_TEXT_COLUMNS = {"indicator", "department", "month", "baseline_month", "target_month", "status",
                 "shape"}
_NULLABLE_TEXT_COLUMNS = {"latest_month", "reached_month", "reached_note", "met_month", "note",
                          "shape_note", "owner", "forecast_method"}

_TARGET_COLUMNS = ("indicator", "department", "baseline_month", "target_month", "target")
_INDICATOR_COLUMNS = ("month", "department", "indicator", "value")
_REL_SLACK = 1e-9
_NAN = float("nan")


# --- status and forecast ---------------------------------------------------------------


def _sign(direction: str) -> int:
    if direction == "higher":
        return 1
    if direction == "lower":
        return -1
    raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")


def _slack(*values: float) -> float:
    return _REL_SLACK * max(1.0, *(abs(v) for v in values))




def status_for(
    actual: float, planned: float, target: float, tolerance: float, direction: str
) -> str:
    """The status of one month, direction-aware.

    With ``better_by(a, b) = a − b`` for ``"higher"`` and ``b − a`` for ``"lower"``:

    * ``no data``   if ``actual`` (or ``planned``) is missing;
    * ``achieved``  if ``better_by(actual, target) ≥ 0``;
    * ``on track``  if ``better_by(actual, planned) ≥ 0``;
    * ``at risk``   if ``better_by(planned, actual) ≤ tolerance``;
    * ``off track`` otherwise.

    ``tolerance`` is an absolute amount in the indicator's unit (≥ 0).

    Examples
    --------
    >>> status_for(57.0, 60.0, 80.0, 3.0, "higher"), status_for(56.0, 60.0, 80.0, 3.0, "higher")
    ('at risk', 'off track')
    >>> status_for(2.0, 4.0, 2.0, 0.3, "lower"), status_for(4.0, 4.0, 2.0, 0.3, "lower")
    ('achieved', 'on track')
    """
    sign = _sign(direction)
    if is_missing(actual) or is_missing(planned):
        return "no data"
    if is_missing(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a number ≥ 0, got {tolerance!r}")
    if sign * (actual - target) >= -_slack(actual, target):
        return "achieved"
    shortfall = sign * (planned - actual)
    if shortfall <= _slack(actual, planned):
        return "on track"
    if shortfall <= tolerance + _slack(actual, planned, tolerance):
        return "at risk"
    return "off track"


def _fit(labels: list[str], values: list[float]) -> tuple[float, float, float] | None:
    """Least squares as ``(slope, mean index, mean value)``, which projects without cancellation."""
    pairs = [(months.index(m), float(v)) for m, v in zip(labels, values, strict=True)
             if not is_missing(v)]
    if len(pairs) < FORECAST_MIN_POINTS:
        return None
    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs], dtype=float)
    x_mean, y_mean = x.mean(), y.mean()
    sxx = float(((x - x_mean) ** 2).sum())
    if sxx == 0:
        raise ValueError("forecast_line needs distinct months")
    slope = float(((x - x_mean) * (y - y_mean)).sum()) / sxx
    return slope, float(x_mean), float(y_mean)


def forecast_line(labels: list[str], values: list[float]) -> tuple[float, float] | None:
    """The least-squares line ``value ≈ slope × months.index(m) + intercept`` through the months
    ``labels`` (``YYYY-MM``) and their ``values``.

    ``slope = Σ(x − x̄)(y − ȳ) ÷ Σ(x − x̄)²`` and ``intercept = ȳ − slope × x̄``, with ``x`` the
    :func:`indicators.months.index` of each month.  Missing values are left out; with fewer than three points
    left the answer is ``None``.  The caller chooses the window (the route uses the last six
    months with data).

    Examples
    --------
    >>> slope, intercept = forecast_line(["2025-01", "2025-02", "2025-03"], [50.0, 52.0, 54.0])
    >>> slope, slope * months.index("2025-06") + intercept
    (2.0, 60.0)
    >>> forecast_line(["2025-01", "2025-02"], [50.0, 52.0]) is None
    True
    """
    fit = _fit(labels, values)
    if fit is None:
        return None
    slope, x_mean, y_mean = fit
    return slope, y_mean - slope * x_mean


# --- inputs ----------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s): {', '.join(missing)}")


def _float_or_nan(value: object) -> float:
    return _NAN if is_missing(value) else float(value)


def _series_by_key(
    indicators: pd.DataFrame, keys: set[tuple[str, str]] | None = None
) -> dict[tuple[str, str], pd.Series]:
    """(indicator, department) → values with data, indexed by month, sorted; only ``keys``'
    when given (the targets' series of a table that holds every indicator)."""
    _require(indicators, _INDICATOR_COLUMNS, "indicator table")
    if keys is not None:
        wanted = pd.MultiIndex.from_tuples(sorted(keys), names=["indicator", "department"])
        pairs = pd.MultiIndex.from_arrays(
            [indicators["indicator"].astype(str), indicators["department"].astype(str)]
        )
        indicators = indicators[pairs.isin(wanted)] if len(wanted) else indicators.iloc[:0]
    frame = pd.DataFrame({
        "indicator": indicators["indicator"].astype(str).to_numpy(),
        "department": indicators["department"].astype(str).to_numpy(),
        "month": indicators["month"].astype(str).to_numpy(),
        "value": pd.to_numeric(indicators["value"]).to_numpy(dtype=float, na_value=np.nan),
    })
    duplicated = frame.duplicated(["indicator", "department", "month"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(
            "indicator table has more than one value for "
            f"{first['indicator']} / {first['department']} / {first['month']}"
        )
    frame = frame[frame["value"].notna()]
    return {
        (str(ind), str(dep)): group.set_index("month")["value"].sort_index()
        for (ind, dep), group in frame.groupby(["indicator", "department"], sort=False)
    }


def _targets(targets: pd.DataFrame) -> list[dict]:
    """Target rows as plain dicts, department ``*`` shown as ``All``, in a stable order."""
    _require(targets, _TARGET_COLUMNS, "targets")
    rows = []
    for rec in targets.to_dict("records"):
        department = str(rec["department"]).strip()
        if department == ALL_DEPARTMENTS_TARGET:
            department = catalog.ALL_DEPARTMENTS
        baseline_month = months.label(months.parse(str(rec["baseline_month"])))
        target_month = months.label(months.parse(str(rec["target_month"])))
        rows.append({
            "indicator": str(rec["indicator"]),
            "department": department,
            "baseline_month": baseline_month,
            "target_month": target_month,
            "target": _float_or_nan(rec["target"]),
            "baseline": _float_or_nan(rec.get("baseline")),
            "tolerance": _float_or_nan(rec.get("tolerance")),
            "shape": _shape(rec.get("shape")),
            "steps": parse_steps(rec.get("steps")),
            "owner": _text_or_none(rec.get("owner")),
        })
    rows.sort(key=lambda r: (r["indicator"], r["department"]))
    keys = [(r["indicator"], r["department"]) for r in rows]
    for a, b in zip(keys, keys[1:], strict=False):
        if a == b:
            raise ValueError(f"more than one target for {a[0]} in {a[1]}")
    return rows


def _text_or_none(value: object) -> str | None:
    """A text cell stripped; None for a missing or empty one."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def _shape(value: object) -> str:
    text = _text_or_none(value)
    if text is None:
        return STRAIGHT
    shape = text.lower()
    if shape not in ROUTE_SHAPES:
        raise ValueError(f"shape must be one of {', '.join(ROUTE_SHAPES)}, got {value!r}")
    return shape


def parse_steps(text: object) -> dict[str, float]:
    """A target's ``steps`` cell (``YYYY-MM=value; …``, as the targets file's rules accept it)
    as month → planned value; empty for a missing cell.

    >>> parse_steps("2025-03=120; 2025-06 = 150.5;")
    {'2025-03': 120.0, '2025-06': 150.5}
    """
    cell = _text_or_none(text)
    if cell is None:
        return {}
    steps: dict[str, float] = {}
    for piece in cell.split(";"):
        if not piece.strip():
            continue
        month, _, value = piece.partition("=")
        steps[months.label(months.parse(month.strip()))] = float(value)
    return dict(sorted(steps.items()))


# --- the planned route's shape ----------------------------------------------------------

STRAIGHT, SEASONAL, STEPS = ROUTE_SHAPES
MULTIPLICATIVE_UNITS: frozenset[str] = frozenset({"count", "money"})
"""Units whose seasonal profile is a ratio to the year's mean (a December with twice the
purchases); every other unit (shares, rates, scores, durations) takes differences."""


def seasonal_profile(indicator: str, history: pd.Series, baseline_month: str
                     ) -> tuple[dict[int, float], str] | None:
    """The indicator's seasonal profile from the 12 months before ``baseline_month``: per
    calendar month (1–12) its index, and how it applies (``"ratio"`` or ``"difference"``);
    None unless all 12 months have a value.

    With ``h(c)`` the value in the calendar month ``c`` of those 12 months and ``h̄`` their mean:
    counts and sums (:data:`MULTIPLICATIVE_UNITS`) take ``s(c) = h(c) ÷ h̄`` when every
    ``h(c) > 0``; other units, or a count with a zero month, take ``s(c) = h(c) − h̄``.
    """
    year = months.span(months.shift(baseline_month, -12), months.shift(baseline_month, -1))
    values = [_float_or_nan(history.get(m)) for m in year]
    if any(math.isnan(v) for v in values):
        return None
    mean = sum(values) / 12
    calendar = [int(m[5:]) for m in year]
    if unit_of(indicator).name in MULTIPLICATIVE_UNITS and min(values) > 0:
        return {c: v / mean for c, v in zip(calendar, values, strict=True)}, "ratio"
    return {c: v - mean for c, v in zip(calendar, values, strict=True)}, "difference"


def _seasonal_planned(plan: dict, month: str, straight: float, k: int) -> float:
    """The straight route bent by the profile, still through the baseline and the target:
    ``planned = straight × s(m) ÷ s_line(m)`` (ratio) or ``straight + s(m) − s_line(m)``
    (difference), with ``s_line(m) = s(b) + (s(t) − s(b)) × k ÷ n`` the profile's own straight
    line between the baseline month ``b`` and the target month ``t``."""
    profile, how = plan["profile"]
    s_b = profile[int(plan["baseline_month"][5:])]
    s_t = profile[int(plan["target_month"][5:])]
    s_m = profile[int(month[5:])]
    line = s_b + (s_t - s_b) * k / plan["n"]
    value = straight * s_m / line if how == "ratio" else straight + s_m - line
    return catalog.clamp(plan["indicator"], value)


def _step_planned(plan: dict, month: str) -> float:
    """The planned value of the latest step at or before ``month`` (the baseline before the
    first step)."""
    value = plan["baseline"]
    for step_month, planned in plan["steps"].items():
        if step_month > month:
            break
        value = planned
    return value


def _resolve_shape(plan: dict, series: pd.Series) -> dict:
    """The shape drawn and why it is not the one asked for (``shape_note``)."""
    asked = plan["shape"]
    if asked == SEASONAL:
        profile = seasonal_profile(plan["indicator"], series, plan["baseline_month"])
        if profile is None:
            first = months.shift(plan["baseline_month"], -12)
            last = months.shift(plan["baseline_month"], -1)
            return {"shape": STRAIGHT, "profile": None, "shape_note": (
                f"seasonal route needs a value in each of the 12 months before the baseline "
                f"({first} … {last}); drawn straight")}
        return {"shape": SEASONAL, "profile": profile, "shape_note": None}
    if asked == STEPS and not plan["steps"]:
        return {"shape": STRAIGHT, "profile": None,
                "shape_note": "no steps given; drawn straight"}
    return {"shape": asked, "profile": None, "shape_note": None}


def first_month_read(target: Mapping[str, object]) -> str:
    """The first month of data a target's route reads (``YYYY-MM``): its baseline month, or the
    12 months before it for a seasonal route's profile."""
    baseline_month = months.label(months.parse(str(target["baseline_month"])))
    if _shape(target.get("shape")) == SEASONAL:
        return months.shift(baseline_month, -12)
    return baseline_month


# --- one target ------------------------------------------------------------------------


def _plan(row: dict, series: pd.Series) -> dict:
    """Everything about one target: resolved baseline and tolerance, direction, why not."""
    indicator, target = row["indicator"], row["target"]
    baseline, tolerance, note = row["baseline"], row["tolerance"], None
    n = months.months_between(row["baseline_month"], row["target_month"])
    try:
        direction = catalog.get(indicator).direction
    except KeyError:
        direction = None
        note = f"unknown indicator {indicator!r}"
    if note is None and n <= 0:
        note = f"target month {row['target_month']} is not after baseline month {row['baseline_month']}"
    if note is None and n > MAX_ROUTE_MONTHS:
        note = f"the route spans {n} months; at most {MAX_ROUTE_MONTHS} are drawn"
    if note is None and math.isnan(target):
        note = "no target value"
    if note is None and math.isnan(baseline):
        baseline = _float_or_nan(series.get(row["baseline_month"]))
        if math.isnan(baseline):
            note = (f"no baseline: none given and no {indicator} measured in "
                    f"{row['baseline_month']}, so the route can't be drawn")
    if note is None and math.isnan(tolerance):
        tolerance = abs(target - baseline) * DEFAULT_TOLERANCE_SHARE
    if note is None and target == baseline:
        note = "target equals the baseline, so the share travelled is undefined"
    if note is None and series.empty:
        note = f"no data for {indicator} in {row['department']}"
    drawable = (
        direction is not None and 0 < n <= MAX_ROUTE_MONTHS and not math.isnan(target + baseline)
    )
    plan = {**row, "baseline": baseline, "tolerance": tolerance, "direction": direction,
            "n": n, "drawable": drawable, "note": note}
    if direction is None:
        return {**plan, "shape": STRAIGHT, "profile": None, "shape_note": None}
    return {**plan, **_resolve_shape(plan, series)}


def _planned(plan: dict, month: str) -> float:
    """The route of the target's shape up to the target month; the target itself after it."""
    if not plan["drawable"]:
        return _NAN
    k = min(months.months_between(plan["baseline_month"], month), plan["n"])
    if k >= plan["n"]:
        return plan["target"]
    straight = plan["baseline"] + (plan["target"] - plan["baseline"]) * k / plan["n"]
    if plan["shape"] == SEASONAL and k > 0:
        return _seasonal_planned(plan, month, straight, k)
    if plan["shape"] == STEPS:
        return _step_planned(plan, month)
    return straight


def _travelled(plan: dict, actual: float) -> float:
    span = plan["target"] - plan["baseline"]
    if not plan["drawable"] or math.isnan(actual) or span == 0:
        return _NAN
    return (actual - plan["baseline"]) / span * 100


def _met(value: float, target: float, sign: int) -> bool:
    """At or better than ``target`` (within the slack)."""
    return sign * (value - target) >= -_slack(value, target)


def _status(plan: dict, month: str, actual: float, planned: float) -> str:
    if not plan["drawable"]:
        return "no data"
    if month > plan["target_month"]:
        if math.isnan(actual):
            return "no data"
        return "achieved" if _met(actual, plan["target"], _sign(plan["direction"])) else "missed"
    return status_for(actual, planned, plan["target"], plan["tolerance"], plan["direction"])


def _horizon(plan: dict) -> str:
    """The last month the route follows: :data:`PAST_DEADLINE_MONTHS` after the target month
    (9999-12 at the latest)."""
    last = months.index(plan["target_month"]) + PAST_DEADLINE_MONTHS
    return months.from_index(min(last, months.LAST_INDEX))


def _met_month(plan: dict, series: pd.Series, sign: int) -> str | None:
    """The first month of the run of met months with data that ends in the target month."""
    met = None
    for month in reversed(list(series.index)):
        if month > plan["target_month"]:
            continue
        if month < plan["baseline_month"] or not _met(float(series[month]), plan["target"], sign):
            break
        met = str(month)
    if met is None or plan["target_month"] not in series.index:
        return None
    return met


def _until(plan: dict, latest: str) -> str:
    """The last month the forecast looks at: :data:`EXPECTED_WITHIN_MONTHS` after the target month
    or the latest month, whichever is later (9999-12 at the latest)."""
    last = months.index(max(plan["target_month"], latest)) + EXPECTED_WITHIN_MONTHS
    return months.from_index(min(last, months.LAST_INDEX))


def _forecast(plan: dict, series: pd.Series, *, project: bool = True) -> dict:
    """Latest month, forecast at the target month with its band and the chance of meeting the
    target there, when the target is expected, pace needed, and the deadline's value and when it
    was met (:mod:`indicators.forecast`)."""
    out = {"latest_month": None, "latest_actual": _NAN, "forecast_at_target": _NAN,
           "forecast_low": _NAN, "forecast_high": _NAN, "forecast_method": None,
           "reach_probability": _NAN, "reached_month": None, "reached_note": NOT_ENOUGH_DATA,
           "pace_needed": _NAN, "deadline_actual": _NAN, "met_month": None, "projection": None}
    if plan["direction"] is None or math.isnan(plan["target"]):
        out["reached_note"] = None
        return out
    horizon = _horizon(plan)
    upto = series[[m <= horizon for m in series.index]]
    if upto.empty:
        return out
    latest, latest_actual = str(upto.index[-1]), float(upto.iloc[-1])
    target, sign, direction = plan["target"], _sign(plan["direction"]), plan["direction"]
    months_left = months.months_between(latest, plan["target_month"])
    out.update(latest_month=latest, latest_actual=latest_actual,
               deadline_actual=_float_or_nan(upto.get(plan["target_month"])),
               met_month=_met_month(plan, upto, sign))
    if months_left > 0:
        out["pace_needed"] = (target - latest_actual) / months_left
    until = _until(plan, latest)
    met = _met(latest_actual, target, sign)
    if not project or (months_left <= 0 and (met or months_left == 0)):
        # Nothing to foresee: at the target month the value itself is the verdict, and after
        # it a met target needs no forecast; only a missed one is told when it may be met.
        out["reached_note"] = (None if not project else ALREADY_ACHIEVED if met
                               else NOT_AFTER_DEADLINE)
        if met and project:
            out["reached_month"] = latest
        return out
    projection = forecast.project(plan["indicator"], upto, until=until)
    if projection is not None:
        out.update(projection=projection, forecast_method=projection.method)
        if months_left >= 0:
            low, high = projection.band_at(plan["target_month"])
            out.update(forecast_at_target=projection.mean_at(plan["target_month"]),
                       forecast_low=low, forecast_high=high)
        if months_left > 0:
            out["reach_probability"] = projection.probability(plan["target_month"], target,
                                                              direction)
    if met:
        out.update(reached_month=latest, reached_note=ALREADY_ACHIEVED)
    elif projection is not None:
        first = projection.first_met(target, direction)
        if first is None:
            out["reached_note"] = NOT_EXPECTED_BY.format(month=until)
        else:
            out.update(reached_month=first, reached_note=EXPECTED_IN.format(month=first))
    return out


def _forecast_values(plan: dict, fc: dict, month: str) -> tuple[float, float, float]:
    """The forecast and its band in ``month``, from the latest month to the target month."""
    latest, projection = fc["latest_month"], fc["projection"]
    if projection is None or latest is None or not latest <= month <= plan["target_month"]:
        return _NAN, _NAN, _NAN
    return (projection.mean_at(month), *projection.band_at(month))


def _note(plan: dict, series: pd.Series) -> str | None:
    """Why something could not be worked out; or that data past the horizon is not followed."""
    if plan["note"] is not None or series.empty or not plan["drawable"]:
        return plan["note"]
    horizon = _horizon(plan)
    if str(series.index[-1]) > horizon:
        return (f"data after {horizon} ({PAST_DEADLINE_MONTHS} months past the target month) is "
                "not followed")
    return None


def _frame(records: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    data = {}
    for c in columns:
        values = [r[c] for r in records]
        if c in _NULLABLE_TEXT_COLUMNS:
            data[c] = pd.Series(values, dtype=object)
        elif c in _TEXT_COLUMNS:
            data[c] = pd.Series(values, dtype="str")
        else:
            data[c] = pd.Series(values, dtype="float64")
    return pd.DataFrame(data)


def _resolved(
    targets: pd.DataFrame, indicators: pd.DataFrame, *, forecast: bool = True
) -> Iterator[tuple[dict, pd.Series, dict]]:
    """Per target, in output order: its plan, its values with data by month, its forecast."""
    rows = _targets(targets)
    by_key = _series_by_key(indicators, {(r["indicator"], r["department"]) for r in rows})
    for row in rows:
        series = by_key.get((row["indicator"], row["department"]), pd.Series(dtype=float))
        plan = _plan(row, series)
        yield plan, series, _forecast(plan, series, project=forecast)


# --- public tables ---------------------------------------------------------------------


def route_table(targets: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per target and month from its baseline month to its target month, or on to its
    latest month when there is data after the target month.

    Columns: ``indicator``, ``department`` (``*`` becomes ``All``), ``month``, ``actual``,
    ``planned``, ``travelled``, ``remaining``, ``status`` (one of :data:`STATUSES`) and
    ``forecast``: the forecast line's value from the latest month with data to the target month
    (clamped to the indicator's bounds; missing elsewhere, and when there is no forecast), for
    drawing it beside the route.  Formulas in the module docstring.  A target whose target month
    is not after its baseline month, or whose route spans more than
    :data:`schema.MAX_ROUTE_MONTHS`, has no rows (:func:`route_summary` says why); the months
    after the target month are at most :data:`PAST_DEADLINE_MONTHS`.
    """
    return route_tables(targets, indicators)[0]


def route_summary(targets: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per target: where it stands at the latest month with data, and the forecast.

    Columns: ``indicator``, ``department`` (``*`` becomes ``All``), ``baseline_month``,
    ``baseline`` (resolved), ``target_month``, ``target``, ``tolerance`` (resolved),
    ``latest_month`` (latest month with data, before or after the target month, else ``None``),
    ``latest_actual``, ``planned_at_latest`` (the target itself after the target month),
    ``status`` / ``travelled`` / ``remaining`` at the latest month (``no data`` / missing when it
    is not within the route; after the target month the status is ``achieved`` or ``missed``),
    ``forecast_at_target`` with its 80 % band ``forecast_low`` … ``forecast_high`` (clamped to
    the indicator's bounds; given only while the target month is ahead of the latest month),
    ``forecast_method`` (``seasonal`` or ``least squares``: :mod:`indicators.forecast`),
    ``reach_probability`` (0–1, of meeting the target in the target month; while it is ahead),
    ``reached_month`` (``YYYY-MM`` or ``None``), ``reached_note`` (``expected in YYYY-MM``,
    ``not expected by YYYY-MM`` — :data:`EXPECTED_WITHIN_MONTHS` after the target month or the
    latest month —, ``already achieved``, ``measured at the target month: no forecast`` (at the
    target month, not met) or ``not enough data for a forecast``), ``shape``, ``shape_note``
    (why a seasonal or steps route is drawn straight), ``owner``, ``pace_needed`` (change per month from the latest month to reach the
    target on time; missing unless the target month is still ahead of the latest month),
    ``deadline_actual`` (the value in the target month), ``met_month`` (see the module
    docstring) and ``note`` (why something could not be worked out, else ``None``).

    The forecast and the pace needed do not depend on the baseline, so they are given even when
    the route can't be drawn.
    """
    return route_tables(targets, indicators)[1]


def route_tables(
    targets: pd.DataFrame, indicators: pd.DataFrame, *, forecast: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(route_table(…), route_summary(…))`` from one pass: each target's forecast is worked out
    once for both (the seasonal model's fit is the costly part).  ``forecast=False`` leaves the
    forecast out (its columns missing, ``reached_note`` None) for a reader that shows only
    where targets stand (the scorecard's status strip): the rest is the same."""
    rows, summaries = [], []
    for plan, series, fc in _resolved(targets, indicators, forecast=forecast):
        rows += _month_records(plan, series, fc)
        summaries.append(_summary_record(plan, series, fc))
    return _frame(rows, ROUTE_COLUMNS), _frame(summaries, SUMMARY_COLUMNS)


def _month_records(plan: dict, series: pd.Series, fc: dict) -> list[dict]:
    if not 0 < plan["n"] <= MAX_ROUTE_MONTHS:
        return []
    records = []
    last = max(plan["target_month"], fc["latest_month"] or plan["target_month"])
    for month in months.span(plan["baseline_month"], last):
        actual = _float_or_nan(series.get(month))
        planned = _planned(plan, month)
        travelled = _travelled(plan, actual)
        mean, low, high = _forecast_values(plan, fc, month)
        records.append({
            "indicator": plan["indicator"], "department": plan["department"], "month": month,
            "actual": actual, "planned": planned, "travelled": travelled,
            "remaining": 100 - travelled, "status": _status(plan, month, actual, planned),
            "forecast": mean, "forecast_low": low, "forecast_high": high,
        })
    return records


def _summary_record(plan: dict, series: pd.Series, fc: dict) -> dict:
    latest = fc["latest_month"]
    in_route = latest is not None and latest >= plan["baseline_month"]
    planned = _planned(plan, latest) if in_route else _NAN
    travelled = _travelled(plan, fc["latest_actual"]) if in_route else _NAN
    return {
        **{c: plan[c] for c in ("indicator", "department", "baseline_month", "baseline",
                                "target_month", "target", "tolerance")},
        **{c: fc[c] for c in ("latest_month", "latest_actual", "forecast_at_target",
                              "forecast_low", "forecast_high", "forecast_method",
                              "reach_probability", "reached_month", "reached_note",
                              "pace_needed",
                              "deadline_actual", "met_month")},
        "planned_at_latest": planned,
        "status": _status(plan, latest, fc["latest_actual"], planned)
        if in_route else "no data",
        "travelled": travelled,
        "remaining": 100 - travelled,
        "note": _note(plan, series),
        "shape": plan["shape"],
        "shape_note": plan["shape_note"],
        "owner": plan["owner"],
    }
