"""The layout on a phone: static CSS and one small script, installed once a run by ``app.py``.

Neither holds user data (no department or file name goes into them), so both are fixed text.

* **The sidebar starts collapsed** below :data:`NARROW_PX` (``initial_sidebar_state="auto"`` in
  ``app.py``: Streamlit collapses it below its 768 px breakpoint) — also when an earlier visit
  left it open, which Streamlit remembers in the browser's storage.
* **It collapses after navigation.**  Streamlit 1.67 closes it after a tap on a page link only
  when the browser's user agent names a phone, not on a narrow window or a tablet-sized one:
  the script presses the sidebar's own collapse button after a tap on a sidebar link, at
  widths below :data:`NARROW_PX`, unless Streamlit has closed it already.
* **The department and month** stay at the top of every page: the pages write them under their
  title (``widgets.view_caption``); here the title is smaller and the top margin shorter, so
  they are on the first screen.
* **Scorecard cards two to a row** below :data:`STACK_PX`, where Streamlit stacks every column
  one a row: the card grids (containers keyed ``scorecard-<family>``, CSS class
  ``st-key-scorecard-<family>``) become a two-column CSS grid of their cards, whose labels wrap
  rather than end in "…"; the status strip's counts go three a row.
* **No chart toolbar on touch** (``hover: none``): a tap on a chart would open Plotly's modebar
  over it; on a screen with a mouse the toolbar stays (it saves a chart as PNG).  A table's own
  toolbar (search, download, full screen) is always shown on touch, above the table's top edge:
  a table gets the room for it, so it no longer covers the widget above (a select box's arrow).
"""

from __future__ import annotations

import streamlit as st

from indicators import catalog

NARROW_PX = 768
"""Streamlit's ``md`` breakpoint: below it the sidebar overlays the page instead of sitting
beside it."""
STACK_PX = 640
"""Streamlit's column breakpoint: at or below it, columns stack one a row."""

CARD_GRID_KEYS: tuple[str, ...] = tuple(f"scorecard-{family}" for family in catalog.FAMILIES)
"""The scorecard's card grids, by container key (``app_pages/overview.py``)."""
STATUS_STRIP_KEY = "status-strip"
"""The scorecard's status strip (``app_pages/overview.py``): its counts go three a row."""

SCRIPT_KEY = "phone-layout"
"""The (hidden) container that holds the script."""


def _card_grid_css(key: str) -> str:
    root = f".st-key-{key}"
    row = f"{root} > [data-testid='stLayoutWrapper']"
    block = f"{row} > [data-testid='stHorizontalBlock']"
    column = f"{block} > [data-testid='stColumn']"
    # Labels wrap instead of ending in "…": "Revenue growth (…" twice says nothing.
    return f"""
  {root} {{ display: grid !important; grid-template-columns: repeat(2, minmax(0, 1fr));
             gap: 0.5rem; }}
  {row}, {block}, {column} {{ display: contents !important; }}
  {column} > [data-testid='stVerticalBlock']:not(:has(*)) {{ display: none !important; }}
  {root} [data-testid='stMetricValue'] {{ font-size: 1.5rem; }}
  {root} [data-testid='stMetricLabel'] [data-testid='stMarkdownContainer'],
  {root} [data-testid='stMetricLabel'] p,
  {root} [data-testid='stMetricDeltaDescription'] *
    {{ white-space: normal !important; overflow: visible !important; }}
  {root} div:has(> [data-testid='stMetricDelta']) {{ flex-wrap: wrap; }}"""


def _status_strip_css() -> str:
    root = f".st-key-{STATUS_STRIP_KEY}"
    block = f"{root} > [data-testid='stLayoutWrapper'] > [data-testid='stHorizontalBlock']"
    return f"""
  {block} {{ display: grid !important; grid-template-columns: repeat(3, minmax(0, 1fr));
              gap: 0.5rem; }}
  {block} > [data-testid='stColumn'] {{ width: auto !important; min-width: 0 !important; }}
  {root} [data-testid='stPageLink'] * {{ white-space: normal !important; }}"""


def css() -> str:
    """The phone stylesheet (a ``<style>`` element, no user data)."""
    grids = "".join(_card_grid_css(key) for key in CARD_GRID_KEYS) + _status_strip_css()
    return f"""<style>
.st-key-{SCRIPT_KEY} {{ display: none !important; }}
@media (max-width: {NARROW_PX - 0.02}px) {{
  [data-testid='stMainBlockContainer'] {{ padding-top: 3.5rem; }}
  [data-testid='stMain'] h1 {{ font-size: 1.9rem; padding-top: 0.25rem; }}
}}
@media (max-width: {STACK_PX}px) {{{grids}
}}
@media (hover: none) {{
  .js-plotly-plot .modebar-container {{ display: none !important; }}
  [data-testid='stElementContainer']:has(> [data-testid='stFullScreenFrame'] > [data-testid='stDataFrame'])
    {{ margin-top: 1.75rem; }}
}}
</style>"""


def script() -> str:
    """The sidebar script (a ``<script>`` element, no user data): collapse the sidebar on a
    narrow screen once when the page loads, and after each tap on a sidebar link."""
    narrow = f"(max-width: {NARROW_PX - 0.02}px)"
    return f"""<script>
(() => {{
  if (window.__servicePhoneLayout) return;
  window.__servicePhoneLayout = true;
  const narrow = window.matchMedia("{narrow}");
  const collapse = () => {{
    if (!narrow.matches || document.querySelector("[data-testid='stExpandSidebarButton']")) return;
    const button = document.querySelector("[data-testid='stSidebarCollapseButton'] button");
    if (button) button.click();
  }};
  collapse();
  document.addEventListener("click", (event) => {{
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("[data-testid='stSidebar'] a[href]")) setTimeout(collapse, 0);
  }}, true);
}})();
</script>"""


def install() -> None:
    """Add the phone stylesheet and script to this run's page (``app.py``, before the page)."""
    st.html(css())
    with st.sidebar.container(key=SCRIPT_KEY):
        st.html(script(), unsafe_allow_javascript=True)
