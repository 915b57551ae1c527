"""What the pages call to read and write: the current database and user, passed to the loaders.

The public functions take no arguments about the database or the user: each reads ``$SERVICE_DB``
(through :func:`indicators.store.default_db_path`), its data version and the signed-in user's
department scope (:func:`dashboard.auth.current`) when called, and passes them as explicit
arguments to a cached loader of :mod:`dashboard.loaders` (a cached function never reads
globals).  Scoping is done in the loaders, where data is read: a team lead never receives
another department's rows.

The work is split by job, one module each; this module is the façade the pages import and
re-exports what they use:

=======================  ==================================================================
:mod:`dashboard.connection`  opening and closing the database: one configuration, the page
                             run's shared reading (:func:`reading`), busy and unreadable files
:mod:`dashboard.cache`       the registry of cached loaders (the only ``st.cache_data``) and
                             :func:`clear_caches`, which walks it
:mod:`dashboard.loaders`     the cached, scoped reads, one small loader per stored thing; every
                             indicator through :func:`indicators.stored_indicators.read`
:mod:`dashboard.writes`      uploads (with a scratch folder passed to loading), targets,
                             settings, undo, complete-month marks; each checks the role
=======================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard import auth, connection, loaders
from dashboard.cache import CACHE_TTL_SECONDS, clear_caches
from dashboard.connection import (
    LOAD_IN_PROGRESS,
    WRITE_REFUSED,
    WRITE_WAIT_SECONDS,
    DatabaseBusy,
    DatabaseUnavailable,
    DatabaseUnreadable,
    Version,
    available,
    data_version,
    db_path,
    reading,
    upload_root,
)
from dashboard.loaders import (
    OTHER_DEPARTMENTS,
    Overview,
    in_scope,
    status_in_scope,
)
from dashboard.writes import (
    Upload,
    add_checkin,
    add_note,
    clear_expected_datasets,
    ingest_uploads,
    mark_month_complete,
    save_setting,
    save_settings,
    save_targets,
    undo_upload,
)
from indicators import store
from indicators.units import Currency

__all__ = [
    "CACHE_TTL_SECONDS", "LOAD_IN_PROGRESS", "add_checkin", "add_note", "checkins", "event_notes", "OTHER_DEPARTMENTS", "WRITE_REFUSED",
    "WRITE_WAIT_SECONDS", "DataState", "DatabaseBusy", "DatabaseUnavailable",
    "DatabaseUnreadable", "Overview", "Upload", "Version", "available", "clear_caches",
    "clear_expected_datasets", "compare", "complaint_mix", "completeness", "currency",
    "data_version", "database_health", "db_path", "departments", "freshness", "in_scope",
    "indicators", "ingest_uploads", "latest_complete_month", "mark_month_complete", "months",
    "not_loaded", "overview", "promise_summary", "reading", "response_histogram", "route",
    "row_counts", "save_setting", "save_settings", "save_targets", "settings", "state",
    "status_in_scope", "targets", "time_zones", "undo_upload", "undoable_uploads",
    "upload_log", "upload_root", "ALL_CHANNELS", "CHANNEL_KEY", "by_channel", "channel",
    "channels", "explanation", "records", "unusual",
]


# --- older private names: the tests and the benchmark call these with an explicit path,
# version and scope ------------------------------------------------------------------------

_key = connection.key
_connect = connection.connect
_open = connection.open_connection
_read = connection.read
_write = connection.write
_total_rows = loaders.total_rows
_grid = loaders.grid
_indicators = loaders.indicators
_overview = loaders.overview
_compare = loaders.compare
_month_values = loaders._month_values
_month_status = loaders._month_status
_completeness = loaders.completeness
_freshness = loaders.freshness
_route = loaders.route
_complaint_mix = loaders.complaint_mix
_histogram = loaders.histogram
_promise = loaders.promise
_health = loaders.health
_check_department = loaders.check_department

_STORED = {
    "settings": loaders.settings,
    "targets": loaders.targets,
    "row_counts": loaders.row_counts,
    "upload_log": loaders.upload_log,
    "undoable": loaders.undoable,
}


def _stored(path: str, version: Version, what: str, scope: auth.Scope) -> Any:
    """The typed loader named ``what`` (``settings``, ``targets``, ``row_counts``,
    ``upload_log``, ``undoable``): the older string-keyed call, kept for the tests and the
    benchmark that still use it; the pages call the typed loaders."""
    return _STORED[what](path, version, scope)


# --- what pages call -------------------------------------------------------------------


@dataclass(frozen=True)
class DataState:
    """Whether there is anything to show, and why not."""

    exists: bool
    rows: int
    error: str | None = None
    busy: bool = False
    """The error is a load in progress elsewhere: it ends by itself."""

    @property
    def ready(self) -> bool:
        return self.exists and self.rows > 0 and self.error is None


def state() -> DataState:
    """The database's state: missing file, no rows, busy, or ready."""
    path, version = _key()
    if not Path(path).exists():
        return DataState(exists=False, rows=0)
    try:
        rows = loaders.total_rows(path, version)
    except DatabaseUnavailable as exc:
        return DataState(exists=True, rows=0, error=str(exc), busy=isinstance(exc, DatabaseBusy))
    except duckdb.CatalogException:
        # A DuckDB file made by something else, without our tables yet: nothing to show.
        return DataState(exists=True, rows=0)
    return DataState(exists=True, rows=rows)


def _scope() -> auth.Scope:
    return auth.current().scope


CHANNEL_KEY = "channel"
"""The sidebar's channel choice (:mod:`dashboard.filters`), in the session state and the URL."""
ALL_CHANNELS = "All channels"
"""Every channel together: the totals, the indicators as they have always been."""


def channel() -> str | None:
    """The channel chosen in the sidebar; None for every channel together."""
    chosen = st.session_state.get(CHANNEL_KEY)
    return None if chosen in (None, ALL_CHANNELS) else str(chosen)


def channels() -> list[str]:
    """Every channel the indicators are computed for (``not given`` among them when a row has
    no channel)."""
    return loaders.channels(*_key())


def by_channel(department: str, month: str) -> pd.DataFrame:
    """Every channel's indicators of ``department`` (or All) in ``month``: ``month``,
    ``department``, ``channel``, ``indicator``, ``value``.

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    return loaders.by_channel(*_key(), _scope(), department, month)


def indicators() -> pd.DataFrame:
    """The indicator long table (``month``, ``department``, ``indicator``, ``value``), in scope;
    of the channel chosen in the sidebar, if one is."""
    return loaders.indicators(*_key(), _scope(), channel())


def settings() -> store.Settings:
    """Settings; a team lead's per-department promises are only theirs and the default."""
    return loaders.settings(*_key(), _scope())


def targets() -> pd.DataFrame:
    """Stored targets in scope, months as ``YYYY-MM`` text, ``*`` = all departments."""
    return loaders.targets(*_key(), _scope())


def row_counts() -> pd.DataFrame:
    """Stored rows per dataset, month and department, in scope."""
    return loaders.row_counts(*_key(), _scope())


def upload_log() -> pd.DataFrame:
    """The newest uploads first (analysts only: the log names every department's slices)."""
    return loaders.upload_log(*_key(), auth.require_editor().scope)


def undoable_uploads() -> pd.DataFrame:
    """The accepted uploads that can be undone now, newest first (analysts only;
    :func:`indicators.undo.undoable`)."""
    return loaders.undoable(*_key(), auth.require_editor().scope)


def complaint_mix() -> pd.DataFrame:
    """Complaints by component, month and department, in scope."""
    return loaders.complaint_mix(*_key(), _scope())


def response_histogram(month: str, department: str) -> pd.DataFrame:
    """Binned response times of the month's answered requests, each bin split into the
    requests that kept their own promise and those that did not
    (:func:`indicators.compute.response_times_by_promise`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return loaders.histogram(path, version, month, department, _scope())


def promise_summary(month: str, department: str) -> dict[str, Any] | None:
    """The month's promise for ``department`` (All: every request): requests, kept, the median
    promise and whether promises vary (:func:`indicators.compute.promise_summary`); ``None``
    when the month has no requests.

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    rows = loaders.promise(path, version, month, department, _scope())
    return None if rows.empty else rows.iloc[0].to_dict()


def currency() -> Currency:
    """The currency money is written in (the settings'; none while there is nothing to read)."""
    if not state().ready:
        return Currency()
    chosen = settings()
    return Currency(symbol=chosen.currency_symbol, code=chosen.currency_code)


def checkins() -> pd.DataFrame:
    """Every check-in on a target in the user's scope (:func:`indicators.checkins.read_checkins`)."""
    return loaders.checkins(*_key(), _scope())


def event_notes() -> pd.DataFrame:
    """Every note on an event in the user's scope (:func:`indicators.checkins.read_notes`)."""
    return loaders.event_notes(*_key(), _scope())


def route() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(route_table, route_summary)`` for every stored target in scope."""
    return loaders.route(*_key(), _scope())


def overview(department: str, month: str) -> Overview:
    """``(table, route, summary)`` for the scorecard of one department and month, read for it
    alone (see :func:`dashboard.loaders.overview` and :class:`Overview`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return loaders.overview(path, version, _scope(), department, month, channel())


def explanation(
    indicator: str, month: str, department: str, *, by: str, against: str
) -> tuple[Any, str | None]:
    """What moved ``indicator`` in ``department`` at ``month`` (:func:`indicators.explain.
    explain`), or why it can't be split; a team lead sees the departments outside their view
    as one segment.  :class:`dashboard.auth.Forbidden` for a department outside the view."""
    path, version = _key()
    return loaders.explanation(path, version, _scope(), indicator, month, department, by,
                               against)


def records(
    indicator: str, month: str, department: str, *, component: str | None = None,
    order_by: str | None = None, descending: bool = False, limit: int | None = 100,
    offset: int = 0, channel: str | None = None,
) -> tuple[Any, str | None]:
    """The rows behind ``indicator`` in ``department`` at ``month`` (one page;
    :func:`indicators.records.records`), or why they can't be listed.  A team lead's are their
    departments' rows only.  :class:`dashboard.auth.Forbidden` outside the user's view."""
    path, version = _key()
    return loaders.records(path, version, _scope(), indicator, month, department, component,
                           order_by, descending, limit, offset, channel)


def unusual(department: str, months: tuple[str, str] | None = None) -> pd.DataFrame:
    """The unusual values of ``department`` (or All) in ``months`` (None: every month): month,
    department, indicator, value, score and the one-line reason (docs/indicators.md).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    if channel() is not None:  # judged on every channel together (docs/indicators.md)
        return pd.DataFrame(columns=list(loaders.UNUSUAL_COLUMNS))
    path, version = _key()
    return loaders.unusual(path, version, _scope(), department, months)


def compare(department: str, month: str) -> pd.DataFrame:
    """All's value and ``department``'s rank among the departments in ``month``, per indicator
    (:data:`dashboard.scorecard.COMPARE_COLUMNS`; empty for All).  A team lead gets the rank
    among every department as a number, and nothing of the others (see
    :func:`dashboard.loaders.compare`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return loaders.compare(path, version, _scope(), department, month, channel())


def departments() -> list[str]:
    """Departments with data in the user's view, ``All`` first."""
    return loaders.grid(*_key(), _scope())[1]


def months() -> list[str]:
    """Reported months, newest first."""
    return loaders.grid(*_key(), _scope())[0]


def database_health() -> store.Health:
    """The database's health (:func:`indicators.store.check`): every table read whole, rows each.

    :class:`DatabaseUnavailable` while it cannot be opened.
    """
    return loaders.health(*_key())


def time_zones() -> list[str]:
    """IANA time zone names DuckDB knows (for the settings page)."""
    return loaders.time_zones()


def completeness() -> pd.DataFrame:
    """Per month and department in scope (and All): ``complete``, the ``missing`` datasets,
    ``marked`` by hand, and All's ``incomplete_departments`` (see
    :mod:`indicators.completeness`); outside a team lead's view only "other departments"."""
    return loaders.completeness(*_key(), _scope())


def not_loaded(department: str, month: str) -> frozenset[str]:
    """The datasets ``department`` (or All) lacks in ``month``; empty when complete or marked.

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    from indicators.completeness import missing_in

    scope = _scope()
    loaders.check_department(department, scope)
    return missing_in(loaders.completeness(*_key(), scope), month, department)


def latest_complete_month(department: str) -> str | None:
    """The newest month complete for ``department`` (or All), None when no month is."""
    from indicators.completeness import latest_complete

    scope = _scope()
    loaders.check_department(department, scope)
    return latest_complete(loaders.completeness(*_key(), scope), department)


def freshness() -> pd.DataFrame:
    """``dataset``, ``last_loaded`` (UTC): the last accepted load of each dataset, in the
    datasets' order; no department names, so every role may read it."""
    return loaders.freshness(*_key())
