"""Entry point: the frame, the shared sidebar filters and the page router.

Run with ``streamlit run app.py`` (``SERVICE_DB`` chooses the database). No data logic here:
the filters live in :mod:`dashboard.filters`, the pages in ``pages/``.
"""

import streamlit as st

from dashboard import filters

st.set_page_config(
    page_title="Service strategy dashboard",
    page_icon=":material/insights:",
    layout="wide",
    initial_sidebar_state="expanded",
)

pages = {
    "Executive view": [
        st.Page("pages/overview.py", title="Scorecard", icon=":material/dashboard:", default=True),
        st.Page("pages/route.py", title="Route to targets", icon=":material/route:"),
    ],
    "Indicator families": [
        st.Page("pages/quality.py", title="Quality", icon=":material/verified:"),
        st.Page("pages/quantity.py", title="Quantity", icon=":material/shopping_cart:"),
        st.Page("pages/opportunity.py", title="Opportunity", icon=":material/timer:"),
        st.Page("pages/price.py", title="Price", icon=":material/sell:"),
    ],
    "Analysts": [
        st.Page("pages/upload.py", title="Upload data", icon=":material/upload_file:"),
        st.Page("pages/targets.py", title="Targets and settings", icon=":material/tune:"),
    ],
}

page = st.navigation(pages)
st.sidebar.title("Service strategy")
filters.sidebar()
page.run()
