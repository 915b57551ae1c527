"""Shared widgets: charts with image export, tables with CSV export, the empty state, metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import auth, data, explain_words, filters, scorecard
from dashboard.format import STATUS_COLOURS, delta_color, format_indicator, md_text
from indicators import charts, export, store

UPLOAD_PAGE = "app_pages/upload.py"
CHANNEL_SCOPE = ("The indicators, rankings and trends are of the channel {channel} (the "
                 "indicators computed per channel); targets and routes, unusual values, the "
                 "service promise, the complaint mix and the response-time histogram are of "
                 "every channel together.")
CLI_LOAD = "python -m indicators ingest --db {db} purchases.csv complaints.csv …"
CLI_DEMO = "python -m indicators demo --db {db}"


def chart(fig: go.Figure, name: str, *, key: str | None = None) -> None:
    """A Plotly chart at full width whose modebar camera saves a PNG named after it."""
    st.plotly_chart(
        fig, width="stretch", theme="streamlit", config=charts.image_config(name), key=key
    )


def download(frame: pd.DataFrame, name: str, *, label: str = "Download CSV") -> None:
    """A CSV download of ``frame``, neutralised against spreadsheet formula injection."""
    st.download_button(
        label,
        data=export.to_csv_bytes(frame),
        file_name=f"{charts.image_config(name)['toImageButtonOptions']['filename']}.csv",  # type: ignore[index]
        mime="text/csv",
        key=f"download-{name}",
        icon=":material/download:",
        on_click="ignore",
    )


def table(
    frame: pd.DataFrame | Styler,
    name: str,
    *,
    column_config: Mapping[str, Any] | None = None,
    export_frame: pd.DataFrame | None = None,
) -> None:
    """A table and, under it, its CSV download (``export_frame`` if the file should differ).

    ``frame`` may be a pandas ``Styler`` (a highlighted row); its data is the download then,
    unless ``export_frame`` is given.
    """
    st.dataframe(frame, hide_index=True, column_config=column_config, placeholder="—")
    if export_frame is None:
        export_frame = frame.data if isinstance(frame, Styler) else frame
    download(export_frame, name)


def empty_state(status: data.DataState) -> None:
    """What to do when there is nothing to show — never a traceback."""
    db = str(data.db_path())
    if status.error:
        unavailable(status.error, busy=status.busy)
        return
    if not auth.current().can_edit:
        # The upload page is not registered for this role, so no link to it.
        st.info("There is no data to show yet. Analysts load the month's files.",
                icon=":material/hourglass_empty:")
        return
    st.info(
        "There is no data to show yet. Load the month's files on the upload page, or from a "
        "terminal. Department names and months appear as soon as data is loaded.",
        icon=":material/upload_file:",
    )
    st.page_link(UPLOAD_PAGE, label="Go to the upload page", icon=":material/upload:")
    st.caption("From a terminal, load files or the bundled demo dataset:")
    st.code(CLI_LOAD.format(db=db) + "\n" + CLI_DEMO.format(db=db), language="bash")


LOAD_POLL_SECONDS = 5.0
"""While another program loads data, how often a waiting page looks whether it has finished."""


def unavailable(message: str, *, busy: bool) -> None:
    """Why there are no figures right now: a load in progress (it ends by itself) or a bad file.

    While busy, the page looks again every :data:`LOAD_POLL_SECONDS` and reruns as soon as the
    database is free, so the figures refresh when the load ends.
    """
    if not busy:
        st.error(message, icon=":material/error:")
        return
    st.info(message, icon=":material/hourglass_top:")
    _rerun_when_free()


@st.fragment(run_every=LOAD_POLL_SECONDS)
def _rerun_when_free() -> None:
    if data.available():
        st.rerun(scope="app")


def database_status() -> None:
    """The database file, whether every table reads, and rows per table (for analysts)."""
    try:
        health = data.database_health()
    except data.DatabaseUnavailable as exc:
        st.caption(str(exc))
        return
    verdict = "every table reads" if health.ok else "problems found"
    counts = " · ".join(f"{name} {rows:,}" for name, rows in health.tables.items())
    st.caption(f"Database file {md_text(health.path)}: {verdict}. Rows: {counts}.")
    for problem in health.problems:
        st.error(problem, icon=":material/error:")


def require_filters() -> filters.Filters:
    """The sidebar's choice; without data, the empty state and the page stops here."""
    status = data.state()
    chosen = filters.current()
    if not status.ready or chosen is None:
        empty_state(status)
        st.stop()
    return chosen


def view_caption(chosen: filters.Filters) -> None:
    """Which slice the page shows, whether that month is complete, and when data last arrived.

    An incomplete month (:mod:`indicators.completeness`) gets a warning naming what it lacks
    ("Incomplete month: complaints and surveys not yet loaded for 2026-01"); department names
    are user data, so plain text only.
    """
    channel = "" if chosen.channel is None else f" · Channel: {md_text(chosen.channel)}"
    st.caption(f"Department: {md_text(chosen.department)}{channel} · Month: {chosen.month}")
    if chosen.channel is not None:
        st.caption(CHANNEL_SCOPE.format(channel=md_text(chosen.channel)))
    incomplete_notice(chosen)
    freshness_line()


def incomplete_notice(chosen: filters.Filters) -> None:
    """A warning when the chosen month is incomplete for the chosen department; a caption when
    it was marked complete by hand."""
    from indicators.completeness import describe_missing

    status = data.completeness()
    row = status[(status["month"] == chosen.month) & (status["department"] == chosen.department)]
    if row.empty:
        return
    got = row.iloc[0]
    if not bool(got["complete"]):
        text = describe_missing(
            got["missing"], chosen.month, departments=tuple(got["incomplete_departments"])
        )
        st.warning(f"Incomplete month: {md_text(text)}. Its figures may change when the rest "
                   "arrives.", icon=":material/hourglass_bottom:")
    elif bool(got["marked"]):
        st.caption(f"{chosen.month} was marked complete by an analyst.")


def load_date(when: Any, zone: str) -> str:
    """A load time (UTC, as the upload log keeps it) as a date in the organisation's zone.

    >>> load_date(pd.Timestamp("2026-12-01 23:30"), "Europe/Madrid")
    '2 Dec 2026'
    """
    local = pd.Timestamp(when).tz_localize("UTC").tz_convert(zone)
    return f"{local.day} {local:%b %Y}"


def freshness_line() -> None:
    """When each dataset was last loaded ("Last loads: purchases 2 Dec 2026 · …"), in the
    organisation's time zone; nothing while the database cannot be read."""
    status = data.state()
    if not status.exists or status.error:
        return
    try:
        last = data.freshness()
        zone = data.settings().time_zone
    except data.DatabaseUnavailable:
        return
    if last.empty:
        st.caption("Last loads: none recorded yet.")
        return
    loads = " · ".join(
        f"{name} {load_date(when, zone)}"
        for name, when in zip(last["dataset"], last["last_loaded"], strict=True)
    )
    st.caption(f"Last loads: {loads}.")


def status_badge(status: object) -> None:
    """The route status as a coloured badge; nothing when there is none (None or NaN)."""
    if isinstance(status, str) and status:
        st.badge(status, color=STATUS_COLOURS.get(status, "gray"))  # type: ignore[arg-type]


def indicator_metric(row: Mapping[str, Any], *, compare_later: bool = False) -> Any:
    """One scorecard card: value, change coloured by better/worse, All and the rank, target and
    status, and a sparkline coloured by the trend (or the status), the target dashed.

    The sparkline is a picture the server draws (:func:`dashboard.scorecard.sparkline_html`),
    not a chart element: two dozen charts cost the browser seconds, and ``st.metric``'s own
    ``chart_data`` takes the delta's colour and draws no target line.
    A card whose dataset is not loaded shows no change: nothing to colour.

    ``compare_later``: the compare line is not known yet; the card keeps its place and returns
    it (an ``st.empty`` slot) for the caller to fill.  Otherwise returns ``None``.
    """
    slot = None
    delta = row["delta_text"] if isinstance(row["delta_text"], str) else None
    unchanged = delta is not None and delta[0] not in "+-"
    target_text = None
    if isinstance(row["target_month"], str):
        target_text = f"Target {format_indicator(row['target'], row['indicator'])} by {row['target_month']}"
        if row["target_month"] < row["month"]:
            target_text += " (deadline passed)"
    with st.container(border=True):
        st.metric(
            row["label"],
            row["value_text"],
            delta=delta,
            delta_color="off" if unchanged else delta_color(row["indicator"]),  # type: ignore[arg-type]
            delta_arrow="off" if unchanged else "auto",
            delta_description="vs previous month" if delta else None,
            help=f"{row['direction'].capitalize()} is better. Unit: {row['unit']}.",
        )
        if isinstance(row["compare_text"], str):
            st.caption(row["compare_text"])
        elif compare_later:
            slot = st.empty()
        spark = scorecard.sparkline_html(row)
        if spark is not None:
            st.html(spark)
        if isinstance(row.get("unusual_reason"), str):
            st.caption(f":orange[:material/bolt: Unusual: {md_text(row['unusual_reason'])}]")
        for note in row.get("notes_now") or ():
            st.caption(f":material/change_history: Note for {row['month']}: {md_text(note)}")
        if target_text:
            cols = st.columns([3, 2], vertical_alignment="center")
            cols[0].caption(target_text)
            with cols[1]:
                status_badge(row["status"])
        st.page_link(explain_words.PAGE, label="What moved it", icon=":material/waterfall_chart:",
                     query_params={explain_words.INDICATOR_KEY: row["indicator"]})
    return slot


def save_setting(key: str, value: str | float, *, department: str = store.ANY_DEPARTMENT) -> None:
    """Store one setting and say so, with what else it did (a new time zone); a refused value
    is shown with its reason."""
    _say_saved(lambda: data.save_setting(key, value, department=department))


def save_settings(values: Mapping[str, str | float]) -> None:
    """Store several settings together (all or none) and say so, as :func:`save_setting`."""
    _say_saved(lambda: data.save_settings(values))


def _say_saved(write: Callable[[], str | None]) -> None:
    try:
        note = write()
    except store.SettingError as exc:
        st.error(f"Not saved: {md_text(exc)}", icon=":material/error:")
    except data.DatabaseUnavailable as exc:
        st.error(str(exc))
    else:
        st.success("Saved.", icon=":material/check_circle:")
        if note:
            st.info(md_text(note), icon=":material/info:")
