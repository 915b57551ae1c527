"""What moved it: the chosen indicator's change (or its gap to the target's plan) split by
department or service component, as a waterfall, with the mix and rate effects of a ratio.

Opened from the "What moved it" link on every scorecard card (``?indicator=<id>``, with the
sidebar's department and month).  The arithmetic is :mod:`indicators.explain`'s
(docs/explain.md); a team lead sees the departments outside their view as one segment.
"""

import streamlit as st

from dashboard import data, explain_words, filters, links, widgets
from dashboard.format import md_text
from indicators import catalog, charts, records

RECORDS_PAGE = "app_pages/records.py"

chosen = widgets.require_filters()
st.title("What moved it")
widgets.view_caption(chosen)

cols = st.columns([2, 1, 1])
with cols[0]:
    indicator = links.indicator_choice("explain-indicator", default="complaint_rate")



def rows_link() -> None:
    """One more click: the rows the indicator's value was computed from."""
    if indicator in records.SOURCES:
        st.page_link(RECORDS_PAGE, label=f"The rows behind {catalog.get(indicator).label} in "
                     f"{chosen.month}", icon=":material/table_rows:",
                     query_params={links.INDICATOR_KEY: indicator})


has_channels = bool(filters.channel_options(data.channels()))
splits = explain_words.split_options(indicator, chosen.department, channels=has_channels)
reason = explain_words.why_no_split(indicator, chosen.department, channels=has_channels)
if chosen.channel is not None:
    st.caption("The change of every channel together (split it by channel to see "
               f"{md_text(chosen.channel)}'s part).")
if reason:
    st.info(reason, icon=":material/info:")
    rows_link()
    st.page_link("app_pages/overview.py", label="Back to the scorecard",
                 icon=":material/dashboard:")
    st.stop()

by = cols[1].radio("Split by", splits, format_func=lambda b: explain_words.SPLITS[b],
                   key="explain-by")
against = cols[2].radio("Compared with", list(explain_words.AGAINST),
                        format_func=lambda a: explain_words.AGAINST[a], key="explain-against")

result, problem = data.explanation(indicator, chosen.month, chosen.department, by=by,
                                   against=against)
if result is None:
    st.info(f"Nothing to split: {md_text(problem)}.", icon=":material/info:")
    rows_link()
    st.stop()

st.markdown(f"**{md_text(explain_words.headline(result))}**")
for line in (explain_words.biggest(result), explain_words.effects(result)):
    if line:
        st.markdown(line)  # segment names are escaped by explain_words

fig = charts.make_waterfall_figure(
    indicator,
    (explain_words.start_label(result), result.value_before),
    explain_words.waterfall_steps(result),
    (result.month, result.value_after),
    title=catalog.get(indicator).label,
    subtitle=f"What moved it, by {explain_words.SPLITS[by]}",
    currency=data.currency(),
)
widgets.chart(fig, f"what-moved-{indicator}-{chosen.department}-{chosen.month}")
st.caption(
    "Green moved it the better way, red the worse. For a ratio, a segment's part is its mix "
    "effect (its weight moved) plus its rate effect (its own rate moved); the parts add up "
    "exactly to the change. Against a target, sums share the plan as the baseline month did "
    "and ratios compare each segment's rate with the plan (docs/explain.md)."
)
widgets.table(
    explain_words.table_frame(result),
    f"what-moved-{indicator}-{by}-{against}-{chosen.department}-{chosen.month}",
)
rows_link()
