"""Shared widgets: charts with image export, tables with CSV export, the empty state, metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import auth, data, filters
from dashboard.format import STATUS_COLOURS, delta_color, format_indicator, md_text
from indicators import charts, export, store

UPLOAD_PAGE = "app_pages/upload.py"
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
    frame: pd.DataFrame,
    name: str,
    *,
    column_config: Mapping[str, Any] | None = None,
    export_frame: pd.DataFrame | None = None,
) -> None:
    """A table and, under it, its CSV download (``export_frame`` if the file should differ)."""
    st.dataframe(frame, hide_index=True, column_config=column_config, placeholder="—")
    download(frame if export_frame is None else export_frame, name)


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
    """Which slice the page shows; department names are user data, so plain text only."""
    st.caption(f"Department: {md_text(chosen.department)} · Month: {chosen.month}")


def status_badge(status: object) -> None:
    """The route status as a coloured badge; nothing when there is none (None or NaN)."""
    if isinstance(status, str) and status:
        st.badge(status, color=STATUS_COLOURS.get(status, "gray"))  # type: ignore[arg-type]


def indicator_metric(row: Mapping[str, Any]) -> None:
    """One scorecard indicator: value, change coloured by better/worse, target, trend."""
    trend = list(row["trend"])
    delta = row["delta_text"] if isinstance(row["delta_text"], str) else None
    unchanged = delta is not None and delta[0] not in "+-"
    has_trend = sum(v is not None for v in trend) >= 2
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
            # A missing month is a gap (NaN), never a dip to 0.
            chart_data=[float("nan") if v is None else v for v in trend] if has_trend else None,
            chart_type="line",
        )
        if target_text:
            cols = st.columns([3, 2], vertical_alignment="center")
            cols[0].caption(target_text)
            with cols[1]:
                status_badge(row["status"])


TARGET_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "baseline_month", "target_month", "target", "baseline", "tolerance",
)


def save_setting(key: str, value: str | float, *, department: str = store.ANY_DEPARTMENT) -> None:
    """Store one setting and say so; a refused value is shown with its reason."""
    try:
        data.save_setting(key, value, department=department)
    except store.SettingError as exc:
        st.error(f"Not saved: {md_text(exc)}", icon=":material/error:")
    except data.DatabaseUnavailable as exc:
        st.error(str(exc))
    else:
        st.success("Saved.", icon=":material/check_circle:")
