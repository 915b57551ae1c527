"""Complaint handling in words: the backlog at the month's end and the complaints closed within
the promise, as the opportunity page's headline says them.

Values come from the indicator table (:mod:`indicators.catalog`'s ``complaint_backlog``,
``backlog_age_median``, ``backlog_over_8_weeks``, ``complaints_resolved_within_promise``); a
missing value is said as such, never as 0.

>>> backlog_sentence(42.0, 9.5, 11.9, month="2025-12")
'At the end of 2025-12, **42** complaints were open; the median one had been open **9.5 days**, and **11.9 %** were older than 8 weeks.'
>>> backlog_sentence(0.0, float("nan"), float("nan"), month="2025-12")
'At the end of 2025-12, no complaint was open.'
>>> promise_sentence(64.25, 3, month="2025-12")
"**64.3 %** of 2025-12's complaints were resolved within the promise of 3 business days."
"""

from __future__ import annotations

from indicators import units

_COUNT = units.UNITS["count"]
_SHARE = units.UNITS["%"]
_DAYS = units.UNITS["days"]


def backlog_sentence(backlog: float, age_days: float, old_share: float, *, month: str,
                     not_loaded: bool = False) -> str:
    """The backlog at the end of ``month``: how many were open, the median age, the old share."""
    if not_loaded:
        return f"Complaints not loaded for {month} yet, so the backlog at its end is not known."
    if units.is_missing(backlog):
        return f"The backlog at the end of {month} is not known."
    if backlog == 0:
        return f"At the end of {month}, no complaint was open."
    noun = "complaint was" if backlog == 1 else "complaints were"
    return (f"At the end of {month}, **{_COUNT.text(backlog)}** {noun} open; the median one had "
            f"been open **{_DAYS.text(age_days)}**, and **{_SHARE.text(old_share)}** "
            f"{'was' if backlog == 1 else 'were'} older than 8 weeks.")


def promise_sentence(within: float, promise_days: int, *, month: str) -> str:
    """The share of ``month``'s complaints resolved within the promise of ``promise_days``."""
    days = "business day" if promise_days == 1 else "business days"
    if units.is_missing(within):
        return (f"No complaint was opened in {month}: nothing to judge against the promise of "
                f"{promise_days} {days}.")
    return (f"**{_SHARE.text(within)}** of {month}'s complaints were resolved within the "
            f"promise of {promise_days} {days}.")
