"""Plotly figures for the dashboard: pure functions, DataFrame in, ``go.Figure`` out.

No Streamlit here.  Colours are left to the caller's theme (Streamlit's Plotly theme follows
``.streamlit/config.toml``) except where a colour carries meaning: the chosen department
against *All*, the planned route against the actual one, the promise line.  Labels, units and
directions come from :mod:`indicators.catalog` only.  Every user-supplied string (department
names, months, titles) enters a figure through :func:`plotly_text`, so Plotly's pseudo-HTML in
the data (``<a href=…>``, ``<b>``, ``<span style=…>`` …) is drawn as the characters typed.

Inputs follow the engine's tables:

* the indicator long table — ``month`` (``YYYY-MM``), ``department``, ``indicator``, ``value``
  (NaN = missing);
* the complaint mix — ``month``, ``department``, ``component``, ``complaints``, ``share``;
* the response-time histogram — ``bin_start``, ``bin_end``, ``requests``;
* the route table — ``month``, ``actual``, ``planned`` … and one row of the route summary.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"month": ["2025-01", "2025-02"] * 2,
...                   "department": ["North", "North", "All", "All"],
...                   "indicator": ["revenue"] * 4, "value": [1.0, 2.0, 3.0, 4.0]})
>>> [tr.name for tr in make_trend_figure(t, "revenue", "North").data]
['North', 'All']
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from indicators import catalog

ALL_COLOUR = "#8a94a3"
"""All departments together: a quiet grey reference beside the chosen department."""
HIGHLIGHT_COLOUR = "#1f5fa8"
PLANNED_COLOUR = "#8a94a3"
FORECAST_COLOUR = "#e07b39"
TARGET_COLOUR = "#3a9d5d"
PROMISE_COLOUR = "#c2413b"

COMPONENT_COLOURS: dict[str, str] = {
    "product": "#1f5fa8",
    "procedures": "#e07b39",
    "facilities": "#3a9d5d",
    "systems": "#7b5ea7",
    "information": "#d4a017",
    "people": "#c2413b",
    catalog.UNCLASSIFIED: "#b8bfc9",
}

_HOVER_FORMAT: dict[str, str] = {
    "count": ",.0f",
    "money": ",.2f",
    "%": ".1f",
    "per 100": ".1f",
    "points": ".1f",
    "minutes": ",.1f",
    "hours": ",.1f",
}
_UNIT_SUFFIX: dict[str, str] = {
    "%": " %",
    "per 100": " per 100",
    "points": " pts",
    "minutes": " min",
    "hours": " h",
}

IMAGE_EXPORT_CONFIG: dict[str, object] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "service-dashboard"},
}
"""Plotly ``config`` for every chart: the modebar camera saves a sharp PNG."""


def plotly_text(text: str) -> str:
    """``text`` drawn by Plotly as typed, never as its pseudo-HTML.

    Plotly turns ``<a href=…>``, ``<b>``, ``<i>``, ``<span style=…>``, ``<sub>``, ``<sup>`` and
    ``<br>`` in a trace name, category, hover, title or annotation into links and styled text,
    and decodes entities in the text between tags.  Escaping ``&``, ``<`` and ``>`` (and nothing
    else: Plotly knows ``&lt;``, ``&gt;`` and ``&amp;`` but not ``&quot;``) leaves only text, which
    it shows with the characters restored.  Every user-supplied string put into a figure goes
    through here; compare data with the raw value, before escaping.

    >>> plotly_text('<b>North</b> & co')
    '&lt;b&gt;North&lt;/b&gt; &amp; co'
    """
    return html.escape(text, quote=False)


def image_config(filename: str) -> dict[str, object]:
    """``IMAGE_EXPORT_CONFIG`` with the saved image named after the chart."""
    options = dict(IMAGE_EXPORT_CONFIG["toImageButtonOptions"])  # type: ignore[arg-type]
    options["filename"] = _slug(filename)
    return {**IMAGE_EXPORT_CONFIG, "toImageButtonOptions": options}


def axis_title(indicator_id: str) -> str:
    """The unit as an axis title, e.g. ``"%"`` or ``"minutes"``."""
    return catalog.get(indicator_id).unit


def hover_format(indicator_id: str) -> str:
    """A d3 number format fit for the indicator's unit."""
    return _HOVER_FORMAT.get(catalog.get(indicator_id).unit, ",.2f")


def _suffix(indicator_id: str) -> str:
    return _UNIT_SUFFIX.get(catalog.get(indicator_id).unit, "")


def _slug(text: str) -> str:
    keep = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part) or "chart"


def month_dates(months: list[str]) -> list[str]:
    """``YYYY-MM`` as the first day of the month, so Plotly draws a readable date axis."""
    return [f"{m}-01" for m in months]


def _month_axis(fig: go.Figure) -> None:
    # A date axis picks a few horizontal ticks ("Jan 2025"); a category axis of 24 months
    # would print every label rotated.
    fig.update_xaxes(type="date", tickformat="%b\n%Y", hoverformat="%b %Y", title_text=None)


def _base_layout(fig: go.Figure, *, title: str | None, y_title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": plotly_text(title), "y": 0.98, "yanchor": "top"} if title else None,
        height=height,
        # Room above the plot for the title and, under it, the horizontal legend.
        margin={"l": 10, "r": 10, "t": 80 if title else 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        hovermode="x unified",
    )
    fig.update_yaxes(title_text=y_title, rangemode="tozero" if y_title == "count" else "normal")
    return fig


def _series(table: pd.DataFrame, indicator_id: str, department: str) -> pd.DataFrame:
    rows = table[(table["indicator"] == indicator_id) & (table["department"] == department)]
    return rows.sort_values("month")[["month", "value"]]


def make_trend_figure(
    table: pd.DataFrame,
    indicator_id: str,
    department: str,
    *,
    target: float | None = None,
    target_month: str | None = None,
    title: str | None = "",
    height: int = 300,
) -> go.Figure:
    """One indicator over the months: the chosen department, *All* for reference, the target.

    Missing months stay gaps (``connectgaps=False``): a missing ratio is not a zero.
    ``title`` defaults to the catalog label; ``None`` leaves the figure untitled.
    """
    ind = catalog.get(indicator_id)
    fig = go.Figure()
    template = f"%{{y:{hover_format(indicator_id)}}}{_suffix(indicator_id)}"
    names = [department] if department == catalog.ALL_DEPARTMENTS else [department, catalog.ALL_DEPARTMENTS]
    for name in names:
        rows = _series(table, indicator_id, name)
        is_all = name == catalog.ALL_DEPARTMENTS and department != catalog.ALL_DEPARTMENTS
        fig.add_trace(
            go.Scatter(
                x=month_dates(rows["month"].tolist()),
                y=rows["value"].tolist(),
                name=plotly_text(name),
                mode="lines+markers",
                connectgaps=False,
                line={"color": ALL_COLOUR if is_all else HIGHLIGHT_COLOUR,
                      "dash": "dot" if is_all else "solid", "width": 2 if is_all else 3},
                hovertemplate=template,
            )
        )
    if target is not None and not _is_missing(target):
        label = f"Target {target:{hover_format(indicator_id)}}{_suffix(indicator_id)}"
        if target_month:
            label += f" by {plotly_text(target_month)}"
        fig.add_hline(
            y=target,
            line={"color": TARGET_COLOUR, "dash": "dash", "width": 2},
            annotation_text=label,
            annotation_position="top left",
            annotation_font_color=TARGET_COLOUR,
        )
    _month_axis(fig)
    return _base_layout(
        fig, title=ind.label if title == "" else title, y_title=axis_title(indicator_id),
        height=height,
    )


def make_ranking_figure(
    table: pd.DataFrame,
    indicator_id: str,
    month: str,
    *,
    highlight: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Departments side by side for one month, best at the top, *All* as a reference line.

    "Best" follows the catalog direction; departments with a missing value are listed last
    with no bar, so a missing ratio never looks like a zero.
    """
    ind = catalog.get(indicator_id)
    rows = table[
        (table["indicator"] == indicator_id)
        & (table["month"] == month)
        & (table["department"] != catalog.ALL_DEPARTMENTS)
    ][["department", "value"]]
    rows = rows.sort_values(
        "value", ascending=not ind.higher_is_better, na_position="last", kind="stable"
    )
    # Plotly draws the first category at the bottom of a horizontal bar chart.
    rows = rows.iloc[::-1]
    colours = [
        HIGHLIGHT_COLOUR if d == highlight else "#9db7d5" for d in rows["department"].tolist()
    ]
    fmt = hover_format(indicator_id)
    # Bar labels carry the number only (the axis names the unit), so they stay short.
    labels = ["—" if _is_missing(v) else f"{v:{fmt}}" for v in rows["value"].tolist()]
    fig = go.Figure(
        go.Bar(
            x=rows["value"].tolist(),
            # The categories themselves are escaped: the axis and %{y} in the hover show them.
            y=[plotly_text(d) for d in rows["department"].tolist()],
            orientation="h",
            marker_color=colours,
            text=labels,
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}: %{{x:{fmt}}}{_suffix(indicator_id)}<extra></extra>",
            name=plotly_text(month),
        )
    )
    all_rows = _series(table, indicator_id, catalog.ALL_DEPARTMENTS)
    all_value = all_rows.loc[all_rows["month"] == month, "value"]
    if len(all_value) and not _is_missing(all_value.iloc[0]):
        fig.add_vline(
            x=float(all_value.iloc[0]),
            line={"color": ALL_COLOUR, "dash": "dot", "width": 2},
            annotation_text="All",
            annotation_position="bottom right",
        )
    fig.update_yaxes(type="category", title_text=None, automargin=True)
    fig.update_xaxes(title_text=axis_title(indicator_id))
    fig.update_layout(
        title={"text": plotly_text(f"{month}, best first"), "font": {"size": 14}},
        height=height or max(220, 90 + 34 * len(rows)),
        margin={"l": 10, "r": 60, "t": 40, "b": 10},
        showlegend=False,
    )
    return fig


def make_complaint_mix_figure(
    mix: pd.DataFrame, department: str, *, height: int = 340
) -> go.Figure:
    """Complaints per month stacked by the six service components (and unclassified)."""
    rows = mix[mix["department"] == department]
    months = sorted(rows["month"].unique().tolist())
    fig = go.Figure()
    for component in (*catalog.SERVICE_COMPONENTS, catalog.UNCLASSIFIED):
        part = rows[rows["component"] == component].set_index("month")
        if part.empty or float(part["complaints"].sum()) == 0:
            continue
        counts = part["complaints"].reindex(months, fill_value=0)
        shares = part["share"].reindex(months)
        fig.add_trace(
            go.Bar(
                x=month_dates(months),
                y=counts.tolist(),
                name=plotly_text(component.capitalize()),
                marker_color=COMPONENT_COLOURS.get(component),
                customdata=shares.tolist(),
                hovertemplate="%{y:,.0f} complaints (%{customdata:.1f} %)",
            )
        )
    fig.update_layout(barmode="stack")
    _month_axis(fig)
    return _base_layout(
        fig, title="Complaints by service component", y_title="count", height=height
    )


def make_response_histogram_figure(
    hist: pd.DataFrame,
    promise_minutes: float | None,
    *,
    title: str = "Response times against the promise",
    height: int = 320,
) -> go.Figure:
    """How long requests waited, in bins, with the promised response time marked.

    Bars within the promise are drawn in the theme colour, bars beyond it in the promise red,
    so the share kept is visible before reading any number.
    """
    starts = hist["bin_start"].astype(float).tolist()
    ends = hist["bin_end"].astype(float).tolist()
    widths = [e - s for s, e in zip(starts, ends, strict=True)]
    centres = [s + w / 2 for s, w in zip(starts, widths, strict=True)]
    kept = [
        promise_minutes is None or e <= promise_minutes for e in ends
    ]
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=hist["requests"].tolist(),
            width=widths,
            marker_color=[HIGHLIGHT_COLOUR if k else PROMISE_COLOUR for k in kept],
            customdata=list(zip(starts, ends, strict=True)),
            hovertemplate="%{customdata[0]:,.0f}–%{customdata[1]:,.0f} min: %{y:,.0f} requests"
            "<extra></extra>",
            name="requests",
        )
    )
    if promise_minutes is not None and not _is_missing(promise_minutes):
        fig.add_vline(
            x=float(promise_minutes),
            line={"color": PROMISE_COLOUR, "dash": "dash", "width": 2},
            annotation_text=f"Promise {promise_minutes:,.0f} min",
            annotation_position="top right",
            annotation_font_color=PROMISE_COLOUR,
        )
    fig.update_xaxes(title_text="minutes from request to response")
    fig.update_layout(bargap=0.05, showlegend=False, hovermode="closest")
    return _base_layout(fig, title=title, y_title="requests", height=height)


def make_route_figure(
    route: pd.DataFrame,
    summary: Mapping[str, object],
    *,
    height: int = 320,
) -> go.Figure:
    """The route to one target: planned straight line, actual path, forecast, target marker.

    ``route`` holds one target's rows of the route table (``month``, ``planned``, ``actual``);
    ``summary`` is that target's row of the route summary (``indicator``, ``target``,
    ``target_month``, ``latest_month``, ``latest_actual``, ``forecast_at_target``).
    """
    indicator_id = str(summary["indicator"])
    fmt = hover_format(indicator_id)
    suffix = _suffix(indicator_id)
    rows = route.sort_values("month")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=month_dates(rows["month"].tolist()),
            y=rows["planned"].tolist(),
            name="Planned route",
            mode="lines",
            line={"color": PLANNED_COLOUR, "dash": "dash", "width": 2},
            hovertemplate=f"planned %{{y:{fmt}}}{suffix}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=month_dates(rows["month"].tolist()),
            y=rows["actual"].tolist(),
            name="Actual",
            mode="lines+markers",
            connectgaps=False,
            line={"color": HIGHLIGHT_COLOUR, "width": 3},
            hovertemplate=f"actual %{{y:{fmt}}}{suffix}",
        )
    )
    forecast = _forecast_points(rows, summary)
    if forecast is not None:
        months, values = forecast
        fig.add_trace(
            go.Scatter(
                x=month_dates(months),
                y=values,
                name="Forecast at current pace",
                mode="lines",
                line={"color": FORECAST_COLOUR, "dash": "dot", "width": 2},
                hovertemplate=f"forecast %{{y:{fmt}}}{suffix}",
            )
        )
    target_month = str(summary["target_month"])
    target = float(summary["target"])  # type: ignore[arg-type]
    fig.add_trace(
        go.Scatter(
            x=month_dates([target_month]),
            y=[target],
            name="Target",
            mode="markers+text",
            marker={"symbol": "star", "size": 16, "color": TARGET_COLOUR},
            text=[f"Target {target:{fmt}}{suffix}"],
            # The target month is the right edge of the chart: keep the label inside it.
            textposition="top left",
            hovertemplate=f"target %{{y:{fmt}}}{suffix}",
        )
    )
    _month_axis(fig)
    return _base_layout(fig, title=None, y_title=axis_title(indicator_id), height=height)


def _forecast_points(
    rows: pd.DataFrame, summary: Mapping[str, object]
) -> tuple[list[str], list[float]] | None:
    """The forecast line from the latest month with data to the target month, if any.

    Uses the route table's ``forecast`` column when it has one; otherwise the straight segment
    from the summary's latest actual to its ``forecast_at_target``.
    """
    if "forecast" in rows.columns:
        line = rows[rows["forecast"].notna()]
        if len(line) >= 2:
            return line["month"].tolist(), line["forecast"].astype(float).tolist()
    latest_month, latest_actual = summary.get("latest_month"), summary.get("latest_actual")
    forecast, target_month = summary.get("forecast_at_target"), str(summary["target_month"])
    if (
        isinstance(latest_month, str)
        and latest_month < target_month
        and not _is_missing(latest_actual)
        and not _is_missing(forecast)
    ):
        return [latest_month, target_month], [float(latest_actual), float(forecast)]  # type: ignore[arg-type]
    return None


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
