"""Opportunity (timeliness): the promise against the minutes customers actually waited."""

import streamlit as st

from dashboard import data, family, scorecard, widgets
from dashboard.format import format_indicator, format_value
from indicators import charts

chosen = family.header(
    "opportunity",
    intro="The service concept is a promise; what counts is whether operations keep it.",
)
table = data.indicators()
hist, promise = data.response_histogram(chosen.month, chosen.department)
kept = scorecard.value_at(table, "promise_kept_rate", chosen.department, chosen.month)

left, right = st.columns(2)
with left:
    st.markdown(
        f"**Promise: respond within {format_value(promise, 'minutes')}** — kept for "
        f"{format_indicator(kept, 'promise_kept_rate')} of requests in {chosen.month}."
    )
    if hist.empty:
        st.info("No answered requests in this month for this department.")
    else:
        widgets.chart(
            charts.make_response_histogram_figure(hist, promise),
            f"response-times-{chosen.department}-{chosen.month}",
            key="response-histogram",
        )
with right:
    st.markdown("**Promise kept, month by month**")
    widgets.chart(
        charts.make_trend_figure(table, "promise_kept_rate", chosen.department, title=None),
        f"promise-kept-{chosen.department}",
        key="promise-kept",
    )

family.sections("opportunity", chosen)
