"""The route to every target: planned, actual and forecast, share travelled and remaining."""

import streamlit as st

from dashboard import auth, data, widgets
from dashboard.format import format_delta, format_indicator, format_value, is_missing, md_text
from indicators import catalog, charts

st.title("Route to targets")
chosen = widgets.require_filters()
route_rows, summary = data.route()
if chosen.department != catalog.ALL_DEPARTMENTS:
    summary = summary[summary["department"] == chosen.department]
    st.caption(f"Targets of {md_text(chosen.department)}. Choose All in the sidebar to see every target.")
elif auth.current().restricted:
    st.caption("Targets for All departments together and for your departments.")
else:
    st.caption("Every target, for All departments together and for each department.")

if summary.empty:
    st.info("No targets here yet. Analysts set them on the Targets and settings page.")
    if auth.current().can_edit:
        st.page_link("app_pages/targets.py", label="Set targets", icon=":material/tune:")
    st.stop()

st.markdown(
    "Dashed grey: the planned straight route from the baseline to the target. Blue: where the "
    "indicator actually went. Orange dots: where it is heading at the pace of the last six "
    "months. Green star: the target."
)
for row in summary.to_dict("records"):
    ind = catalog.get(row["indicator"])
    with st.container(border=True):
        title, badge = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"**{ind.label}** — target {format_indicator(row['target'], ind.id)} "
                       f"by {row['target_month']}")
        with badge:
            widgets.status_badge(row["status"])
        st.text(f"Department: {row['department']}")
        picture, numbers = st.columns([3, 2])
        rows = route_rows[(route_rows["indicator"] == ind.id)
                          & (route_rows["department"] == row["department"])]
        with picture:
            widgets.chart(charts.make_route_figure(rows, row),
                          f"route-{ind.id}-{row['department']}",
                          key=f"route-{ind.id}-{row['department']}")
        with numbers:
            travelled = row["travelled"]
            if is_missing(travelled):
                st.progress(0, text="Share of the route travelled: —")
            else:
                st.progress(min(max(travelled, 0.0), 100.0) / 100,
                            text=f"{travelled:.0f} % of the route travelled, "
                                 f"{row['remaining']:.0f} % remaining")
            if row["latest_month"] == row["target_month"]:
                # the target month has data: what happened, not a projection of it
                st.metric(f"Actual in {row['target_month']}, the target month",
                          format_indicator(row["latest_actual"], ind.id))
            else:
                st.metric(f"Latest ({row['latest_month'] or '—'})",
                          format_indicator(row["latest_actual"], ind.id))
                st.metric(f"Projected for {row['target_month']}",
                          format_indicator(row["forecast_at_target"], ind.id))
            pace = format_delta(0.0, row["pace_needed"], ind.unit)
            st.metric("Pace needed", f"{pace} per month" if pace else "—")
            st.caption(f"Forecast: {row['reached_note'] or '—'}. Baseline "
                       f"{format_indicator(row['baseline'], ind.id)} in {row['baseline_month']}, "
                       f"tolerance {format_value(row['tolerance'], ind.unit)}.")
            if row["note"]:
                st.warning(row["note"])

st.subheader("All targets")
widgets.table(
    summary, "route-summary",
    column_config={"indicator": st.column_config.TextColumn("Indicator"),
                   "travelled": st.column_config.NumberColumn("Travelled", format="%.0f %%"),
                   "remaining": st.column_config.NumberColumn("Remaining", format="%.0f %%")},
)
