"""Plotly figures for the dashboard: pure functions, DataFrame in, ``go.Figure`` out.

No Streamlit here.  Colours are left to the caller's theme (Streamlit's Plotly theme follows
``.streamlit/config.toml``) except where a colour carries meaning: the chosen department
against *All*, the planned route against the actual one, the promise line.  Labels, units and
directions come from :mod:`indicators.catalog` only.  Every user-supplied string (department
names, months, titles) enters a figure through :func:`plotly_text`, so Plotly's pseudo-HTML in
the data (``<a href=…>``, ``<b>``, ``<span style=…>`` …) is drawn as the characters typed.

Numbers are written as on the cards (:mod:`indicators.units`): hover and bar labels value by
value, with their month (``2025-06: 74.9 %``); an axis of durations in one unit chosen by the
drawn values' median (``hours``), an axis of money with the currency as tick prefix or suffix.
The currency is an argument (``currency=``, default none): the engine never reads the
dashboard's state.

Inputs follow the engine's tables:

* the indicator long table — ``month`` (``YYYY-MM``), ``department``, ``indicator``, ``value``
  (NaN = missing);
* the complaint mix — ``month``, ``department``, ``component``, ``complaints``, ``share``;
* the response-time histogram — ``bin_start``, ``bin_end``, ``requests``, ``kept``,
  ``not_kept`` (:func:`indicators.compute.response_times_by_promise`);
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from indicators import catalog, units
from indicators import months as _months
from indicators.units import NO_CURRENCY, AxisFormat, Currency, is_missing

ALL_COLOUR = "#8a94a3"
"""All departments together: a quiet grey reference beside the chosen department."""
HIGHLIGHT_COLOUR = "#1f5fa8"
PLANNED_COLOUR = "#8a94a3"
FORECAST_COLOUR = "#e07b39"
TARGET_COLOUR = "#3a9d5d"
BAND_FILL = "rgba(224, 123, 57, 0.18)"
"""The forecast's 80 % band: the forecast colour, faint."""
NOTE_COLOUR = "#5b6472"
CHECKIN_COLOUR = "#7b5ea7"
PROMISE_COLOUR = "#c2413b"
UNUSUAL_COLOUR = "#e07b39"
"""An unusual value (:mod:`indicators.unusual`): the scorecard's halo colour."""

COMPONENT_COLOURS: dict[str, str] = {
    "product": "#1f5fa8",
    "procedures": "#e07b39",
    "facilities": "#3a9d5d",
    "systems": "#7b5ea7",
    "information": "#d4a017",
    "people": "#c2413b",
    catalog.UNCLASSIFIED: "#b8bfc9",
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
    """The unit's name as an axis title, e.g. ``"%"`` or ``"minutes"``."""
    return units.unit_of(indicator_id).name


def _slug(text: str) -> str:
    keep = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part) or "chart"


def month_dates(labels: list[str]) -> list[str]:
    """``YYYY-MM`` as the first day of the month, so Plotly draws a readable date axis.

    >>> month_dates(["2025-12", "2026-01"])
    ['2025-12-01', '2026-01-01']
    """
    return [_months.parse(m).isoformat() for m in labels]


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


def _legend_below(fig: go.Figure) -> go.Figure:
    """The legend under the plot: a legend of many names wraps on a phone and, above the plot,
    would cover the title."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
                      margin={"t": 50})
    return fig


def _series(table: pd.DataFrame, indicator_id: str, department: str) -> pd.DataFrame:
    rows = table[(table["indicator"] == indicator_id) & (table["department"] == department)]
    return rows.sort_values("month")[["month", "value"]]


@dataclass(frozen=True)
class ValueAxis(AxisFormat):
    """How one indicator's values are drawn on an axis: plotted = value ÷ ``factor``.

    The unit chooses (:meth:`indicators.units.Unit.axis`): durations are drawn in one unit for
    the whole axis (the drawn values' median: ``hours`` for a median of 5 h); money carries the
    currency as a tick prefix (the symbol) or suffix (the code).  Hover and bar labels are
    written value by value by :func:`value_text`, the same text as the cards.
    """

    def plotted(self, values: list[float]) -> list[float]:
        return [float("nan") if is_missing(v) else float(v) / self.factor for v in values]

    def apply(self, axis: Callable[..., object]) -> None:
        """Title and tick prefix/suffix on ``fig.update_yaxes`` or ``fig.update_xaxes``."""
        axis(title_text=self.title, tickprefix=plotly_text(self.prefix),
             ticksuffix=plotly_text(self.suffix))


def value_axis(
    indicator_id: str, values: Iterable[float], *, currency: Currency = NO_CURRENCY
) -> ValueAxis:
    """The axis for ``indicator_id`` drawn over ``values`` (see :class:`ValueAxis`)."""
    axis = units.unit_of(indicator_id).axis(values, currency=currency)
    return ValueAxis(axis.title, axis.factor, axis.prefix, axis.suffix)


def value_text(value: object, indicator_id: str, *, currency: Currency = NO_CURRENCY) -> str:
    """One value as people read it (hover, bar labels): :meth:`indicators.units.Unit.hover`."""
    return units.unit_of(indicator_id).hover(value, currency=currency)


def make_trend_figure(
    table: pd.DataFrame,
    indicator_id: str,
    department: str,
    *,
    target: float | None = None,
    target_month: str | None = None,
    title: str | None = "",
    height: int = 300,
    currency: Currency = NO_CURRENCY,
    notes: Sequence[tuple[str, str]] = (),
    unusual: Sequence[tuple[str, str]] = (),
) -> go.Figure:
    """One indicator over the months: the chosen department, *All* for reference, the target.

    Missing months stay gaps (``connectgaps=False``): a missing ratio is not a zero.
    ``title`` defaults to the catalog label; ``None`` leaves the figure untitled.  The hover
    reads ``2025-06: 74.9 %`` (the value rounded as on the cards, with its month).  ``notes``
    (``(month, text)``: event notes) are drawn as markers on the department's line, with a
    faint vertical line, and read on hover.  ``unusual`` (``(month, reason)``: the department's
    unusual values, :mod:`indicators.unusual`) are orange diamonds on its line, the reason on
    hover.
    """
    ind = catalog.get(indicator_id)
    fig = go.Figure()
    names = [department] if department == catalog.ALL_DEPARTMENTS else [department, catalog.ALL_DEPARTMENTS]
    series = {name: _series(table, indicator_id, name) for name in names}
    drawn = [v for rows in series.values() for v in rows["value"].tolist()]
    if target is not None and not is_missing(target):
        drawn.append(target)
    axis = value_axis(indicator_id, drawn, currency=currency)
    for name in names:
        rows = series[name]
        months, values = rows["month"].tolist(), rows["value"].tolist()
        is_all = name == catalog.ALL_DEPARTMENTS and department != catalog.ALL_DEPARTMENTS
        fig.add_trace(
            go.Scatter(
                x=month_dates(months),
                y=axis.plotted(values),
                name=plotly_text(name),
                mode="lines+markers",
                connectgaps=False,
                line={"color": ALL_COLOUR if is_all else HIGHLIGHT_COLOUR,
                      "dash": "dot" if is_all else "solid", "width": 2 if is_all else 3},
                customdata=[
                    plotly_text(f"{m}: {value_text(v, indicator_id, currency=currency)}")
                    for m, v in zip(months, values, strict=True)
                ],
                hovertemplate="%{customdata}",
            )
        )
    if target is not None and not is_missing(target):
        label = f"Target {value_text(target, indicator_id, currency=currency)}"
        if target_month:
            label += f" by {target_month}"
        fig.add_hline(
            y=float(target) / axis.factor,
            line={"color": TARGET_COLOUR, "dash": "dash", "width": 2},
            annotation_text=plotly_text(label),
            annotation_position="top left",
            annotation_font_color=TARGET_COLOUR,
        )
    chosen = dict(zip(series[department]["month"], series[department]["value"], strict=True))
    add_marks(fig, notes, name="Notes", symbol="triangle-up", colour=NOTE_COLOUR,
              at=lambda m: chosen.get(m), fallback=drawn, axis=axis)
    add_marks(fig, [(m, f"unusual: {reason}") for m, reason in unusual], name="Unusual",
              symbol="diamond", colour=UNUSUAL_COLOUR, at=lambda m: chosen.get(m),
              fallback=drawn, axis=axis, size=12, lines=False)
    _month_axis(fig)
    _base_layout(fig, title=ind.label if title == "" else title, y_title=axis.title, height=height)
    axis.apply(fig.update_yaxes)
    return fig


UNRANKED_COLOUR = "#d0d5dc"
"""A department listed but not ranked (fewer rows in the month than the minimum volume)."""
RANKED_COLOUR = "#9db7d5"


def make_ranking_figure(
    table: pd.DataFrame,
    indicator_id: str,
    month: str,
    *,
    highlight: str | None = None,
    height: int | None = None,
    currency: Currency = NO_CURRENCY,
    volumes: Mapping[str, int] | None = None,
    min_volume: int = 0,
) -> go.Figure:
    """Departments side by side for one month, best at the top, *All* as a reference line.

    "Best" follows the catalog direction; departments with a missing value are listed last
    with no bar, so a missing ratio never looks like a zero.  With ``volumes`` (rows behind
    each department's value, :func:`indicators.compute.indicator_volumes`), a department with
    fewer than ``min_volume`` is not ranked: drawn after the ranked ones, greyed, its label
    flagged ``n = 4``.  Bar labels and hover are the values as on the cards; the hover names
    the department and the month: ``North, 2025-06: 74.9 % (n = 120)``.
    """
    ind = catalog.get(indicator_id)
    rows = table[
        (table["indicator"] == indicator_id)
        & (table["month"] == month)
        & (table["department"] != catalog.ALL_DEPARTMENTS)
    ][["department", "value"]]
    small = (
        rows["department"].map(lambda d: volumes.get(d, 0) < min_volume)
        if volumes is not None else pd.Series(False, index=rows.index)
    )
    rows = rows.assign(_small=small.astype("bool")).sort_values(
        ["_small", "value"], ascending=[True, not ind.higher_is_better], na_position="last",
        kind="stable",
    )
    # Missing values last of all, even after the departments too small to rank.
    rows = pd.concat([rows[rows["value"].notna()], rows[rows["value"].isna()]])
    # Plotly draws the first category at the bottom of a horizontal bar chart.
    rows = rows.iloc[::-1]
    departments, values = rows["department"].tolist(), rows["value"].tolist()
    flags = rows["_small"].tolist()
    colours = [
        HIGHLIGHT_COLOUR if d == highlight else UNRANKED_COLOUR if f else RANKED_COLOUR
        for d, f in zip(departments, flags, strict=True)
    ]
    axis = value_axis(indicator_id, values, currency=currency)
    texts = [value_text(v, indicator_id, currency=currency) for v in values]

    def n(d: str) -> str:
        return "" if volumes is None else f"n = {volumes.get(d, 0):,}"

    labels = [f"{t} · {n(d)}" if f else t for t, d, f in zip(texts, departments, flags, strict=True)]
    hover = [
        f"{d}, {month}: {t}" + (f" ({n(d)}{', not ranked' if f else ''})" if volumes is not None else "")
        for d, t, f in zip(departments, texts, flags, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=axis.plotted(values),
            # The categories themselves are escaped: the axis and %{y} in the hover show them.
            y=[plotly_text(d) for d in departments],
            orientation="h",
            marker_color=colours,
            text=[plotly_text(label) for label in labels],
            textposition="outside",
            cliponaxis=False,
            customdata=[plotly_text(h) for h in hover],
            hovertemplate="%{customdata}<extra></extra>",
            name=plotly_text(month),
        )
    )
    all_rows = _series(table, indicator_id, catalog.ALL_DEPARTMENTS)
    all_value = all_rows.loc[all_rows["month"] == month, "value"]
    if len(all_value) and not is_missing(all_value.iloc[0]):
        fig.add_vline(
            x=float(all_value.iloc[0]) / axis.factor,
            line={"color": ALL_COLOUR, "dash": "dot", "width": 2},
            annotation_text="All",
            annotation_position="bottom right",
        )
    fig.update_yaxes(type="category", title_text=None, automargin=True)
    axis.apply(fig.update_xaxes)
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
    """Complaints per month stacked by the six service components (and unclassified).

    The hover reads ``2025-06: 12 complaints (25.0 %)``: the month, the count and its share.
    """
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
                customdata=[
                    plotly_text(_mix_hover(m, int(c), s))
                    for m, c, s in zip(months, counts.tolist(), shares.tolist(), strict=True)
                ],
                hovertemplate="%{customdata}",
            )
        )
    fig.update_layout(barmode="stack")
    _month_axis(fig)
    return _legend_below(_base_layout(
        fig, title="Complaints by service component", y_title="count", height=height
    ))


def _mix_hover(month: str, complaints: int, share: float) -> str:
    noun = "complaint" if complaints == 1 else "complaints"
    text = f"{month}: {complaints:,} {noun}"
    return text if is_missing(share) else f"{text} ({units.UNITS['%'].text(share)})"


COMPLAINT_BANDS: tuple[tuple[str, str, str], ...] = (
    ("complaints_closed_3_business_days", "Within 3 business days", "#3a9d5d"),
    ("complaints_closed_8_weeks", "Within 8 weeks", "#9db7d5"),
    ("complaints_closed_later", "After 8 weeks", "#e07b39"),
    ("unresolved_complaints_rate", "Still open", "#c2413b"),
)
"""The FCA's bands of a month's complaints (indicator, name, colour), in the order they add up
to all of the month's complaints."""


def make_complaint_bands_figure(
    table: pd.DataFrame, department: str, *, height: int = 340
) -> go.Figure:
    """The month's complaints by when they were closed (the FCA bands), one stacked bar per
    month adding up to 100 %; the hover reads ``2025-06: 64.2 %``."""
    fig = go.Figure()
    months: list[str] = []
    for indicator_id, name, colour in COMPLAINT_BANDS:
        series = _series(table, indicator_id, department)
        months = series["month"].tolist()
        values = series["value"].tolist()
        fig.add_trace(go.Bar(
            x=month_dates(months), y=values, name=plotly_text(name), marker_color=colour,
            customdata=[plotly_text(f"{m}: {units.UNITS['%'].text(v)}")
                        for m, v in zip(months, values, strict=True)],
            hovertemplate="%{customdata}",
        ))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(range=[0, 100])
    _month_axis(fig)
    return _legend_below(_base_layout(fig, title="When the month's complaints were closed",
                                      y_title="%", height=height))


KEPT_NAME = "Kept their promise"
NOT_KEPT_NAME = "Not kept"


def make_response_histogram_figure(
    hist: pd.DataFrame,
    promise_minutes: float | None,
    *,
    title: str = "Response times against the promise",
    height: int = 320,
) -> go.Figure:
    """How long requests waited, in bins, each bin split by whether its requests kept their
    *own* promise (``hist`` from :func:`indicators.compute.response_times_by_promise`).

    Kept (theme blue) and not kept (promise red) are stacked, so a bin of requests with
    different promises shows both.  ``promise_minutes`` draws the promise as a line when every
    request carries the same one; ``None`` (promises vary) draws none.  The axis is in one
    readable unit chosen by the median wait (minutes, hours or days).
    """
    starts = hist["bin_start"].astype(float).tolist()
    ends = hist["bin_end"].astype(float).tolist()
    counts = hist["requests"].astype(int).tolist()
    centres = [(s + e) / 2 for s, e in zip(starts, ends, strict=True)]
    scale = units.duration_scale([_weighted_median(centres, counts)])
    widths = [(e - s) / scale.minutes for s, e in zip(starts, ends, strict=True)]
    x = [c / scale.minutes for c in centres]
    ranges = [_bin_range(s, e, scale) for s, e in zip(starts, ends, strict=True)]
    fig = go.Figure()
    for column, name, colour, verdict in (
        ("kept", KEPT_NAME, HIGHLIGHT_COLOUR, "kept their promise"),
        ("not_kept", NOT_KEPT_NAME, PROMISE_COLOUR, "did not keep their promise"),
    ):
        n = hist[column].astype(int).tolist()
        fig.add_trace(
            go.Bar(
                x=x,
                y=n,
                width=widths,
                name=name,
                marker_color=colour,
                customdata=[f"{r}: {k:,} {'request' if k == 1 else 'requests'} {verdict}"
                            for r, k in zip(ranges, n, strict=True)],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    if promise_minutes is not None and not is_missing(promise_minutes):
        fig.add_vline(
            x=float(promise_minutes) / scale.minutes,
            line={"color": PROMISE_COLOUR, "dash": "dash", "width": 2},
            annotation_text=f"Promise {units.duration_text(float(promise_minutes))}",
            annotation_position="top right",
            annotation_font_color=PROMISE_COLOUR,
        )
    fig.update_xaxes(title_text=f"{scale.title} from request to response")
    fig.update_layout(barmode="stack", bargap=0.05, hovermode="closest")
    return _base_layout(fig, title=title, y_title="requests", height=height)


def _weighted_median(values: list[float], weights: list[int]) -> float:
    total = sum(weights)
    if total <= 0:
        return float("nan")
    seen = 0
    for value, weight in zip(values, weights, strict=True):
        seen += weight
        if 2 * seen >= total:
            return value
    return values[-1]


def _bin_range(start: float, end: float, scale: units.DurationScale) -> str:
    d = scale.decimals
    return f"{units.fixed(scale.value(start), d)}–{units.fixed(scale.value(end), d)} {scale.name}"


def make_route_figure(
    route: pd.DataFrame,
    summary: Mapping[str, object],
    *,
    height: int = 320,
    currency: Currency = NO_CURRENCY,
    notes: Sequence[tuple[str, str]] = (),
    checkins: Sequence[tuple[str, str]] = (),
) -> go.Figure:
    """The route to one target: planned route, actual path, forecast and its band, target marker,
    check-ins and event notes.

    ``route`` holds one target's rows of the route table (``month``, ``planned``, ``actual``,
    optionally ``forecast``, ``forecast_low``, ``forecast_high``), past the target month too
    when there is data after it; ``summary`` is that target's row of the route summary
    (``indicator``, ``target``, ``target_month``, ``latest_month``, ``latest_actual``,
    ``forecast_at_target``, optionally ``shape`` and ``forecast_method``).

    The planned route follows the target's shape (a ``steps`` route is drawn as steps, each
    planned value held until the next) and ends at the target month, marked by the star; after
    it the actual path goes on beside a flat target line.  The forecast and its 80 % band are
    kept within the indicator's value bounds (:func:`catalog.clamp`).  ``checkins`` and
    ``notes`` (``(month, text)``) are markers read on hover.  Hover: each value rounded as on
    the cards, with its month (``2025-06: actual 74.9 %``).
    """
    indicator_id = str(summary["indicator"])
    rows = route.sort_values("month")
    months = rows["month"].astype(str).tolist()
    target_month = str(summary["target_month"])
    target = float(summary["target"])  # type: ignore[arg-type]
    forecast = _forecast_points(rows, summary)
    band = _band_points(rows, indicator_id)
    drawn = [*rows["planned"].tolist(), *rows["actual"].tolist(), target,
             *(forecast[1] if forecast is not None else []),
             *(band[1] + band[2] if band is not None else [])]
    axis = value_axis(indicator_id, drawn, currency=currency)

    def hover(what: str, at: list[str], values: list[float]) -> list[str]:
        return [plotly_text(f"{m}: {what} {value_text(v, indicator_id, currency=currency)}")
                for m, v in zip(at, values, strict=True)]

    def line(name: str, at: list[str], values: list[float], what: str, **style: object) -> None:
        fig.add_trace(go.Scatter(
            x=month_dates(at), y=axis.plotted(values), name=name, customdata=hover(what, at, values),
            hovertemplate="%{customdata}<extra></extra>", **style,
        ))

    fig = go.Figure()
    planned = rows[rows["month"] <= target_month]
    shape = summary.get("shape")
    line(PLANNED_NAMES.get(str(shape), "Planned route"), planned["month"].astype(str).tolist(),
         planned["planned"].tolist(), "planned", mode="lines",
         line={"color": PLANNED_COLOUR, "dash": "dash", "width": 2,
               "shape": "hv" if shape == "steps" else "linear"})
    line("Actual", months, rows["actual"].tolist(), "actual", mode="lines+markers",
         connectgaps=False, line={"color": HIGHLIGHT_COLOUR, "width": 3})
    if band is not None:
        at, low, high = band
        line("80 % range, low", at, low, "80 % range from", mode="lines", showlegend=False,
             line={"width": 0, "color": FORECAST_COLOUR})
        line("80 % range", at, high, "80 % range to", mode="lines", fill="tonexty",
             fillcolor=BAND_FILL, line={"width": 0, "color": FORECAST_COLOUR})
    if forecast is not None:
        method = summary.get("forecast_method")
        name = f"Forecast ({method})" if isinstance(method, str) else "Forecast"
        line(name, forecast[0], forecast[1], "forecast", mode="lines",
             line={"color": FORECAST_COLOUR, "dash": "dot", "width": 2})
    star_text = plotly_text(f"Target {value_text(target, indicator_id, currency=currency)}")
    fig.add_trace(
        go.Scatter(
            x=month_dates([target_month]),
            y=axis.plotted([target]),
            name="Target",
            mode="markers+text",
            marker={"symbol": "star", "size": 16, "color": TARGET_COLOUR},
            text=[star_text],
            # The target month is the right edge of the chart unless data goes on after it.
            textposition="top left",
            # A target at the top of the range keeps its label, drawn over the margin.
            cliponaxis=False,
            customdata=hover("target", [target_month], [target]),
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    past = [m for m in months if m >= target_month]
    if len(past) > 1:
        line("Target, after the deadline", past, [target] * len(past), "target", mode="lines",
             line={"color": TARGET_COLOUR, "dash": "dash", "width": 1})
    actual = dict(zip(months, rows["actual"].tolist(), strict=True))
    planned_at = dict(zip(months, rows["planned"].tolist(), strict=True))

    def at(month: str) -> float | None:
        value = actual.get(month)
        return planned_at.get(month) if is_missing(value) else value

    add_marks(fig, checkins, name="Check-in", symbol="diamond", colour=CHECKIN_COLOUR, at=at,
              fallback=drawn, axis=axis, size=13)
    add_marks(fig, notes, name="Notes", symbol="triangle-up", colour=NOTE_COLOUR, at=at,
              fallback=drawn, axis=axis)
    _month_axis(fig)
    _base_layout(fig, title=None, y_title=axis.title, height=height)
    axis.apply(fig.update_yaxes)
    return fig


PLANNED_NAMES: dict[str, str] = {
    "straight": "Planned route", "seasonal": "Planned route (seasonal)",
    "steps": "Planned route (steps)",
}
"""The planned line's legend name by the target's shape."""


def add_marks(
    fig: go.Figure,
    marks: Sequence[tuple[str, str]],
    *,
    name: str,
    symbol: str,
    colour: str,
    at: Callable[[str], float | None],
    fallback: Iterable[float],
    axis: ValueAxis,
    size: int = 11,
    lines: bool = True,
) -> None:
    """``marks`` (``(month, text)``) as one trace of markers, each on the value ``at`` its month
    (else at the lowest value drawn), with a faint vertical line (unless ``lines`` is false);
    the text on hover, escaped.  Several marks in one month share the marker, their texts one
    per line."""
    by_month: dict[str, list[str]] = {}
    for month, text in marks:
        by_month.setdefault(str(month), []).append(str(text))
    if not by_month:
        return
    floor = min((float(v) for v in fallback if not is_missing(v)), default=0.0)
    labels = sorted(by_month)
    ys = []
    for month in labels:
        value = at(month)
        ys.append(floor if value is None or is_missing(value) else float(value))
    for month in labels if lines else ():
        fig.add_vline(x=month_dates([month])[0], line={"color": colour, "dash": "dot",
                                                       "width": 1})
    fig.add_trace(go.Scatter(
        x=month_dates(labels), y=axis.plotted(ys), name=name, mode="markers",
        marker={"symbol": symbol, "size": size, "color": colour,
                "line": {"color": "white", "width": 1}},
        customdata=["<br>".join(plotly_text(f"{month}: {t}") for t in by_month[month])
                    for month in labels],
        hovertemplate="%{customdata}<extra></extra>",
    ))


def _band_points(
    rows: pd.DataFrame, indicator_id: str
) -> tuple[list[str], list[float], list[float]] | None:
    """The forecast's 80 % band (months, low, high), when the route table has one that is wider
    than a line somewhere."""
    if "forecast_low" not in rows.columns or "forecast_high" not in rows.columns:
        return None
    band = rows[rows["forecast_low"].notna() & rows["forecast_high"].notna()]
    if len(band) < 2 or (band["forecast_high"] - band["forecast_low"]).abs().max() == 0:
        return None
    low = [catalog.clamp(indicator_id, float(v)) for v in band["forecast_low"]]
    high = [catalog.clamp(indicator_id, float(v)) for v in band["forecast_high"]]
    return band["month"].astype(str).tolist(), low, high


def _forecast_points(
    rows: pd.DataFrame, summary: Mapping[str, object]
) -> tuple[list[str], list[float]] | None:
    """The forecast line from the latest month with data to the target month, if any.

    Uses the route table's ``forecast`` column when it has one; otherwise the straight segment
    from the summary's latest actual to its ``forecast_at_target``.  Either way the values are
    kept within the indicator's bounds, and there is no forecast once the latest month is past
    the target month.
    """
    indicator_id = str(summary["indicator"])
    if "forecast" in rows.columns:
        line = rows[rows["forecast"].notna()]
        if len(line) >= 2:
            return line["month"].astype(str).tolist(), [
                catalog.clamp(indicator_id, float(v)) for v in line["forecast"]
            ]
    latest_month, latest_actual = summary.get("latest_month"), summary.get("latest_actual")
    forecast, target_month = summary.get("forecast_at_target"), str(summary["target_month"])
    if (
        isinstance(latest_month, str)
        and latest_month < target_month
        and not is_missing(latest_actual)
        and not is_missing(forecast)
    ):
        return [latest_month, target_month], [
            float(latest_actual), catalog.clamp(indicator_id, float(forecast))  # type: ignore[arg-type]
        ]
    return None



BETTER_COLOUR = "#3a9d5d"
WORSE_COLOUR = "#c2413b"
TOTAL_COLOUR = "#8a94a3"


def make_waterfall_figure(
    indicator_id: str,
    start: tuple[str, float],
    steps: Sequence[tuple[str, float]],
    end: tuple[str, float],
    *,
    title: str | None = None,
    subtitle: str | None = None,
    currency: Currency = NO_CURRENCY,
) -> go.Figure:
    """What moved an indicator, as a horizontal waterfall: the value compared with (``start``:
    label and value), one bar per segment's contribution (``steps``), the value now (``end``).

    Bars are green where the segment moved the indicator the better way and red where the
    worse (the catalog's direction), the two values grey; each bar is labelled with the change
    as the cards write it.  Horizontal, so long department names stay readable on a phone.

    >>> fig = make_waterfall_figure("csat", ("2025-11", 85.0), [("North", 27.0),
    ...                             ("South", -32.0)], ("2025-12", 80.0))
    >>> list(fig.data[0].measure)
    ['absolute', 'relative', 'relative', 'total']
    >>> list(fig.data[0].text)
    ['85.0 %', '+27.0 pp', '-32.0 pp', '80.0 %']
    """
    unit = units.unit_of(indicator_id)
    axis = value_axis(indicator_id, [start[1], end[1]], currency=currency)
    higher = catalog.get(indicator_id).higher_is_better
    labels = [plotly_text(start[0]), *(plotly_text(s) for s, _ in steps), plotly_text(end[0])]
    values = [start[1], *(c for _, c in steps), end[1]]
    texts = [unit.hover(start[1], currency=currency),
             *(unit.change(0.0, c, currency=currency) or "" for _, c in steps),
             unit.hover(end[1], currency=currency)]
    better = {"marker": {"color": BETTER_COLOUR}}
    worse = {"marker": {"color": WORSE_COLOUR}}
    fig = go.Figure(go.Waterfall(
        orientation="h",
        y=labels,
        x=axis.plotted(values),
        measure=["absolute", *["relative"] * len(steps), "total"],
        text=texts,
        textposition="outside",
        cliponaxis=False,
        hovertext=[f"{label}: {text}" for label, text in zip(labels, texts, strict=True)],
        hoverinfo="text",
        increasing=better if higher else worse,
        decreasing=worse if higher else better,
        totals={"marker": {"color": TOTAL_COLOUR}},
        connector={"line": {"color": "#b8bfc9", "width": 1}},
    ))
    heading: dict[str, object] | None = None
    if title:  # two short lines rather than one long one: a phone does not wrap a title
        heading = {"text": plotly_text(title), "y": 0.98, "yanchor": "top"}
        if subtitle:
            heading["subtitle"] = {"text": plotly_text(subtitle)}
    fig.update_layout(
        title=heading,
        height=max(260, 90 + 38 * len(labels)),
        margin={"l": 10, "r": 40, "t": 80 if title else 20, "b": 10},
        showlegend=False,
    )
    fig.update_yaxes(type="category", autorange="reversed", title_text=None, automargin=True)
    axis.apply(fig.update_xaxes)
    return fig
