"""The one family page: each indicator over time and departments ranked, for any family.

The four family pages are this renderer plus what is particular to each family (the complaint
mix for quality, the promise for opportunity …), so they cannot drift apart.

**The month's table** lists every department (*All* on top), one column per indicator, ranked
by the indicator chosen in "Rank by" (the family's first by default), best first by its
direction, with a rank column: ties share a rank and the rule is the scorecard's
(:func:`dashboard.scorecard.rank_among`), so a department's rank reads the same on its card and
here.  A department with no value, or with fewer rows in the month than the minimum volume
(``Settings.min_volume``; the rows of :func:`dashboard.scorecard.indicator_volumes`), is listed
under the ranked ones without a rank, flagged ``n = 4``.  The chosen department's row is
highlighted.

**Numbers in the table.**  A table column has one format, so each column is written in one
unit: a duration column in the readable unit of its median (minutes, hours or days —
:func:`indicators.units.duration_scale`), named in its header ("Response time (median), h");
a money column with the currency, without cents when its median is 1,000 or more.  The CSV
keeps the stored values at full precision, with the catalog ids as column names.

**The rankings** (one chart per indicator) draw, past ``2 × TOP_N`` departments, the best and
the worst :data:`TOP_N` ranked departments and the chosen one; "Show every department" draws
them all, up to :data:`MAX_RANKED`.  Departments too small to rank are not in the ranking:
when every department is drawn they come after the ranked ones, greyed, labelled ``n = 4``;
a caption under the chart names them.

**Drawn when chosen.**  Each indicator's trend and ranking sit in a tab of their own
(:func:`over_time`); only the open tab's charts are built and drawn, and choosing another reruns
that part of the page alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import auth, checkins_panel, data, filters, scorecard, widgets
from dashboard.format import current_currency, md_text
from indicators import catalog, charts, store, units
from indicators.channels import NOT_PER_CHANNEL
from indicators.completeness import indicator_not_loaded

TOP_N = 10
"""The best and the worst this many departments are drawn in a ranking unless "show all"."""

MAX_RANKED = 200
"""Departments a ranking chart draws at most (the best and the worst half each, and the chosen
one): a chart of 200,000 bars takes minutes to build and never finishes drawing."""

HIGHLIGHT_STYLE = "background-color: #dbe7f5; font-weight: bold"
"""The chosen department's row in the month's table."""
MAX_STYLED_ROWS = 5_000
"""Above this many rows the table is not styled (the chosen row is not highlighted): styling
writes every cell of the table out again."""

NOT_SHOWN_IN_CAPTION = 5
"""Departments too small to rank named under a chart (the rest are counted)."""

RANK = "rank"
NOTE = "too_few_rows"


def _small_mask(
    departments: pd.Series, volumes: Mapping[str, int] | None, min_volume: int
) -> pd.Series:
    if volumes is None:
        return pd.Series(False, index=departments.index)
    return departments.map(lambda d: volumes.get(d, 0) < min_volume).astype("bool")


def ranking_rows(
    table: pd.DataFrame,
    indicator_id: str,
    month: str,
    highlight: str,
    *,
    top: int | None = None,
    volumes: Mapping[str, int] | None = None,
    min_volume: int = 0,
) -> tuple[pd.DataFrame, int, int]:
    """What the month's ranking chart draws, and how many departments it leaves out of how many.

    Departments with a value and at least ``min_volume`` rows (``volumes``; ``None`` = no
    minimum) are *ranked*.  ``top=N``: the best and the worst ``N`` ranked, ``highlight`` and
    *All*.  ``top=None`` ("show all"): every department up to :data:`MAX_RANKED`; beyond, the
    best and the worst ``MAX_RANKED // 2`` with a value (ranked first, then those too small to
    rank, in the chart's order), ``highlight`` and *All*.
    """
    rows = table[(table["indicator"] == indicator_id) & (table["month"] == month)]
    named = rows[rows["department"] != catalog.ALL_DEPARTMENTS]
    all_rows = rows[rows["department"] == catalog.ALL_DEPARTMENTS]
    chosen = named.index[named["department"] == highlight]
    small = _small_mask(named["department"], volumes, min_volume)
    ascending = not catalog.get(indicator_id).higher_is_better
    if top is not None:
        ranked = named[named["value"].notna() & ~small].sort_values(
            "value", ascending=ascending, kind="stable"
        )
        keep = ranked.index if len(ranked) <= 2 * top else (
            ranked.index[:top].union(ranked.index[-top:])
        )
        keep = keep.union(chosen)
        return pd.concat([all_rows, named.loc[keep]]), len(named) - len(keep), len(named)
    if len(named) <= MAX_RANKED:
        return rows, 0, len(named)
    ordered = named.assign(_small=small).sort_values(
        ["_small", "value"], ascending=[True, ascending], na_position="last", kind="stable"
    )
    ordered = pd.concat([ordered[ordered["value"].notna()], ordered[ordered["value"].isna()]])
    half = MAX_RANKED // 2
    valued = ordered[ordered["value"].notna()]
    keep = ordered.index[:half].union(valued.index[-half:]).union(chosen)
    return pd.concat([all_rows, named.loc[keep]]), len(named) - len(keep), len(named)


def ranks(
    values: pd.Series,
    indicator_id: str,
    *,
    volumes: Mapping[str, int] | None,
    min_volume: int,
) -> pd.Series:
    """Rank (Int64, ``<NA>`` = not ranked) of every department in ``values`` (department →
    value in one month): :func:`dashboard.scorecard.rank_among`'s rule for all at once.

    ``1 +`` the ranked departments strictly better by the indicator's direction, so ties share
    a rank; *All*, a missing value and fewer than ``min_volume`` rows are not ranked.
    """
    departments = pd.Series(values.index, index=values.index)
    rankable = (
        values.notna()
        & (departments != catalog.ALL_DEPARTMENTS)
        & ~_small_mask(departments, volumes, min_volume)
    )
    ranked = values[rankable].astype("float64").rank(
        method="min", ascending=not catalog.get(indicator_id).higher_is_better
    )
    return ranked.reindex(values.index).astype("Int64")


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


def ranked_month_table(
    wide: pd.DataFrame,
    rank_by: str,
    *,
    volumes: Mapping[str, int] | None,
    min_volume: int,
) -> pd.DataFrame:
    """:func:`month_by_department` with a :data:`RANK` column by ``rank_by`` and its order.

    *All* first; then the ranked departments, best first (ties by name); then those too small to
    rank (best first, :data:`NOTE` says ``n = 4``); then those without a value (by name).
    """
    values = wide.set_index("department")[rank_by]
    rank = ranks(values, rank_by, volumes=volumes, min_volume=min_volume)
    small = _small_mask(pd.Series(values.index, index=values.index), volumes, min_volume)
    note = pd.Series("", index=values.index, dtype="str")
    if volumes is not None:
        flagged = small & values.notna() & (values.index != catalog.ALL_DEPARTMENTS)
        note[flagged] = [f"n = {volumes.get(d, 0):,}" for d in values.index[flagged]]
    group = pd.Series(3, index=values.index)
    group[values.notna() & small] = 2
    group[rank.notna()] = 1
    group[values.index == catalog.ALL_DEPARTMENTS] = 0
    sign = 1.0 if catalog.get(rank_by).higher_is_better else -1.0
    keyed = wide.set_index("department").assign(
        **{RANK: rank, NOTE: note}, _group=group, _by=-sign * values, _name=values.index
    )
    ordered = keyed.sort_values(["_group", "_by", "_name"], na_position="last", kind="stable")
    out = ordered.drop(columns=["_group", "_by", "_name"]).reset_index()
    return out[[RANK, "department", *[c for c in wide.columns if c != "department"], NOTE]]


def number_column(
    indicator_id: str, values: pd.Series, *, currency: units.Currency = units.NO_CURRENCY
) -> tuple[st.column_config.NumberColumn, float]:
    """The column's config and the factor its values are divided by for display (durations in
    the unit of their median, named in the header)."""
    ind = catalog.get(indicator_id)
    present = values.dropna().tolist()
    fmt, factor = units.printf_format(ind.unit, present, currency=currency)
    label = ind.label
    if ind.unit in units.DURATION_UNITS:
        label = f"{ind.label}, {units.column_unit(ind.unit, present)}"
    return st.column_config.NumberColumn(label, format=fmt, help=ind.formula), factor


def _highlighted(frame: pd.DataFrame, department: str) -> pd.DataFrame | Styler:
    if department == catalog.ALL_DEPARTMENTS or len(frame) > MAX_STYLED_ROWS:
        return frame
    chosen = frame.index[frame["department"] == department]
    if chosen.empty:
        return frame
    return frame.style.set_properties(subset=pd.IndexSlice[chosen, :], **_css(HIGHLIGHT_STYLE))


def _css(style: str) -> dict[str, str]:
    return dict(part.strip().split(": ", 1) for part in style.split(";"))


def blank_not_loaded(
    wide: pd.DataFrame, ids: list[str], status: pd.DataFrame, month: str
) -> tuple[pd.DataFrame, list[str]]:
    """The month's table with every cell whose datasets are not loaded made missing, and the
    departments that had such cells: a count over a dataset not loaded yet is "—", never a 0.

    ``status`` is :func:`indicators.completeness.month_status` (``data.completeness()``).

    >>> wide = pd.DataFrame({"department": ["All", "North"], "purchases": [3.0, 3.0],
    ...                      "complaints": [0.0, 0.0]})
    >>> status = pd.DataFrame({"month": ["2025-02", "2025-02"], "department": ["All", "North"],
    ...                        "missing": [("complaints",), ("complaints",)]})
    >>> out, absent = blank_not_loaded(wide, ["purchases", "complaints"], status, "2025-02")
    >>> out["complaints"].isna().tolist(), out["purchases"].tolist(), absent
    ([True, True], [3.0, 3.0], ['All', 'North'])
    """
    at = status[(status["month"] == month) & (status["missing"].map(len) > 0)]
    missing = dict(zip(at["department"], at["missing"], strict=True))
    out, absent = wide.copy(), []
    for position, department in enumerate(out["department"]):
        gone = missing.get(department)
        cols = [i for i in ids if gone and indicator_not_loaded(i, gone)]
        if cols:
            out.loc[out.index[position], cols] = float("nan")
            absent.append(str(department))
    return out, absent


def month_table(
    table: pd.DataFrame,
    ids: list[str],
    chosen: filters.Filters,
    family: str,
    *,
    row_counts: pd.DataFrame,
    min_volume: int,
) -> None:
    """The month's table by department, ranked by the indicator chosen in "Rank by"."""
    rank_by = st.columns([1, 2])[0].selectbox(
        "Rank by", ids, format_func=lambda i: catalog.get(i).label, key=f"rank-by-{family}",
        help="Departments best first by this indicator; All stays on top.",
    )
    month_rows = scorecard.month_rows(row_counts, chosen.month)
    volumes = scorecard.indicator_volumes(month_rows, rank_by)
    wide, absent = blank_not_loaded(
        month_by_department(table, ids, chosen.month), ids, data.completeness(), chosen.month
    )
    ranked = ranked_month_table(wide, rank_by, volumes=volumes, min_volume=min_volume)
    shown = ranked.copy()
    config: dict[str, object] = {
        RANK: st.column_config.NumberColumn("Rank", format="%d", help=(
            f"Best first by {catalog.get(rank_by).label}; ties share a rank.")),
        "department": st.column_config.TextColumn("Department"),
        NOTE: st.column_config.TextColumn("Too few rows to rank", help=(
            f"Rows in the month under the minimum volume of {min_volume:,}: listed, not ranked.")),
    }
    currency = current_currency()
    for i in ids:
        config[i], factor = number_column(i, ranked[i], currency=currency)
        if factor != 1.0:
            shown[i] = ranked[i] / factor
    widgets.table(
        _highlighted(shown, chosen.department),
        f"{family}-{chosen.month}",
        column_config=config,
        export_frame=ranked,
    )
    if absent:
        listed = ", ".join(md_text(d) for d in absent[:5]) + (
            f" and {len(absent) - 5:,} more" if len(absent) > 5 else "")
        st.caption(f"— not loaded: empty cells of {listed} are indicators whose files for "
                   f"{chosen.month} have not arrived yet (never counted as 0).")


def target_for(summary: pd.DataFrame, indicator_id: str, department: str) -> pd.Series | None:
    """The target row (``target``, ``target_month``) for this indicator and department, if any:
    from stored targets (department ``*`` is All's) or a route summary."""
    if summary.empty:
        return None
    shown = summary["department"].replace({store.ANY_DEPARTMENT: catalog.ALL_DEPARTMENTS})
    hit = summary[(summary["indicator"] == indicator_id) & (shown == department)]
    return None if hit.empty else hit.iloc[0]


def _unranked_caption(
    table: pd.DataFrame,
    indicator_id: str,
    month: str,
    volumes: Mapping[str, int] | None,
    min_volume: int,
    *,
    drawn: bool,
) -> str | None:
    """Which departments have a value but too few rows to rank, by name (the first few)."""
    if volumes is None:
        return None
    rows = table[(table["indicator"] == indicator_id) & (table["month"] == month)
                 & (table["department"] != catalog.ALL_DEPARTMENTS) & table["value"].notna()]
    small = rows[_small_mask(rows["department"], volumes, min_volume)]["department"].tolist()
    if not small:
        return None
    listed = ", ".join(
        f"{md_text(d)} (n = {volumes.get(d, 0):,})" for d in small[:NOT_SHOWN_IN_CAPTION]
    )
    more = len(small) - NOT_SHOWN_IN_CAPTION
    tail = f" and {more:,} more" if more > 0 else ""
    where = "Drawn greyed after the ranked ones" if drawn else "Listed in the table"
    return f"Not ranked, fewer than {min_volume:,} rows in {month}: {listed}{tail}. {where}."


def indicator_section(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    indicator_id: str,
    chosen: filters.Filters,
    *,
    month_rows: Mapping[str, Mapping[str, int]] | None = None,
    min_volume: int = 0,
    show_all: bool = False,
    currency: units.Currency | None = None,
    notes: pd.DataFrame | None = None,
    unusual: pd.DataFrame | None = None,
) -> None:
    """Trend for the department against All (with its target), and the month's ranking.

    ``currency``: the money unit (by default the current run's, :func:`current_currency`);
    ``notes``: the event notes in scope (:func:`dashboard.data.event_notes`), those that belong
    on the trend marked on it; ``unusual``: the department's unusual values
    (:func:`dashboard.data.unusual`), marked on its line with their reasons.
    """
    ind = catalog.get(indicator_id)
    target = target_for(summary, indicator_id, chosen.department)
    currency = current_currency() if currency is None else currency
    volumes = None if month_rows is None else scorecard.indicator_volumes(month_rows, indicator_id)
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
                    currency=currency,
                    notes=note_marks(notes, indicator_id, chosen.department),
                    unusual=unusual_marks(unusual, indicator_id),
                ),
                f"{indicator_id}-trend",
                key=f"trend-{indicator_id}",
            )
        with right:
            ranked, hidden, total = ranking_rows(
                table, indicator_id, chosen.month, chosen.department,
                top=None if show_all else TOP_N, volumes=volumes, min_volume=min_volume,
            )
            widgets.chart(
                charts.make_ranking_figure(
                    ranked, indicator_id, chosen.month, highlight=chosen.department,
                    currency=currency, volumes=volumes, min_volume=min_volume,
                ),
                f"{indicator_id}-ranking-{chosen.month}",
                key=f"ranking-{indicator_id}",
            )
            if hidden and show_all:
                st.caption(
                    f"{hidden:,} of {total:,} departments are not drawn: the chart shows the best "
                    f"and the worst {MAX_RANKED // 2} with a value, and the chosen one. The table "
                    "above lists every department."
                )
            elif hidden:
                st.caption(
                    f"The best {TOP_N} and the worst {TOP_N} ranked departments, and the chosen "
                    f"one: {hidden:,} of {total:,} are not drawn. Turn on “Show every department” "
                    "above to draw them; the table lists every department."
                )
            note = _unranked_caption(table, indicator_id, chosen.month, volumes, min_volume,
                                     drawn=show_all)
            if note:
                st.caption(note)


def header(family: str, *, intro: str | None = None) -> filters.Filters:
    """The family's title, the slice shown and its intro; stops with the empty state."""
    st.title(catalog.FAMILY_LABELS[family])
    chosen = widgets.require_filters()
    widgets.view_caption(chosen)
    if intro:
        st.markdown(intro)
    return chosen


def note_marks(
    notes: pd.DataFrame | None, indicator_id: str, department: str
) -> list[tuple[str, str]]:
    """``(month, text)`` of the event notes that belong on ``indicator_id``'s chart of
    ``department`` (:func:`dashboard.checkins_panel.notes_for`)."""
    if notes is None or notes.empty:
        return []
    mine = checkins_panel.notes_for(notes, indicator_id, department)
    return [(str(m), str(n)) for m, n in zip(mine["month"], mine["note"], strict=True)]


def unusual_marks(unusual: pd.DataFrame | None, indicator_id: str) -> list[tuple[str, str]]:
    """``(month, reason)`` of ``indicator_id``'s unusual values in ``unusual``.

    >>> flags = pd.DataFrame({"month": ["2025-12"], "indicator": ["csat"], "reason": ["high"]})
    >>> unusual_marks(flags, "csat"), unusual_marks(flags, "nps"), unusual_marks(None, "csat")
    ([('2025-12', 'high')], [], [])
    """
    if unusual is None or unusual.empty:
        return []
    mine = unusual[unusual["indicator"] == indicator_id]
    return [(str(m), str(r)) for m, r in zip(mine["month"], mine["reason"], strict=True)]


def channel_frame(by_channel: pd.DataFrame, indicator_ids: list[str]) -> pd.DataFrame:
    """One row per channel, one column per indicator (those computed per channel), values as
    the cards write them; ``not given`` last.

    >>> t = pd.DataFrame({"channel": ["web", "not given", "web"], "indicator": ["csat"] * 2 + ["nps"],
    ...                   "value": [80.0, 70.0, 12.0]})
    >>> channel_frame(t, ["csat", "nps", "retention_rate"]).to_dict("records")
    [{'Channel': 'web', 'Customer satisfaction (CSAT)': '80.0 %', 'Net promoter score': '12.0'}, {'Channel': 'not given', 'Customer satisfaction (CSAT)': '70.0 %', 'Net promoter score': '—'}]
    """
    from indicators.catalog import NOT_GIVEN
    from indicators.channels import CHANNEL_INDICATORS

    ids = [i for i in indicator_ids if i in CHANNEL_INDICATORS]
    names = sorted(set(by_channel["channel"].astype(str)), key=lambda c: (c == NOT_GIVEN, c))
    values = {(str(c), str(i)): v for c, i, v in zip(
        by_channel["channel"], by_channel["indicator"], by_channel["value"], strict=True)}
    rows = []
    for name in names:
        row = {"Channel": name}
        for i in ids:
            row[catalog.get(i).label] = units.number_text(values.get((name, i)),
                                                          catalog.get(i).unit,
                                                          currency=current_currency())
        rows.append(row)
    return pd.DataFrame(rows, columns=["Channel", *(catalog.get(i).label for i in ids)])


def not_per_channel_words(family: str) -> str:
    """The sentence naming the family's indicators that are not computed per channel.

    >>> not_per_channel_words("price")
    ' Not computed per channel: revenue per customer.'
    """
    names = [i.label[0].lower() + i.label[1:] for i in catalog.by_family(family)
             if i.id in NOT_PER_CHANNEL]
    return f" Not computed per channel: {', '.join(names)}." if names else ""


def channel_comparison(family: str, chosen: filters.Filters) -> None:
    """The family's indicators of the department in the month, channel by channel (when the
    rows carry channels)."""
    if not filters.channel_options(data.channels()):
        return
    frame = channel_frame(data.by_channel(chosen.department, chosen.month),
                          [i.id for i in catalog.by_family(family)])
    if frame.empty:
        return
    st.subheader(f"{chosen.month} by channel")
    st.caption(f"{md_text(chosen.department)}'s indicators in each channel (a row's channel; "
               "“not given” when it has none)." + not_per_channel_words(family))
    widgets.table(frame, f"{family}-by-channel-{chosen.department}-{chosen.month}")


def sections(family: str, chosen: filters.Filters) -> None:
    """The month's table by department, its channels side by side, then every indicator over
    time and side by side (:func:`over_time`: a tab per indicator)."""
    table = data.indicators()
    # The trends draw each target's value and month: the stored targets, no route computed.
    summary = data.targets()
    ids = [i.id for i in catalog.by_family(family)]
    row_counts = data.row_counts()
    min_volume = data.settings().min_volume

    st.subheader(f"{chosen.month} by department")
    month_table(table, ids, chosen, family, row_counts=row_counts, min_volume=min_volume)
    channel_comparison(family, chosen)

    st.subheader("Over time and side by side")
    # The loaders already hold only the user's departments; the words say so.
    ranked = "your departments" if auth.current().restricted else "every department"
    st.caption(
        f"Left: {md_text(chosen.department)} month by month"
        + ("" if chosen.department == catalog.ALL_DEPARTMENTS else ", with All dotted")
        + f", and the target where one is set. Right: {ranked} in "
        f"{chosen.month}, best first, with All as the dotted line. Departments with fewer than "
        f"{min_volume:,} rows in the month are listed but not ranked."
    )
    named = table[(table["month"] == chosen.month)
                  & (table["department"] != catalog.ALL_DEPARTMENTS)]["department"].nunique()
    over_time(
        table, summary, ids, chosen, family=family,
        month_rows=scorecard.month_rows(row_counts, chosen.month), min_volume=min_volume,
        many=named > 2 * TOP_N, currency=current_currency(), notes=data.event_notes(),
        unusual=data.unusual(chosen.department),
    )


@st.fragment
def over_time(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    ids: list[str],
    chosen: filters.Filters,
    *,
    family: str,
    month_rows: Mapping[str, Mapping[str, int]],
    min_volume: int,
    many: bool,
    currency: units.Currency,
    notes: pd.DataFrame | None = None,
    unusual: pd.DataFrame | None = None,
) -> None:
    """One tab per indicator; only the open one draws its two charts.

    Two charts per indicator, a family's five or six drawn at once, cost the browser seconds
    and sit below the first screen: a tab draws when it is chosen.  A fragment: choosing a tab
    (or "Show every department") reruns this part alone, from the frames it was given, so
    nothing above it is read or drawn again — and it reads no database, so it needs none of the
    page run's shared reading.
    """
    # Up to twice TOP_N departments every one is drawn anyway: no toggle.
    show_all = True
    if many:
        show_all = st.toggle(
            "Show every department", key=f"show-all-{family}",
            help=f"Off: the best {TOP_N} and the worst {TOP_N}. On: every department, up to "
            f"{MAX_RANKED:,} in a chart.",
        )
    tabs = st.tabs([catalog.get(i).label for i in ids], key=f"over-time-{family}",
                   on_change="rerun")
    for indicator_id, tab in zip(ids, tabs, strict=True):
        if tab.open:
            with tab:
                indicator_section(
                    table, summary, indicator_id, chosen, month_rows=month_rows,
                    min_volume=min_volume, show_all=show_all, currency=currency,
                    notes=notes, unusual=unusual,
                )


def render(family: str, *, intro: str | None = None) -> filters.Filters:
    """A family page with nothing particular to add: :func:`header` then :func:`sections`."""
    chosen = header(family, intro=intro)
    sections(family, chosen)
    return chosen
