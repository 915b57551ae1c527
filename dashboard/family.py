"""The one family page: each indicator over time and departments ranked, for any family.

The four family pages are this renderer plus what is particular to each family (the complaint
mix for quality, the promise for opportunity …), so they cannot drift apart.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, filters, widgets
from dashboard.format import md_text
from indicators import catalog, charts

NUMBER_FORMATS: dict[str, str] = {
    "count": "%,d",
    "money": "%,.2f",
    "%": "%.1f %%",
    "per 100": "%.1f",
    "points": "%.1f",
    "minutes": "%,.1f min",
    "hours": "%,.1f h",
}
"""``st.column_config.NumberColumn`` formats per catalog unit (missing cells stay empty)."""


MAX_RANKED = 200
"""Departments a ranking chart draws at most (the best and the worst half each, and the chosen
one): a chart of 200,000 bars takes minutes to build and never finishes drawing."""


def ranking_rows(
    table: pd.DataFrame, indicator_id: str, month: str, highlight: str
) -> tuple[pd.DataFrame, int, int]:
    """What the month's ranking chart draws, and how many departments it leaves out of how many.

    Up to :data:`MAX_RANKED` departments the rows of ``table`` as they are; beyond, the best and
    the worst ``MAX_RANKED // 2`` with a value (in the chart's order), ``highlight`` and *All*.
    """
    rows = table[(table["indicator"] == indicator_id) & (table["month"] == month)]
    named = rows[rows["department"] != catalog.ALL_DEPARTMENTS]
    if len(named) <= MAX_RANKED:
        return rows, 0, len(named)
    ordered = named.sort_values(
        "value", ascending=not catalog.get(indicator_id).higher_is_better,
        na_position="last", kind="stable",
    )
    half = MAX_RANKED // 2
    valued = ordered[ordered["value"].notna()]
    keep = ordered.index[:half].union(valued.index[-half:]).union(
        named.index[named["department"] == highlight]
    )
    shown = pd.concat([rows[rows["department"] == catalog.ALL_DEPARTMENTS], named.loc[keep]])
    return shown, len(named) - len(keep), len(named)


def number_column(indicator_id: str) -> st.column_config.NumberColumn:
    ind = catalog.get(indicator_id)
    return st.column_config.NumberColumn(
        ind.label, format=NUMBER_FORMATS.get(ind.unit, "%.2f"), help=ind.formula
    )


def month_by_department(table: pd.DataFrame, indicator_ids: list[str], month: str) -> pd.DataFrame:
    """One row per department (``All`` first) and one column per indicator, for one month."""
    rows = table[(table["month"] == month) & (table["indicator"].isin(indicator_ids))]
    wide = rows.pivot_table(
        index="department", columns="indicator", values="value", aggfunc="first", dropna=False
    ).reindex(columns=indicator_ids)
    order = [catalog.ALL_DEPARTMENTS] + sorted(d for d in wide.index if d != catalog.ALL_DEPARTMENTS)
    wide = wide.reindex([d for d in order if d in wide.index])
    wide.columns.name = None
    return wide.reset_index()


def target_for(summary: pd.DataFrame, indicator_id: str, department: str) -> pd.Series | None:
    """The route-summary row of the target for this indicator and department, if any."""
    if summary.empty:
        return None
    hit = summary[(summary["indicator"] == indicator_id) & (summary["department"] == department)]
    return None if hit.empty else hit.iloc[0]


def indicator_section(
    table: pd.DataFrame, summary: pd.DataFrame, indicator_id: str, chosen: filters.Filters
) -> None:
    """Trend for the department against All (with its target), and the month's ranking."""
    ind = catalog.get(indicator_id)
    target = target_for(summary, indicator_id, chosen.department)
    with st.container(border=True):
        st.markdown(f"**{ind.label}**")
        st.caption(f"{ind.formula}. {ind.direction.capitalize()} is better.")
        left, right = st.columns([3, 2])
        with left:
            widgets.chart(
                charts.make_trend_figure(
                    table,
                    indicator_id,
                    chosen.department,
                    target=None if target is None else float(target["target"]),
                    target_month=None if target is None else str(target["target_month"]),
                    title=None,
                ),
                f"{indicator_id}-trend",
                key=f"trend-{indicator_id}",
            )
        with right:
            ranked, hidden, total = ranking_rows(table, indicator_id, chosen.month, chosen.department)
            widgets.chart(
                charts.make_ranking_figure(ranked, indicator_id, chosen.month, highlight=chosen.department),
                f"{indicator_id}-ranking-{chosen.month}",
                key=f"ranking-{indicator_id}",
            )
            if hidden:
                st.caption(
                    f"{hidden:,} of {total:,} departments are not drawn: the chart shows the best "
                    f"and the worst {MAX_RANKED // 2} with a value, and the chosen one. The table "
                    "above lists every department."
                )


def header(family: str, *, intro: str | None = None) -> filters.Filters:
    """The family's title, the slice shown and its intro; stops with the empty state."""
    st.title(catalog.FAMILY_LABELS[family])
    chosen = widgets.require_filters()
    widgets.view_caption(chosen)
    if intro:
        st.markdown(intro)
    return chosen


def sections(family: str, chosen: filters.Filters) -> None:
    """The month's table by department, then every indicator over time and side by side."""
    table = data.indicators()
    _, summary = data.route()
    ids = [i.id for i in catalog.by_family(family)]

    st.subheader(f"{chosen.month} by department")
    wide = month_by_department(table, ids, chosen.month)
    widgets.table(
        wide,
        f"{family}-{chosen.month}",
        column_config={"department": st.column_config.TextColumn("Department")}
        | {i: number_column(i) for i in ids},
    )

    st.subheader("Over time and side by side")
    # The loaders already hold only the user's departments; the words say so.
    ranked = "your departments" if auth.current().restricted else "every department"
    st.caption(
        f"Left: {md_text(chosen.department)} month by month"
        + ("" if chosen.department == catalog.ALL_DEPARTMENTS else ", with All dotted")
        + f", and the target where one is set. Right: {ranked} in "
        f"{chosen.month}, best first, with All as the dotted line."
    )
    for indicator_id in ids:
        indicator_section(table, summary, indicator_id, chosen)


def render(family: str, *, intro: str | None = None) -> filters.Filters:
    """A family page with nothing particular to add: :func:`header` then :func:`sections`."""
    chosen = header(family, intro=intro)
    sections(family, chosen)
    return chosen
