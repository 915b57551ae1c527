"""The scorecard rows for one month and department (pure: DataFrames in, DataFrame out).

One row per catalog indicator, in catalog order: its value in the month, the value the month
before, both written for the unit, its last 12 months for a sparkline, and — where a target
for that indicator and department exists — the target and the route status of that month.
A missing value stays missing (NaN and ``—``), never 0.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"month": ["2025-01", "2025-02"], "department": ["All", "All"],
...                   "indicator": ["revenue", "revenue"], "value": [10.0, 10 + 20.5]})
>>> row = scorecard(t, "All", "2025-02").set_index("indicator").loc["revenue"]
>>> row["value_text"], row["delta_text"]
('30.50', '+20.50')
"""

from __future__ import annotations

import pandas as pd

from dashboard.format import format_delta, format_value, is_missing
from indicators import catalog

TREND_MONTHS = 12

SCORECARD_COLUMNS: tuple[str, ...] = (
    "family", "indicator", "label", "unit", "direction", "month", "value", "previous",
    "value_text", "delta_text", "target", "target_month", "status", "trend",
)


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


def scorecard(
    table: pd.DataFrame,
    department: str,
    month: str,
    *,
    targets: pd.DataFrame | None = None,
    route: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Scorecard rows (:data:`SCORECARD_COLUMNS`) for ``department`` in ``month``.

    ``targets`` is the route summary (``indicator``, ``department`` with ``All`` for ``*``,
    ``target``, ``target_month``); ``route`` the route table (``indicator``, ``department``,
    ``month``, ``status``).  The status is the route's status in ``month``; outside the route's
    months it is missing.
    """
    rows = table[table["department"] == department]
    months = sorted(rows["month"].unique().tolist())
    before = previous_month(months, month)
    window = [m for m in months if m <= month][-TREND_MONTHS:]
    records = []
    for ind in catalog.INDICATORS:
        series = rows[rows["indicator"] == ind.id].set_index("month")["value"]
        value = float(series.get(month, float("nan")))
        previous = float(series.get(before, float("nan"))) if before else float("nan")
        target, target_month, status = _target(ind.id, department, month, targets, route)
        records.append({
            "family": ind.family,
            "indicator": ind.id,
            "label": ind.label,
            "unit": ind.unit,
            "direction": ind.direction,
            "month": month,
            "value": value,
            "previous": previous,
            "value_text": format_value(value, ind.unit),
            "delta_text": format_delta(previous, value, ind.unit),
            "target": target,
            "target_month": target_month,
            "status": status,
            "trend": [None if is_missing(v) else float(v) for v in series.reindex(window)],
        })
    return pd.DataFrame.from_records(records, columns=list(SCORECARD_COLUMNS))


def _target(
    indicator_id: str,
    department: str,
    month: str,
    targets: pd.DataFrame | None,
    route: pd.DataFrame | None,
) -> tuple[float, str | None, str | None]:
    if targets is None or targets.empty:
        return float("nan"), None, None
    hit = targets[(targets["indicator"] == indicator_id) & (targets["department"] == department)]
    if hit.empty:
        return float("nan"), None, None
    target, target_month = float(hit["target"].iloc[0]), str(hit["target_month"].iloc[0])
    status = None
    if route is not None and not route.empty:
        at = route[
            (route["indicator"] == indicator_id)
            & (route["department"] == department)
            & (route["month"] == month)
        ]
        if len(at):
            status = str(at["status"].iloc[0])
    return target, target_month, status


def iceberg_sentence(complaints: float, dissatisfied: float) -> str:
    """The iceberg in words: ``38 complaints → about 380 dissatisfied customers``."""
    if is_missing(complaints):
        return "No complaint data for this month."
    n = int(round(float(complaints)))
    noun = "complaint" if n == 1 else "complaints"
    if is_missing(dissatisfied):
        return f"{n:,} {noun}"
    return f"{n:,} {noun} → about {float(dissatisfied):,.0f} dissatisfied customers"


def export_frame(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as a plain table for CSV: no sparkline lists, readable column names."""
    out = card.drop(columns=["trend", "value_text", "delta_text"])
    return out.rename(columns={"previous": "previous_month_value"})
