"""The department, month and channel filters: drawn once, in the sidebar, by the entrypoint.

Widgets created in ``app.py`` with a ``key`` keep their value across ``st.navigation`` page
switches, so every page reads the same choice from :func:`current`.  The choice is mirrored in
the URL (``?department=…&month=…``) so a copied link opens the same view: the query parameters
are read on the first run of a session, checked against the departments and months that exist,
and an unknown value falls back to the default with a warning instead of an error.

The departments offered are those the data glue returns for the signed-in user (a team lead's
own plus *All*), so a link naming another department falls back the same way.

**The default month is the latest complete one** (:mod:`indicators.completeness`) for the
department shown — All on a first visit — so a partial upload of next month (one file of one
department) does not become what everyone opens on; if no month is complete, the newest.  A
month in the URL, or one chosen earlier in the session, still wins.  Incomplete months stay
choosable and are labelled in the month list ("2026-01 · incomplete").

**The channel** (shown once the rows carry a channel: :func:`channel_options`) is *All
channels* by default — the totals — and in the URL (``?channel=web``) only when one is chosen.
Every page reads it through :func:`dashboard.data.channel`: the indicators of that channel
(:mod:`indicators.channels`); targets, routes and unusual values stay on every channel
together, and the pages say so.  Role scoping is the department's, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import auth, data
from dashboard.format import md_text
from indicators import catalog

DEPARTMENT_KEY = "department"
MONTH_KEY = "month"
_INITIALISED_KEY = "_filters_from_url"
_WARNINGS_KEY = "_filter_warnings"
INCOMPLETE_LABEL = "{month} · incomplete"
"""How the month list shows a month that is not complete for the chosen department."""


@dataclass(frozen=True)
class Filters:
    department: str
    month: str
    channel: str | None = None
    """One channel (:mod:`indicators.channels`), or None: every channel together."""


def current() -> Filters | None:
    """The sidebar's choice, or ``None`` when there is no data to choose from."""
    department = st.session_state.get(DEPARTMENT_KEY)
    month = st.session_state.get(MONTH_KEY)
    if department is None or month is None:
        return None
    return Filters(department=department, month=month, channel=data.channel())


def _adopt(key: str, options: list[str], default: str, what: str, why: str) -> None:
    """Put a valid URL value (first run) or a still-valid earlier choice into the widget state."""
    warnings: list[str] = st.session_state.setdefault(_WARNINGS_KEY, [])
    if not st.session_state.get(_INITIALISED_KEY):
        wanted = st.query_params.get(key)
        if wanted is not None and wanted in options:
            st.session_state[key] = wanted
            return
        if wanted is not None:
            # The value comes from the URL, i.e. from whoever wrote the link: plain text only.
            warnings.append(f"The link asked for {what} “{md_text(wanted)}”, which {why}; "
                            f"showing “{md_text(default)}” instead.")
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def sidebar() -> Filters | None:
    """Draw the filters in the sidebar and mirror them in the URL; ``None`` without data."""
    status = data.state()
    if not status.ready:
        st.sidebar.caption("Filters appear once data is loaded.")
        if status.error:
            st.sidebar.warning(status.error)
        st.session_state.pop(DEPARTMENT_KEY, None)
        st.session_state.pop(MONTH_KEY, None)
        return None
    try:
        departments = data.departments()
        months = data.months()
        # Same words for "not yours" and "no data": the warning must not confirm that a
        # department outside the user's view exists.
        restricted = auth.current().restricted
        why = "has no data or is not in your view" if restricted else "has no data"
        _adopt(DEPARTMENT_KEY, departments, catalog.ALL_DEPARTMENTS, "department", why)
        incomplete = incomplete_months(st.session_state[DEPARTMENT_KEY])
        default = default_month(months, incomplete)
        channels = channel_options(data.channels())
    except data.DatabaseUnavailable as exc:
        st.sidebar.warning(str(exc))
        return current()
    _adopt(MONTH_KEY, months, default, "month", "has no data")
    if channels:
        _adopt(data.CHANNEL_KEY, channels, data.ALL_CHANNELS, "channel", "has no data")
    else:
        st.session_state.pop(data.CHANNEL_KEY, None)
    st.session_state[_INITIALISED_KEY] = True

    with st.sidebar:
        st.selectbox(
            "Department",
            departments,
            key=DEPARTMENT_KEY,
            help="“All” is every department together, computed from all rows"
            + (" (of the whole organisation)." if restricted else "."),
        )
        st.selectbox(
            "Month", months, key=MONTH_KEY,
            format_func=lambda m: INCOMPLETE_LABEL.format(month=m) if m in incomplete else m,
            help="Newest first. It opens on the latest complete month; an incomplete month "
            "still lacks a dataset (each page says which).",
        )
        if channels:
            st.selectbox(
                "Channel", channels, key=data.CHANNEL_KEY,
                help="Where the service happened (the rows' channel; “not given” when a row "
                "has none). “All channels” is every channel together; targets and unusual "
                "values are judged on all channels together.",
            )
        for message in st.session_state.pop(_WARNINGS_KEY, []):
            st.warning(message)
        if st.button("Refresh data", help="Re-read the database (e.g. after a command-line load)."):
            data.clear_caches()
    chosen = current()
    if chosen is not None:
        _mirror_in_url(chosen)
    return chosen


def incomplete_months(department: str) -> frozenset[str]:
    """The months that are not complete for ``department`` (or All)."""
    status = data.completeness()
    mine = status[(status["department"] == department) & ~status["complete"].astype(bool)]
    return frozenset(mine["month"])


def default_month(months: list[str], incomplete: frozenset[str]) -> str:
    """The newest of ``months`` (newest first) that is complete; the newest if none is.

    >>> default_month(["2026-01", "2025-12", "2025-11"], frozenset({"2026-01"}))
    '2025-12'
    >>> default_month(["2026-01", "2025-12"], frozenset({"2026-01", "2025-12"}))
    '2026-01'
    """
    return next((m for m in months if m not in incomplete), months[0])


def channel_options(channels: list[str]) -> list[str]:
    """The channel list offered: every channel together first, then each; none at all when
    the rows carry no channel (only "not given").

    >>> channel_options(["app", "not given", "web"]), channel_options(["not given"])
    (['All channels', 'app', 'not given', 'web'], [])
    """
    from indicators.catalog import NOT_GIVEN

    named = [c for c in channels if c != NOT_GIVEN]
    return [data.ALL_CHANNELS, *channels] if named else []


def _mirror_in_url(chosen: Filters) -> None:
    # Only write when different: every write to st.query_params is a message to the browser.
    wanted = {DEPARTMENT_KEY: chosen.department, MONTH_KEY: chosen.month}
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    # The channel only when one is chosen: every channel together is the plain link.
    if chosen.channel is None:
        if data.CHANNEL_KEY in st.query_params:
            del st.query_params[data.CHANNEL_KEY]
    elif st.query_params.get(data.CHANNEL_KEY) != chosen.channel:
        st.query_params[data.CHANNEL_KEY] = chosen.channel
