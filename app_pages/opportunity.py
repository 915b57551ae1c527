"""Opportunity (timeliness): the promise against the minutes customers actually waited."""

import streamlit as st

from dashboard import complaint_handling, data, family, scorecard, widgets
from dashboard.format import current_currency, format_value, promise_headline
from indicators import charts

chosen = family.header(
    "opportunity",
    intro="The service concept is a promise; what counts is whether operations keep it.",
)
table = data.indicators()
hist = data.response_histogram(chosen.month, chosen.department)
promise = data.promise_summary(chosen.month, chosen.department)
setting = data.settings().promise_for(chosen.department)

left, right = st.columns(2)
with left:
    st.markdown(promise_headline(promise, month=chosen.month, setting=setting))
    if hist.empty:
        st.info("No answered requests in this month for this department.")
    else:
        varies = promise is not None and bool(promise["promises_vary"])
        widgets.chart(
            charts.make_response_histogram_figure(
                hist, None if varies or promise is None else float(promise["promise_median"])
            ),
            f"response-times-{chosen.department}-{chosen.month}",
            key="response-histogram",
        )
        unanswered = 0 if promise is None else int(promise["requests"] - promise["answered"])
        st.caption(
            "Each request is coloured by its own promise (its promised minutes, else its "
            "department's)"
            + (f", from {format_value(promise['promise_min'], 'minutes')} to "
               f"{format_value(promise['promise_max'], 'minutes')}" if varies else "")
            + "."
            + (f" {unanswered:,} unanswered "
               + ("request is not drawn; it counts" if unanswered == 1
                  else "requests are not drawn; they count") + " as not kept."
               if unanswered else "")
        )
with right:
    st.markdown("**Promise kept, month by month**")
    widgets.chart(
        charts.make_trend_figure(
            table, "promise_kept_rate", chosen.department, title=None,
            currency=current_currency(),
            notes=family.note_marks(data.event_notes(), "promise_kept_rate", chosen.department)),
        f"promise-kept-{chosen.department}",
        key="promise-kept",
    )

st.subheader("Complaints: the backlog and the promise")
at = {"department": chosen.department, "month": chosen.month}
complaints_missing = "complaints" in data.not_loaded(chosen.department, chosen.month)
left, right = st.columns(2)
with left:
    st.markdown(complaint_handling.backlog_sentence(
        scorecard.value_at(table, "complaint_backlog", **at),
        scorecard.value_at(table, "backlog_age_median", **at),
        scorecard.value_at(table, "backlog_over_8_weeks", **at),
        month=chosen.month, not_loaded=complaints_missing,
    ))
    if not complaints_missing:
        st.markdown(complaint_handling.promise_sentence(
            scorecard.value_at(table, "complaints_resolved_within_promise", **at),
            data.settings().complaint_promise_for(chosen.department), month=chosen.month,
        ))
    widgets.chart(
        charts.make_trend_figure(
            table, "complaint_backlog", chosen.department, title="Open at the month's end",
            currency=current_currency(),
            notes=family.note_marks(data.event_notes(), "complaint_backlog", chosen.department)),
        f"complaint-backlog-{chosen.department}",
        key="complaint-backlog",
    )
with right:
    widgets.chart(
        charts.make_complaint_bands_figure(table, chosen.department),
        f"complaint-bands-{chosen.department}",
        key="complaint-bands",
    )
    st.caption(
        "The bands of the UK Financial Conduct Authority's complaints return: closed by the end "
        "of the third business day after the day received, within eight weeks, later, or still "
        "open. Business days are Monday to Friday, less the holidays setting."
    )

family.sections("opportunity", chosen)
