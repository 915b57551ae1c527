"""Quality: complaints per purchase, the iceberg, repeats, satisfaction and the complaint mix."""

import streamlit as st

from dashboard import data, family, scorecard, widgets
from dashboard.format import format_indicator
from indicators import charts

chosen = family.header(
    "quality",
    intro="A complaint is the tip of an iceberg, a repeat complaint means the first one taught "
    "nothing, and a proactive organisation asks (surveys) instead of waiting for complaints.",
)
table = data.indicators()
complaints = scorecard.value_at(table, "complaints", chosen.department, chosen.month)
dissatisfied = scorecard.value_at(table, "estimated_dissatisfied", chosen.department, chosen.month)
at_risk = scorecard.value_at(table, "revenue_at_risk", chosen.department, chosen.month)
repeat = scorecard.value_at(table, "repeat_complaint_rate", chosen.department, chosen.month)

cols = st.columns(2, border=True)
with cols[0]:
    st.markdown("**The iceberg**")
    st.markdown(scorecard.iceberg_sentence(
        complaints, dissatisfied,
        not_loaded="complaints" in data.not_loaded(chosen.department, chosen.month),
        settings=data.settings(), at_risk=at_risk,
    ))
    st.caption(scorecard.iceberg_basis(data.settings()))
with cols[1]:
    st.markdown("**Repeat complaints**")
    st.markdown(
        f"{format_indicator(repeat, 'repeat_complaint_rate')} of this month's complaints came "
        "from a customer who had complained about the same component in the 90 days before."
    )

st.subheader("Complaint mix by service component")
st.caption(
    "Every complaint belongs to one of the six components of service: product, procedures, "
    "facilities, systems, information, people (grey: not classified)."
)
mix = data.complaint_mix()
widgets.chart(
    charts.make_complaint_mix_figure(mix, chosen.department),
    f"complaint-mix-{chosen.department}",
    key="complaint-mix",
)
month_mix = mix[(mix["department"] == chosen.department) & (mix["month"] == chosen.month)]
widgets.table(
    month_mix[["component", "complaints", "share"]].assign(
        component=month_mix["component"].str.capitalize()
    ),
    f"complaint-mix-{chosen.department}-{chosen.month}",
    column_config={
        "component": st.column_config.TextColumn("Service component"),
        "complaints": st.column_config.NumberColumn("Complaints", format="%,d"),
        "share": st.column_config.NumberColumn("Share of the month", format="%.1f %%"),
    },
    export_frame=month_mix,
)

family.sections("quality", chosen)
