"""The scorecard's cards of one department and month, with what they are read from: shared by
the scorecard and the service chain pages (the same figures, statuses and notes on both)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard import data, scorecard
from indicators.completeness import missing_in


@dataclass(frozen=True)
class Cards:
    card: pd.DataFrame
    """:func:`dashboard.scorecard.scorecard`'s rows, with the month's notes and unusual values
    (:func:`dashboard.scorecard.with_notes`, :func:`dashboard.scorecard.with_unusual`)."""
    table: pd.DataFrame
    route: pd.DataFrame
    summary: pd.DataFrame
    notes: pd.DataFrame


def read(department: str, month: str) -> Cards:
    """The cards of ``department`` in ``month``: values, changes, targets' statuses, and which
    datasets each month shown has not loaded."""
    table, route_rows, summary = data.overview(department, month)
    months_status = data.completeness()  # one read for the dozen months the cards show
    not_loaded = {m: missing_in(months_status, m, department) for m in table["month"].unique()}
    card = scorecard.scorecard(table, department, month, targets=summary, route=route_rows,
                               not_loaded=not_loaded, latest=next(iter(data.months()), None))
    notes = data.event_notes()
    card = scorecard.with_notes(card, notes, department)
    if data.channel() is not None:
        card = scorecard.not_per_channel(card)
    window = sorted(set(card["trend_months"].iloc[0])) if len(card) else []
    flags = data.unusual(department, (window[0], window[-1])) if window else None
    if flags is not None:
        card = scorecard.with_unusual(card, flags)
    return Cards(card, table, route_rows, summary, notes)
