"""What a computation or a read covers: months, departments and channels.

A :class:`Scope` is frozen and hashable, so it can key a cache.  ``None`` means "no
restriction": ``Scope()`` is every month and every department, ``All`` included.

``channels``: ``None`` (the default) is every channel together — the indicators as they have
always been; a tuple names channels (:data:`indicators.catalog.NOT_GIVEN` among them or not),
and a read gives those channels' rows, one per channel (:mod:`indicators.channels`).

>>> s = Scope(months=("2025-01", "2025-12"), departments=("Repairs",))
>>> s.with_all, s.named
(False, ('Repairs',))
>>> Scope(departments=("All", "Repairs")).with_all
True
>>> Scope().with_all, Scope().named is None
(True, True)
>>> Scope(channels=["web"]).channels, Scope().by_channel
(('web',), False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from indicators.catalog import ALL_DEPARTMENTS


@dataclass(frozen=True)
class Scope:
    """Months ``(first, last)`` (``YYYY-MM``, both included) and department names (``All``
    among them or not); ``None``: every one.  ``channels``: ``None``, every channel together;
    a tuple, those channels one by one."""

    months: tuple[str, str] | None = None
    departments: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.departments is not None and not isinstance(self.departments, tuple):
            object.__setattr__(self, "departments", tuple(self.departments))
        if self.channels is not None and not isinstance(self.channels, tuple):
            object.__setattr__(self, "channels", tuple(self.channels))
        if self.months is not None:
            first, last = self.months
            object.__setattr__(self, "months", (str(first), str(last)))

    @classmethod
    def of(cls, months: tuple[str, str] | None = None,
           departments: Iterable[str] | None = None,
           channels: Iterable[str] | None = None) -> Scope:
        """A scope from the loose arguments the older functions took."""
        return cls(months, None if departments is None else tuple(departments),
                   None if channels is None else tuple(channels))

    @property
    def everything(self) -> bool:
        """No restriction at all (every channel together)."""
        return self.months is None and self.departments is None and self.channels is None

    @property
    def by_channel(self) -> bool:
        """Whether the scope reads channels one by one (:mod:`indicators.channels`)."""
        return self.channels is not None

    @property
    def with_all(self) -> bool:
        """Whether ``All`` (every department together) is in the scope."""
        return self.departments is None or ALL_DEPARTMENTS in self.departments

    @property
    def named(self) -> tuple[str, ...] | None:
        """The departments named (``All`` aside); ``None``: every department."""
        if self.departments is None:
            return None
        return tuple(d for d in self.departments if d != ALL_DEPARTMENTS)

    def holds_month(self, month: str) -> bool:
        return self.months is None or self.months[0] <= month <= self.months[1]

    def holds_department(self, department: str) -> bool:
        return self.departments is None or department in self.departments

    def holds_channel(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels
