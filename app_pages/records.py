"""The rows behind a number: the stored rows the chosen indicator's value was computed from, for
the sidebar's month and department — paged, sortable, downloadable (formula-safe).

Reached from *What moved it* (``?indicator=<id>``).  Which rows each indicator lists and what
``counted`` means: :mod:`indicators.records` (docs/records.md).  A team lead sees their
departments' rows only: their *All* is the total of their departments.
"""

import streamlit as st

from dashboard import auth, data, links, records_words, widgets
from dashboard.format import md_text
from indicators import catalog, records

chosen = widgets.require_filters()
st.title("Rows behind a number")
widgets.view_caption(chosen)

top = st.columns([2, 1])
with top[0]:
    indicator = links.indicator_choice("records-indicator", default="complaints")
if indicator not in records.SOURCES:
    st.info(f"{catalog.get(indicator).label}: its rows are not listed — "
            f"{md_text(records.WHY_NOT.get(indicator, 'not a count of rows'))}.",
            icon=":material/info:")
    st.stop()
source = records.SOURCES[indicator]
component = None
if source.dataset in records.COMPONENT_DATASETS:
    options = ["", *catalog.SERVICE_COMPONENTS, catalog.UNCLASSIFIED]
    component = top[1].selectbox("Service component", options, key="records-component",
                                 format_func=lambda c: c or "every component") or None

channel = chosen.channel if "channel" in source.contract else None
if chosen.channel is not None and channel is None:
    st.caption(f"{source.dataset.capitalize()} rows carry no channel: every channel's rows.")
sort = st.columns([2, 1, 1], vertical_alignment="bottom")
order_by = sort[0].selectbox("Sort by", source.sortable, key="records-sort",
                             index=source.sortable.index(source.default_order))
descending = sort[1].toggle("Largest first", key="records-desc")

first, problem = data.records(indicator, chosen.month, chosen.department, component=component,
                              order_by=order_by, descending=descending, limit=0,
                              channel=channel)
if first is None:
    st.info(f"No rows to list: {md_text(problem)}.", icon=":material/info:")
    st.stop()
page = sort[2].number_input(
    "Page", min_value=1, max_value=records_words.pages(first.total), value=1, step=1,
    key=f"records-page-{indicator}-{component}-{channel}-{chosen.department}-{chosen.month}")
offset = (int(page) - 1) * records_words.PAGE_SIZE
shown, _ = data.records(indicator, chosen.month, chosen.department, component=component,
                        order_by=order_by, descending=descending,
                        limit=records_words.PAGE_SIZE, offset=offset, channel=channel)

st.markdown(md_text(records_words.summary(source, total=first.total, counted=first.counted,
                                          subtracted=first.subtracted)))
if source.per:
    st.caption(f"The rate divides by {catalog.get(source.per).label.lower()}: their rows are "
               f"listed under {catalog.get(source.per).label}.")
if auth.current().restricted and chosen.department == catalog.ALL_DEPARTMENTS:
    st.caption("All lists the rows of your departments only.")
zone = data.settings().time_zone
st.caption(f"{records_words.shown(offset, records_words.PAGE_SIZE, first.total)} · times in "
           f"{md_text(zone)}")
frame = records_words.in_zone(shown.frame, zone)
name = f"rows-{indicator}-{chosen.department}-{chosen.month}"
widgets.table(frame, f"{name}-page-{int(page)}", column_config={
    column: st.column_config.NumberColumn(format=fmt)
    for column, fmt in records_words.DERIVED_FORMAT.items() if column in frame.columns})
if first.total > records_words.PAGE_SIZE:
    if first.total > records_words.MAX_DOWNLOAD:
        st.caption(f"Every row is {first.total:,} rows, more than one download holds "
                   f"({records_words.MAX_DOWNLOAD:,}): use `python -m indicators records`.")
    elif st.toggle(f"Prepare all {first.total:,} rows for download", key=f"{name}-all"):
        every, _ = data.records(indicator, chosen.month, chosen.department, component=component,
                                order_by=order_by, descending=descending, limit=None,
                                channel=channel)
        widgets.download(records_words.in_zone(every.frame, zone), f"{name}-all",
                         label=f"Download all {first.total:,} rows")
