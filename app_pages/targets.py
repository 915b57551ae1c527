"""Targets and settings: analysts edit the targets table, the iceberg factor, promises, zone."""

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.format import md_text
from indicators import catalog, store

st.title("Targets and settings")
status = data.state()
if status.error:
    widgets.unavailable(status.error, busy=status.busy)
    st.stop()

st.subheader("Targets")
st.markdown(
    "One row per indicator and department (`*` = all departments together). Saving replaces "
    "every stored target; the whole table is checked first and nothing changes if any row is "
    "refused. Baseline empty = the value measured in the baseline month; tolerance empty = "
    "10 % of the distance from baseline to target."
)
stored = data.targets() if status.exists else pd.DataFrame(columns=list(widgets.TARGET_COLUMNS))
edited = st.data_editor(
    stored.reindex(columns=list(widgets.TARGET_COLUMNS)),
    num_rows="dynamic",
    hide_index=True,
    key="targets_editor",
    placeholder="—",
    column_config={
        "indicator": st.column_config.SelectboxColumn(
            "Indicator", options=list(catalog.INDICATOR_IDS), required=True,
            help="Catalog id, e.g. csat or complaint_rate.",
        ),
        "department": st.column_config.TextColumn("Department", required=True, help="* = all"),
        "baseline_month": st.column_config.TextColumn("Baseline month", help="YYYY-MM"),
        "target_month": st.column_config.TextColumn("Target month", help="YYYY-MM"),
        "target": st.column_config.NumberColumn("Target", required=True),
        "baseline": st.column_config.NumberColumn("Baseline", help="Empty = measured"),
        "tolerance": st.column_config.NumberColumn("Tolerance", min_value=0.0),
    },
)
if st.button("Save targets", type="primary"):
    try:
        result = data.save_targets(edited)
    except data.DatabaseUnavailable as exc:
        st.error(str(exc))
    else:
        if result.accepted:
            st.success(f"Saved {result.rows:,} targets.", icon=":material/check_circle:")
        else:
            st.error(f"Targets not saved: {md_text(result.message)}", icon=":material/error:")
            widgets.table(result.problems_frame(), "target-problems")
widgets.download(stored, "targets", label="Download the stored targets (CSV)")

st.subheader("Settings")
current = data.settings() if status.ready else store.Settings()
departments = data.departments()[1:] if status.ready else []
left, middle, right = st.columns(3, border=True)
with left:
    iceberg = st.number_input(
        "Iceberg factor", min_value=0.0, value=float(current.iceberg_factor), step=1.0,
        help="Dissatisfied customers per complaint (10 by default).",
    )
    if st.button("Save iceberg factor"):
        widgets.save_setting("iceberg_factor", iceberg)
with middle:
    scope = st.selectbox(
        "Promise for", [store.ANY_DEPARTMENT, *departments],
        format_func=lambda d: "every department (default)" if d == store.ANY_DEPARTMENT else d,
    )
    minutes = st.number_input(
        "Promised response time (minutes)", min_value=0.0,
        value=float(current.promise_for(scope)), step=5.0,
    )
    if st.button("Save promise"):
        widgets.save_setting("promised_minutes", minutes, department=scope)
with right:
    zones = data.time_zones()
    zone = st.selectbox(
        "Time zone", zones,
        index=zones.index(current.time_zone) if current.time_zone in zones else None,
        help="Events belong to the month of their date in this zone. It applies to files "
        "uploaded from now on: stored months do not move, so re-upload past files to re-date them.",
    )
    if st.button("Save time zone"):
        widgets.save_setting("time_zone", zone or "")
