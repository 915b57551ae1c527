"""Entry point: the frame, the shared sidebar filters and the page router.

Run with ``streamlit run app.py`` (``SERVICE_DB`` chooses the database). No data logic here:
the filters live in :mod:`dashboard.filters`, the pages in ``app_pages/``, who may do what in
:mod:`dashboard.auth`.

Sign-in (off unless ``.streamlit/secrets.toml`` configures it) comes first: a visitor who may not
enter sees only why, and no page is registered. The analysts' pages are registered only for
analysts, so their URLs do not open for anyone else (the data glue checks the role again on
every write).

On a phone (narrow screens) the sidebar starts collapsed and closes after navigation
(``initial_sidebar_state="auto"`` and :mod:`dashboard.phone`).

The folder is deliberately not called ``pages/``: when a ``pages/`` folder sits next to the
entrypoint, Streamlit runs a shared link such as ``/quality`` on a fresh server as an old-style
page *without* running this file, so the sidebar filters and the URL state would be lost.
"""

import streamlit as st

from dashboard import auth, cache_guard, data, filters, phone, widgets
from dashboard.format import CURRENCY

# Streamlit lets any websocket client clear every cache; only analysts' sessions may.
cache_guard.install()

st.set_page_config(
    page_title="Service strategy dashboard",
    page_icon=":material/insights:",
    layout="wide",
    initial_sidebar_state="auto",
)

cache_guard.remember(False)  # until the gate says who this is
access = auth.gate()
cache_guard.remember(access.can_edit)

pages = {
    "Executive view": [
        st.Page("app_pages/overview.py", title="Scorecard", icon=":material/dashboard:", default=True),
        st.Page("app_pages/route.py", title="Route to targets", icon=":material/route:"),
        st.Page("app_pages/explain.py", title="What moved it", icon=":material/waterfall_chart:"),
        st.Page("app_pages/chain.py", title="Service chain", icon=":material/account_tree:"),
        st.Page("app_pages/records.py", title="Rows behind a number",
                icon=":material/table_rows:"),
    ],
    "Indicator families": [
        st.Page("app_pages/quality.py", title="Quality", icon=":material/verified:"),
        st.Page("app_pages/quantity.py", title="Quantity", icon=":material/shopping_cart:"),
        st.Page("app_pages/opportunity.py", title="Opportunity", icon=":material/timer:"),
        st.Page("app_pages/price.py", title="Price", icon=":material/sell:"),
    ],
}
if access.can_edit:
    pages["Analysts"] = [
        st.Page("app_pages/upload.py", title="Upload data", icon=":material/upload_file:"),
        st.Page("app_pages/targets.py", title="Targets and settings", icon=":material/tune:"),
    ]

page = st.navigation(pages)
st.sidebar.title("Service strategy")
# The sidebar's and the page's reads share one connection, closed once the page is drawn.
with data.reading():
    filters.sidebar()
    auth.sidebar_account(access)
    phone.install()  # on a phone: the sidebar closed, cards two a row, no chart toolbar
    try:
        # Money in the settings' currency for this run (a ContextVar: per session's thread).
        CURRENCY.set(data.currency())
        page.run()
    except data.DatabaseUnavailable as exc:
        # Any read on any page can meet a load in progress in another program: say so, never a
        # traceback (the part of the page drawn before stays).
        widgets.unavailable(str(exc), busy=isinstance(exc, data.DatabaseBusy))
