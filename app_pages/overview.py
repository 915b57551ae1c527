"""Scorecard: how the targets stand, then every indicator for the chosen month and department,
grouped by family, each with All's value and the department's rank."""

import streamlit as st

from dashboard import auth, data, links, scorecard, widgets
from dashboard import cards as cards_of
from dashboard.format import STATUS_COLOURS, format_value, md_text, promise_headline
from indicators import catalog

chosen = widgets.require_filters()
cards = cards_of.read(chosen.department, chosen.month)
card, route_rows, summary, notes = cards.card, cards.route, cards.summary, cards.notes
comparing = chosen.department != catalog.ALL_DEPARTMENTS
values = card.set_index("indicator")["value"]

st.title("Service scorecard")
widgets.view_caption(chosen)

strip = scorecard.status_strip(route_rows, summary, chosen.month)
with st.container(border=True, key="status-strip"):
    if chosen.channel is not None:
        st.markdown(f"**Targets are set for every channel together.** The cards show "
                    f"{md_text(chosen.channel)} alone; choose *All channels* to see where the "
                    "targets stand.")
    elif not strip.targets:
        st.markdown(f"**No targets** for {md_text(chosen.department)} yet.")
        if auth.current().can_edit:
            st.page_link("app_pages/targets.py", label="Set targets on the targets page",
                         icon=":material/tune:")
    else:
        st.markdown(f"**Targets in {chosen.month}**")
        if not comparing:
            st.caption("The targets set for All departments together; each department's own "
                       "are on its scorecard and, with these, on the route page.")
        for col, status in zip(st.columns(len(strip.counts)), strip.counts, strict=True):
            colour = STATUS_COLOURS.get(status, "gray")
            col.metric(f":{colour}[{status.capitalize()}]", f":{colour}[{strip.counts[status]}]")
        left_out = [f"{n} {what}" for n, what in (
            (strip.not_started, "not started (the month is before the baseline month)"),
            (strip.no_data, "without a value this month"),
        ) if n]
        if left_out:
            st.caption(f"Of {strip.targets} targets: " + " · ".join(left_out) + ".")
        for item in strip.attention:
            links.route_link(item["indicator"], item["department"], item["text"])

for note in scorecard.general_notes(notes, chosen.department, chosen.month):
    st.info(f"Note for {chosen.month}: {md_text(note)}", icon=":material/change_history:")

promise = data.settings().promise_for(chosen.department)
head = st.columns(2, border=True)
with head[0]:
    st.markdown("**The service promise**")
    if "responses" in data.not_loaded(chosen.department, chosen.month):
        st.markdown(f"Respond within **{format_value(promise, 'minutes')}** (the promise "
                    f"setting). — not loaded: no responses yet for {chosen.month}.")
    else:
        st.markdown(promise_headline(data.promise_summary(chosen.month, chosen.department),
                                     month=chosen.month, setting=promise))
    st.caption("Each request is judged by its own promised minutes, else its department's "
               "promise (a setting).")
with head[1]:
    st.markdown("**The iceberg**")
    st.markdown(scorecard.iceberg_sentence(
        values["complaints"], values["estimated_dissatisfied"],
        not_loaded=bool(card.set_index("indicator").at["complaints", "not_loaded"]),
        settings=data.settings(), at_risk=values["revenue_at_risk"],
    ))
    st.caption(scorecard.iceberg_basis(data.settings()))

slots = {}
for family in catalog.FAMILIES:
    st.subheader(catalog.FAMILY_LABELS[family])
    rows = card[card["family"] == family].to_dict("records")
    # Three a row: at four, labels such as "Estimated dissatisfied customers" get cut off.
    # The key (CSS class st-key-scorecard-<family>) lets the phone layout restyle the grid.
    with st.container(key=f"scorecard-{family}"):
        for start in range(0, len(rows), 3):
            cols = st.columns(3)
            for col, row in zip(cols, rows[start : start + 3], strict=False):
                with col:
                    slots[row["indicator"]] = widgets.indicator_metric(
                        row, compare_later=comparing)

# Every department's month costs more than the cards: they are drawn first, the ranks after.
if comparing:
    card = scorecard.add_compare(card, data.compare(chosen.department, chosen.month))
    for indicator, text in zip(card["indicator"], card["compare_text"], strict=True):
        if slots.get(indicator) is not None and isinstance(text, str):
            slots[indicator].caption(text)

with st.expander("The scorecard as a table"):
    widgets.table(
        scorecard.display_frame(card),
        f"scorecard-{chosen.department}-{chosen.month}",
        export_frame=scorecard.export_frame(card),
    )
