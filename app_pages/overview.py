"""Scorecard: every indicator for the chosen month and department, grouped by family."""

import streamlit as st

from dashboard import data, scorecard, widgets
from dashboard.format import format_indicator, format_value
from indicators import catalog

chosen = widgets.require_filters()
table, route_rows, summary = data.overview(chosen.department, chosen.month)
card = scorecard.scorecard(
    table, chosen.department, chosen.month, targets=summary, route=route_rows
)
values = card.set_index("indicator")["value"]

st.title("Service scorecard")
widgets.view_caption(chosen)

promise = data.settings().promise_for(chosen.department)
head = st.columns(2, border=True)
with head[0]:
    st.markdown("**The service promise**")
    st.markdown(
        f"Respond within **{format_value(promise, 'minutes')}**. Kept for "
        f"**{format_indicator(values['promise_kept_rate'], 'promise_kept_rate')}** of requests "
        f"in {chosen.month} (median wait "
        f"{format_indicator(values['response_time_median'], 'response_time_median')})."
    )
    st.caption("Requests with their own promised minutes are judged against those.")
with head[1]:
    st.markdown("**The iceberg**")
    st.markdown(
        scorecard.iceberg_sentence(values["complaints"], values["estimated_dissatisfied"])
    )
    st.caption(
        f"For every customer who complains, about {data.settings().iceberg_factor:g} are "
        "dissatisfied and most leave silently (the iceberg factor is a setting)."
    )

for family in catalog.FAMILIES:
    st.subheader(catalog.FAMILY_LABELS[family])
    rows = card[card["family"] == family].to_dict("records")
    # Three a row: at four, labels such as "Estimated dissatisfied customers" get cut off.
    for start in range(0, len(rows), 3):
        cols = st.columns(3)
        for col, row in zip(cols, rows[start : start + 3], strict=False):
            with col:
                widgets.indicator_metric(row)

with st.expander("The scorecard as a table"):
    widgets.table(
        card[["label", "value_text", "delta_text", "target", "target_month", "status"]],
        f"scorecard-{chosen.department}-{chosen.month}",
        column_config={"label": "Indicator", "value_text": "Value",
                       "delta_text": "Change vs previous month", "target_month": "Target month"},
        export_frame=scorecard.export_frame(card),
    )
