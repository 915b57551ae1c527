"""The service chain: the seeds' argument drawn for the chosen month and department — the
iceberg (complaints → estimated dissatisfied → repeat complaints), the promise (promise kept →
CSAT → NPS) and loyalty (returning customers → retention → revenue per customer) — each node the
scorecard's own card, each link said in a sentence (:mod:`dashboard.chain`)."""

import streamlit as st

from dashboard import cards as cards_of
from dashboard import chain, data, widgets
from dashboard.format import md_text

chosen = widgets.require_filters()
st.title("The service chain")
widgets.view_caption(chosen)
st.caption(chain.NOT_A_MODEL)
if chosen.channel is not None:
    st.caption(f"Of the channel {md_text(chosen.channel)} alone, where the indicator is "
               "computed per channel; targets are for every channel together.")

card = cards_of.read(chosen.department, chosen.month).card
settings = data.settings()
for links in chain.CHAINS:
    with st.container(border=True, key=f"chain-{links.title.lower().replace(' ', '-')}"):
        st.subheader(links.title)
        st.caption(links.question)
        rows = chain.chain_cards(card, links)
        # node, link, node, link, node: on a phone the columns stack, the links between
        cols = st.columns([5, 2, 5, 2, 5], vertical_alignment="center")
        for i, row in enumerate(rows):
            with cols[2 * i]:
                widgets.indicator_metric(row)
            if i < len(rows) - 1:
                with cols[2 * i + 1]:
                    st.markdown(":material/arrow_forward:")
                    st.caption(chain.link_text(links, i, iceberg_factor=settings.iceberg_factor,
                                               counted_at=settings.iceberg_counted_at))
