"""The route to every target: where it stands in plain words, the picture, and every target.

The first cards draw their picture at once; below the first screen a card's picture is drawn
when its expander is opened (a Plotly chart per card costs the browser a few tenths of a second).
"""

import streamlit as st

from dashboard import auth, checkins_panel, data, links, route_words, widgets
from dashboard.format import current_currency, format_indicator, md_text
from indicators import catalog, charts, route

# The first cards' pictures are drawn at once; the others when their expander is opened.
# (A comment, not a docstring: Streamlit's magic would write a bare string on the page.)
PICTURES_DRAWN = 2


@st.fragment
def route_picture(rows, row, *, currency, drawn, marks):
    """The route chart of one card, or (``drawn`` false) an expander that draws it once opened.

    A fragment: opening it reruns this card's picture alone, from the rows it was given.
    ``marks``: ``(check-ins, notes)`` to mark on it.
    """
    name = f"route-{row['indicator']}-{row['department']}"

    def figure():
        return charts.make_route_figure(rows, row, currency=currency, checkins=marks[0],
                                        notes=marks[1])

    if drawn:
        widgets.chart(figure(), name, key=name)
        return
    opened = st.expander("The route in a picture", icon=":material/show_chart:",
                         key=f"picture-{name}", on_change="rerun")
    if opened.open:
        with opened:
            widgets.chart(figure(), name, key=name)


def route_numbers(words, row):
    """Where the target stands, in words and figures, beside its picture."""
    if words.phase != "open":
        st.markdown(f"**{md_text(words.headline)}**")
    if words.progress is not None:
        st.progress(words.progress, text=md_text(words.travelled))
    else:
        st.markdown(md_text(words.travelled))
    for label, value in words.figures:
        st.metric(label, value)
    if words.forecast:
        st.caption(md_text(words.forecast))
    st.caption(md_text(words.baseline))
    if words.shape:
        st.caption(md_text(words.shape))
    if row["shape_note"]:
        st.warning(md_text(row["shape_note"]), icon=":material/timeline:")
    if row["note"]:
        st.warning(md_text(row["note"]))


st.title("Route to targets")
chosen = widgets.require_filters()
widgets.view_caption(chosen)
if chosen.channel is not None:
    st.info("Targets are set for every channel together: the routes below are of all "
            "channels, whatever the channel chosen.", icon=":material/info:")
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

# Static CSS (no user data): a blue frame round the card a link from the scorecard asked for,
# and the status pills wrap on a phone instead of running off the screen.
st.html("<style>.st-key-route-focused { border: 2px solid #1f5fa8 !important; }"
        " .st-key-route-statuses [role='toolbar'] { flex-wrap: wrap; }</style>")
counts = summary["status"].value_counts()
present = [s for s in route_words.WORST_FIRST if s in counts.index]
choose, sort = st.columns([3, 2], vertical_alignment="bottom")
shown = choose.pills(
    "Show targets that are", present, selection_mode="multi", default=present,
    format_func=lambda s: f"{s} ({counts[s]})", key="route-statuses",
)
sort_by = sort.segmented_control(
    "Sort by", route_words.SORTS, default=route_words.SORTS[0], key="route-sort"
)
focused = links.focused_target()
cards = route_words.ordered(summary, sort=sort_by or route_words.SORTS[0], statuses=shown,
                            focused=focused)
if focused is not None and not (
    (cards["indicator"] == focused[0]) & (cards["department"] == focused[1])
).any():
    st.caption("The target the link named is not among the targets shown here.")
if cards.empty:
    st.info("No target has the statuses chosen above.")

st.markdown(
    "Dashed grey: the planned route from the baseline to the target (straight, following the "
    "season, or in steps). Blue: where the indicator actually went. Orange dots: the forecast, "
    "with its 80 % range shaded. Green star: the target, at its deadline. Purple diamond: the "
    "latest check-in; grey triangles: notes on events."
)
currency = current_currency()
all_checkins, all_notes = data.checkins(), data.event_notes()
for position, row in enumerate(cards.to_dict("records")):
    ind = catalog.get(row["indicator"])
    is_focused = focused == (ind.id, row["department"])
    with st.container(border=True, key="route-focused" if is_focused else None):
        if is_focused:
            st.caption(":material/my_location: The target the scorecard linked to.")
        title, badge = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"**{ind.label}** · {md_text(row['department'])} — target "
                       f"{md_text(format_indicator(row['target'], ind.id))} by "
                       f"{row['target_month']}")
        with badge:
            widgets.status_badge(row["status"])
        picture, numbers = st.columns([3, 2])
        rows = route_rows[(route_rows["indicator"] == ind.id)
                          & (route_rows["department"] == row["department"])]
        history = checkins_panel.of_target(all_checkins, ind.id, row["department"])
        notes = checkins_panel.notes_for(all_notes, ind.id, row["department"])
        with picture:
            # Below the first screen a picture is drawn when asked for (see route_picture).
            route_picture(rows, row, currency=currency,
                          drawn=position < PICTURES_DRAWN or is_focused,
                          marks=checkins_panel.marks(history, notes))
        with numbers:
            route_numbers(route_words.route_words(row), row)
        checkins_panel.story(row, history, notes,
                             computed=dict(zip(rows["month"], rows["status"], strict=True)),
                             months=checkins_panel.route_months(rows))

st.subheader("All targets")
everything = route_words.ordered(summary, sort=sort_by or route_words.SORTS[0])
widgets.table(
    route_words.summary_table(everything), "route-summary",
    export_frame=checkins_panel.with_latest_checkin(everything[list(route.SUMMARY_COLUMNS)],
                                                    all_checkins),
)
if not all_checkins.empty or not all_notes.empty:
    st.subheader("Check-ins and notes")
    story_table, story_name = checkins_panel.story_table(all_checkins, all_notes)
    widgets.table(story_table, story_name)
