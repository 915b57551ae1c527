"""The upload log for people: headers in words, what each entry did, the uploads to undo (pure).

>>> outcome_text("accepted", undoes=None, undone_by=14)
'accepted, undone by #14'
>>> outcome_text("undo", undoes=12, undone_by=None)
'undo of #12'
>>> rows_text(1), rows_text(1200)
('1 row', '1,200 rows')
>>> slices_summary("2025-01 North; 2025-01 South; 2025-02 North; 2025-03 North", listed=2)
'2025-01 North; 2025-01 South … (4 slices)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from indicators import undo

LOG_COLUMNS: dict[str, str] = {
    "id": "#",
    "uploaded_at": "Uploaded (UTC)",
    "user": "By",
    "file_name": "File",
    "dataset": "Dataset",
    "slices": "Slices replaced",
    "rows": "Rows",
    "outcome": "Outcome",
    "warnings": "Warnings",
    "message": "Details",
}
"""The log's columns as the upload page shows them, in order."""
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
WHOLE_TABLE = "the whole table"


def _given(value: object) -> bool:
    return value is not None and not pd.isna(value)  # type: ignore[arg-type]


def outcome_text(outcome: str, *, undoes: object, undone_by: object) -> str:
    """``accepted``, ``accepted, undone by #14``, ``rejected`` or ``undo of #12``."""
    if outcome == undo.UNDO_OUTCOME and _given(undoes):
        return f"undo of #{int(undoes)}"  # type: ignore[call-overload]
    if _given(undone_by):
        return f"{outcome}, undone by #{int(undone_by)}"  # type: ignore[call-overload]
    return outcome


def rows_text(n: int) -> str:
    """``1 row``, ``1,200 rows``."""
    return f"{n:,} row{'' if n == 1 else 's'}"


def slices_summary(slices: object, *, listed: int = 3) -> str:
    """The first ``listed`` slices of a log entry and how many there are in all."""
    if not isinstance(slices, str) or not slices:
        return ""
    parts = slices.split("; ")
    if len(parts) <= listed:
        return slices
    return f"{'; '.join(parts[:listed])} … ({len(parts):,} slices)"


def warnings_text(warnings: object) -> str:
    """A log entry's warnings (stored one a line) on one line, ``·`` between them.

    >>> warnings_text("a: 2 rows dated 1970-01-01\\nb: 1 row dated 2016-03-04"), warnings_text(None)
    ('a: 2 rows dated 1970-01-01 · b: 1 row dated 2016-03-04', '')
    """
    if not isinstance(warnings, str):
        return ""
    return " · ".join(line for line in warnings.splitlines() if line)


def log_table(log: pd.DataFrame) -> pd.DataFrame:
    """:func:`indicators.store.read_upload_log`'s frame as the page shows it: headers in
    words, the time to the second, the outcome saying which entry undid which, the warnings
    on one line (:func:`warnings_text`)."""
    shown = log.assign(
        uploaded_at=log["uploaded_at"].dt.strftime(TIME_FORMAT),
        outcome=[
            outcome_text(o, undoes=u, undone_by=b)
            for o, u, b in zip(log["outcome"], log["undoes"], log["undone_by"], strict=True)
        ],
        warnings=log["warnings"].map(warnings_text),
    )
    return shown[list(LOG_COLUMNS)].rename(columns=LOG_COLUMNS)


def undo_label(row: Mapping[str, Any]) -> str:
    """One upload to undo, as the choice lists it: id, time, file, dataset and slices."""
    when = pd.Timestamp(row["uploaded_at"]).strftime("%Y-%m-%d %H:%M")
    slices = WHOLE_TABLE if row.get("whole_table") else slices_summary(row["slices"])
    return f"#{row['id']} · {when} UTC · {row['file_name']} · {row['dataset']} · {slices}"


def undo_effect(row: Mapping[str, Any]) -> str:
    """What undoing an upload of :func:`indicators.undo.undoable` does, in words."""
    now = "every row the table holds now" if row["whole_table"] else "the rows it loaded"
    if not row["replaced_rows"]:
        return f"It replaced no stored rows, so this removes {now}."
    return f"This puts back the {rows_text(row['replaced_rows'])} it replaced and removes {now}."
