"""Links between pages that name one thing: e.g. the route card of one target.

A link to a target's route card carries ``?target=<indicator>@<department>`` (plus the
filters the sidebar mirrors); the route page reads it with :func:`focused_target` and shows that
card first.  The department is user data: it travels as a query parameter value (URL-encoded by
Streamlit), never as markup.
"""

from __future__ import annotations

import streamlit as st

ROUTE_PAGE = "app_pages/route.py"
TARGET_KEY = "target"
_SEP = "@"


def target_key(indicator_id: str, department: str) -> str:
    """``indicator@department`` (indicator ids never contain ``@``)."""
    return f"{indicator_id}{_SEP}{department}"


def parse_target_key(text: str | None) -> tuple[str, str] | None:
    """``(indicator, department)`` from :func:`target_key`'s text; ``None`` if it is not one."""
    if not text or _SEP not in text:
        return None
    indicator_id, department = text.split(_SEP, 1)
    return (indicator_id, department) if indicator_id and department else None


def route_link(indicator_id: str, department: str, label: str) -> None:
    """A link to the route card of the target for ``indicator_id`` in ``department``.

    ``label`` is shown as text: callers pass plain words (no user-supplied markup).
    """
    st.page_link(
        ROUTE_PAGE,
        label=label,
        icon=":material/route:",
        query_params={TARGET_KEY: target_key(indicator_id, department)},
    )


def focused_target() -> tuple[str, str] | None:
    """The target a link asked the route page to show first, if any."""
    return parse_target_key(st.query_params.get(TARGET_KEY))


INDICATOR_KEY = "indicator"
"""The query parameter naming the indicator a page shows (What moved it, the rows behind it)."""


def indicator_choice(key: str, *, default: str, label: str = "Indicator") -> str:
    """A select box of every indicator that follows ``?indicator=…``: a link naming one (a
    scorecard card's) wins once; the choice is written back to the URL, so a copied link opens
    the same view.  An unknown indicator in the URL falls back to ``default``."""
    from indicators import catalog

    ids = list(catalog.INDICATOR_IDS)
    from_url = f"_{key}_from_url"
    wanted = st.query_params.get(INDICATOR_KEY)
    if wanted in ids and wanted != st.session_state.get(from_url):
        st.session_state[key] = wanted
    elif st.session_state.get(key) not in ids:
        st.session_state[key] = default
    chosen = st.selectbox(label, ids, key=key, format_func=lambda i: catalog.get(i).label)
    st.query_params[INDICATOR_KEY] = chosen
    st.session_state[from_url] = chosen
    return chosen
