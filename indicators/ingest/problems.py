"""What is wrong with a file (:class:`Problem`), what happened to it (:class:`IngestResult`),
and the report the command line prints (:func:`format_result`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from indicators import store

MAX_PROBLEMS: int = 200
"""Problems reported per file; the count of all problems is still given in the message."""

@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded file; ``row`` as in the file (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str


@dataclass(frozen=True)
class FileWarning:
    """Something in a file that loads but looks like a mistake (a date at 1970-01-01, a file
    named latin-1 that is UTF-8); with ``--strict`` it rejects the file instead."""

    column: str | None
    value: str | None
    text: str
    """What a person reads: what was found and what to check."""


@dataclass
class IngestResult:
    """What happened to one uploaded file."""

    file_name: str
    dataset: str | None
    outcome: str
    """``"accepted"`` or ``"rejected"``."""
    rows: int = 0
    slices: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    """Things an accepted load did that look like a mistake (see :data:`MAX_NEW_DEPARTMENTS`;
    targets for departments without data, :func:`warn_unknown_departments`)."""
    load_id: int | None = None
    """The file's entry in ``upload_log`` (what ``python -m indicators undo`` takes); None
    until it is logged."""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table (``file``, ``row``, ``column``, ``value``, ``rule``)."""
        return pd.DataFrame(
            {
                "file": pd.Series([p.file for p in self.problems], dtype="str"),
                "row": pd.Series([p.row for p in self.problems], dtype="Int64"),
                "column": pd.Series([p.column for p in self.problems], dtype="str"),
                "value": pd.Series([p.value for p in self.problems], dtype="str"),
                "rule": pd.Series([p.rule for p in self.problems], dtype="str"),
            }
        )


class Rejected(Exception):
    """Raised while reading a file to reject it whole; carries what to report."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].rule if problems else "rejected")
        self.problems = problems

def reject_one(
    name: str,
    rule: str,
    *,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
) -> Rejected:
    return Rejected([Problem(name, row, column, value, rule)])


def format_result(result: IngestResult) -> str:
    """The lines the command line prints for one file.

    Each line is :func:`indicators.store.printable`: a control or format character in a file
    name, a header or a value (a line break, an ANSI escape, a bidi override) is shown escaped
    (``\\n``, ``\\x1b``, ``\\u202e``), so no name can forge a line or drive the terminal.
    """
    if result.accepted:
        lines = [
            f"accepted: {result.file_name} → {result.dataset}, {result.rows} row{'' if result.rows == 1 else 's'}, "
            f"{slices_summary(result.slices)}"
        ]
    else:
        lines = [
            f"rejected: {result.file_name}"
            + (f" ({result.dataset})" if result.dataset else "")
            + f" — {result.message}"
        ]
        for p in result.problems:
            where = "" if p.row is None else f" row {p.row}"
            col = "" if p.column is None else f" column {p.column}"
            value = "" if p.value is None else f" value {p.value!r}"
            lines.append(f"  {p.file}{where}{col}{value}: {p.rule}")
    if result.ignored_columns:
        lines.append("  ignored columns: " + ", ".join(result.ignored_columns))
    return "\n".join(store.printable(line) for line in lines)


def slices_text(slices: Sequence[tuple[str, ...]]) -> str:
    return "; ".join(" ".join(s) for s in slices)


def slices_summary(slices: Sequence[tuple[str, ...]], *, listed: int = 6) -> str:
    """Every slice when there are few; else how many, over which months and departments."""
    if len(slices) <= listed:
        return "slices " + slices_text(slices)
    firsts = sorted({s[0] for s in slices})
    seconds = {s[1] for s in slices}
    return (
        f"{len(slices)} slices ({len(firsts)} × {firsts[0]}…{firsts[-1]}, "
        f"{len(seconds)} × {', '.join(sorted(seconds)[:3])}{'…' if len(seconds) > 3 else ''})"
    )
