"""Only an analyst's session may clear the app's caches from the browser.

Any websocket client, signed in or not, can send Streamlit's ``clear_cache`` message; Streamlit
1.67 has no setting to refuse it, and its handler (``AppSession._handle_clear_cache_request``)
clears every cache of the process for everyone.  :func:`install` wraps that handler once per
process: the request is obeyed for a session whose last run was an analyst's
(:func:`remember`, called by ``app.py`` after the sign-in gate) and otherwise ignored, with a
line in the server log.  With sign-in off everyone is the local analyst, as on every page.
"""

from __future__ import annotations

import logging
import threading

from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

_LOG = logging.getLogger(__name__)

MAX_REMEMBERED = 1000
"""Analyst sessions remembered at once (oldest forgotten first; their next run re-adds them)."""

_ANALYST_SESSIONS: dict[str, None] = {}
_LOCK = threading.Lock()
_MARK = "_analysts_only"


def remember(can_edit: bool) -> None:
    """Record whether the current script run's session may clear the caches."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return
    with _LOCK:
        _ANALYST_SESSIONS.pop(ctx.session_id, None)
        if can_edit:
            _ANALYST_SESSIONS[ctx.session_id] = None
            while len(_ANALYST_SESSIONS) > MAX_REMEMBERED:
                del _ANALYST_SESSIONS[next(iter(_ANALYST_SESSIONS))]


def may_clear(session_id: str) -> bool:
    with _LOCK:
        return session_id in _ANALYST_SESSIONS


def install() -> None:
    """Wrap Streamlit's clear-cache handler so only analysts' sessions reach it (idempotent)."""
    handler = AppSession._handle_clear_cache_request
    if getattr(handler, _MARK, False):
        return

    def analysts_only(session: AppSession) -> None:
        if may_clear(session.id):
            handler(session)
        else:
            _LOG.warning("Ignored a clear-cache request from a session that is not an analyst's")

    setattr(analysts_only, _MARK, True)
    AppSession._handle_clear_cache_request = analysts_only  # type: ignore[method-assign]
