"""What is wrong with a file (:class:`Problem`), what happened to it (:class:`IngestResult`),
and the report the command line prints (:func:`format_result`).

A rejection is reported in three layers, so that a file with thousands of problems reads in a
few lines: the message (``7,548 problems in 2 rules (the first 200 listed); nothing was
stored``), one line per (column, rule) with the count of ALL the rows breaking it and the first
of them (:class:`RuleSummary`, most frequent first), then every problem up to
:data:`MAX_PROBLEMS`, each with its row, column, value (the cell's text) and rule::

    rejected: sales.csv (purchases) — 7,548 problems in 2 rules (the first 200 listed); …
      amount: must be ≥ 0 — 3,838 rows, first 18, 27, 41
      customer_id: required value is empty — 3,710 rows, first 2, 5, 9
      sales.csv row 2 column customer_id value '': required value is empty
      …
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


FIRST_ROWS: int = 3
"""Rows a summary line names."""


@dataclass(frozen=True)
class RuleSummary:
    """One (column, rule) of a rejected file: how many problems break it and the first rows."""

    column: str | None
    rule: str
    """The rule as a person reads it, without what differs from row to row (the other
    column's value, the row of a duplicate's first occurrence); for unreadable dates it says
    which format the values look like."""
    count: int
    """Problems of ALL the file's rows, not only those listed."""
    first_rows: tuple[int, ...] = ()
    """Up to :data:`FIRST_ROWS` of them, as in the file (empty for a problem of the file)."""

    def line(self) -> str:
        """``amount: must be ≥ 0 — 3,838 rows, first 18, 27, 41``."""
        head = self.rule if self.column is None else f"{self.column}: {self.rule}"
        rows = ", ".join(str(r) for r in self.first_rows)
        if not self.first_rows:
            return head if self.count == 1 else f"{head} — {self.count:,} times"
        if self.count == 1:
            return f"{head} — row {rows}"
        if self.count <= len(self.first_rows):
            return f"{head} — {self.count:,} rows: {rows}"
        return f"{head} — {self.count:,} rows, first {rows}"


def summarise(problems: Sequence[Problem]) -> list[RuleSummary]:
    """Summaries of problems that are all known (a file rejected while it was read)."""
    groups: dict[tuple[str | None, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.column, p.rule), []).append(p)
    return sort_summary(
        RuleSummary(
            column,
            rule,
            len(found),
            tuple(sorted({p.row for p in found if p.row is not None})[:FIRST_ROWS]),
        )
        for (column, rule), found in groups.items()
    )


def sort_summary(summary: Iterable[RuleSummary]) -> list[RuleSummary]:
    """Most frequent first, then by the first row; else in the order found."""
    return sorted(summary, key=lambda s: (-s.count, s.first_rows[:1] or (0,)))


def rejection_message(
    problems: Sequence[Problem], total: int, summary: Sequence[RuleSummary]
) -> str:
    """What a rejected file's message says: the one problem's rule, or how many problems
    (``total``, of which ``problems`` are listed) in how many rules; that nothing was stored.

    The outcome is said by whoever shows the message (``rejected: f.csv — …``, the log's
    outcome column), so the message itself does not repeat it.
    """
    if total == 1 and problems:
        return f"{problems[0].rule}; nothing was stored"
    rules = len(summary)
    text = f"{total:,} problems" + (f" in {rules:,} rule{'' if rules == 1 else 's'}" if rules else "")
    if total > len(problems):
        text += f" (the first {len(problems):,} listed)"
    return f"{text}; nothing was stored"


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
    summary: list[RuleSummary] = field(default_factory=list)
    """A rejected file's problems per (column, rule), most frequent first (counts of all rows)."""
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

    def summary_lines(self) -> list[str]:
        """The summary's lines when they say more than the list of problems: some rule is
        broken more than once.  (A file whose every problem breaks its own rule is read from
        the list itself.)"""
        if all(s.count == 1 for s in self.summary):
            return []
        return [s.line() for s in self.summary]

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
    """The lines the command line prints for one file: for a rejected one, the message, the
    summary lines (:meth:`IngestResult.summary_lines`) and every problem listed.

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
        lines += [f"  {line}" for line in result.summary_lines()]
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
