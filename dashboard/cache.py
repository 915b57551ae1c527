"""The registry of the app's cached loaders — the only place that calls ``st.cache_data``.

Every cached function of :mod:`dashboard` is declared with :func:`loader`, which wraps it in
``st.cache_data`` (bounded: ``ttl`` and ``max_entries``) and records it, so
:func:`clear_caches` (after every write, and from the settings page) walks the registry
instead of a hand-kept list: a loader added later is cleared without anyone remembering to.

A cached function takes everything it depends on as arguments (database path, data version,
scope …) and never reads globals, so its arguments are its cache key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

CACHE_TTL_SECONDS = 600
"""A safety net: the data version already changes when the file does."""

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: list[Any] = []
"""Every function :func:`loader` has wrapped, in declaration order."""


def loader(
    *, max_entries: int, ttl: float = CACHE_TTL_SECONDS, show_spinner: bool | str = False
) -> Callable[[F], F]:
    """Declare a cached loader: ``st.cache_data(ttl=..., max_entries=..., show_spinner=...)``,
    recorded so that :func:`clear_caches` clears it."""

    def wrap(fn: F) -> F:
        cached = st.cache_data(ttl=ttl, max_entries=max_entries, show_spinner=show_spinner)(fn)
        _REGISTRY.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def registered() -> tuple[Any, ...]:
    """The cached loaders declared so far (each has ``.clear()``)."""
    return tuple(_REGISTRY)


def clear_caches() -> None:
    """Forget every cached result of every registered loader, so all pages read afresh."""
    for fn in _REGISTRY:
        fn.clear()
