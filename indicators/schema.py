"""The dataset contracts (SPEC §1), declared once.

Validation, the stored tables, the upload page and the docs all read these declarations.

Column kinds and how a file's text is read:

* ``id`` / ``text``: kept as text, surrounding spaces trimmed (``007`` stays ``007``);
* ``timestamp``: ISO 8601 (``2025-03-07``, ``2025-03-07T14:05``, seconds, ``Z`` or an
  offset), or the date format the user names; a value with an offset is that instant, one
  without is a wall-clock time in the organisation's time zone; stored as the instant in UTC
  (``TIMESTAMP``), so durations are elapsed time; an event's ``month`` is its month in the
  organisation's zone;
* ``month``: ``YYYY-MM``;
* ``number``: a decimal number (decimal comma accepted in ``;``-delimited files);
* ``money``: an amount, stored exactly as ``DECIMAL(18,4)``: plain digits with at most
  :data:`MONEY_DECIMALS` decimal places (zeros after them allowed), a decimal point (or comma
  in ``;``-delimited files), no exponent, no thousands separators, at most :data:`MAX_MONEY` in
  magnitude — read from the text straight into the decimal, never through a double;
* ``integer``: whole number written without a decimal point;
* ``choice``: one of ``choices``, matched case-insensitively, stored in lower case.

An empty cell is a missing value; it is allowed only where ``allow_empty`` is true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS, SERVICE_COMPONENTS

Kind = Literal["id", "text", "timestamp", "month", "number", "money", "integer", "choice"]

ALL_DEPARTMENTS_TARGET = "*"
"""In the targets dataset, ``*`` stands for all departments (the ``All`` row)."""

MAX_MAGNITUDE: float = 1e15
"""A ``number`` cell above this in magnitude (or not finite: inf, nan) is rejected.

A thousand million million is beyond any minute, count or target the dashboard measures, so a
larger value is a mistyped or corrupted cell; whole units are exact in a double below 2**53
(about 9e15).  Amounts are ``money`` cells, capped by :data:`MAX_MONEY`."""

MONEY_DECIMALS: int = 4
"""Decimal places an amount is stored to (0.0001): a cell with more is rejected, never rounded."""
MONEY_SQL_TYPE: str = f"DECIMAL(18,{MONEY_DECIMALS})"
"""How a ``money`` column is stored: 18 digits, 4 of them decimals (a 64-bit integer of
ten-thousandths).  Sums are ``DECIMAL(38,4)``: exact, so the same in every run."""
MAX_MONEY: Decimal = Decimal("99999999999999.9999")
"""The largest amount (in magnitude) :data:`MONEY_SQL_TYPE` holds, just under 10^14; a larger
cell is rejected.  10^9 purchases of up to 10^9 each sum to 10^18, far inside a sum's
``DECIMAL(38,4)`` (up to 10^34)."""

ROUTE_SHAPES: tuple[str, ...] = ("straight", "seasonal", "steps")
"""A target's planned route: a straight line from baseline to target, the indicator's own
seasonal profile, or planned values given month by month (:mod:`indicators.route`)."""

MAX_ROUTE_MONTHS: int = 120
"""A target's route, baseline month to target month, spans at most this many months (ten
years): the route is drawn month by month, and a mistyped year (``0001``) must not make it
thousands of months long."""

SQL_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "choice": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "month": "DATE",
    "number": "DOUBLE",
    "money": MONEY_SQL_TYPE,
    "integer": "BIGINT",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    """The column must be in the file's header."""
    allow_empty: bool = False
    """A cell may be empty (a missing value)."""
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    not_before: str | None = None
    """This value must be ≥ the value of that column in the same row (when both are present)."""
    strictly_after: bool = False
    """With ``not_before``: must be > rather than ≥."""
    not_after: str | None = None
    """This value must be ≤ the value of that column in the same row (when both are present)."""
    unique: bool = False
    """No two rows of one file may share a value."""
    reserved: tuple[tuple[str, str], ...] = ()
    """Values refused (case-insensitively), each with the reason given: ``(value, reason)``."""
    max_months_after: int | None = None
    """With ``not_before`` (a month column): at most this many months after it."""
    range_by: tuple[str, dict[str, tuple[int, int]]] | None = None
    """Inclusive range that depends on another column's value, e.g. score by survey kind."""
    only_when: tuple[str, str] | None = None
    """``(column, value)``: a cell is required when that column of the row holds ``value``,
    and must be empty otherwise (a target's steps, with ``shape`` = ``steps``)."""
    steps_between: tuple[str, str] | None = None
    """``(first, last)`` month columns: the cell is a list of planned values
    ``YYYY-MM=value; …`` for months after ``first`` and before ``last``, each month once."""
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    month_column: str | None
    """The column whose month a row belongs to (None: the dataset is not sliced by month)."""
    slice_key: tuple[str, ...]
    """An upload replaces exactly the stored rows whose slice key values occur in the file."""
    unique_together: tuple[str, ...] = ()
    """No two rows of one file may share these values."""
    description: str = ""
    event: bool = field(default=True)
    """Rows are events dated by ``month_column`` (a timestamp); the month is derived."""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"dataset {self.name!r} has no column {name!r}")


def _ts(name: str, **kw) -> Column:
    return Column(name, "timestamp", **kw)


def _department(**kw) -> Column:
    """A data row's department; ``All`` is the pseudo-department of every department together
    and ``*`` means all departments in targets, so neither may name a department."""
    return Column(
        "department", "text",
        reserved=(
            (ALL_DEPARTMENTS, f"{ALL_DEPARTMENTS!r} is reserved for every department together; "
             "rename the department"),
            (ALL_DEPARTMENTS_TARGET, f"{ALL_DEPARTMENTS_TARGET!r} means all departments only in "
             "targets; rename the department"),
        ),
        **kw,
    )


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "purchases",
            (
                Column("purchase_id", "id", unique=True, description="unique purchase id"),
                _ts("purchased_at", description="when the purchase was made"),
                Column("customer_id", "id", description="who bought"),
                _department(description="department that sold"),
                Column("amount", "money", minimum=0, description="amount paid (≥ 0)"),
                Column("channel", "text", required=False, allow_empty=True),
                Column(
                    "list_amount", "money", required=False, allow_empty=True,
                    not_before="amount", description="price before discount (≥ amount)",
                ),
            ),
            month_column="purchased_at",
            slice_key=("month", "department"),
            description="one row per purchase",
        ),
        Dataset(
            "complaints",
            (
                Column("complaint_id", "id", unique=True),
                _ts("opened_at", description="when the complaint was opened"),
                _department(),
                Column("customer_id", "id", required=False, allow_empty=True),
                Column(
                    "component", "choice", required=False, allow_empty=True,
                    choices=SERVICE_COMPONENTS,
                    description="service component; empty = unclassified",
                ),
                Column(
                    "category", "text", required=False, allow_empty=True,
                    description="free text, e.g. the source system's complaint type",
                ),
                _ts(
                    "resolved_at", required=False, allow_empty=True, not_before="opened_at",
                    description="when it was resolved (≥ opened_at); empty = unresolved",
                ),
                Column(
                    "compensation", "money", required=False, allow_empty=True, minimum=0,
                    description="compensation paid (≥ 0)",
                ),
                Column("channel", "text", required=False, allow_empty=True),
            ),
            month_column="opened_at",
            slice_key=("month", "department"),
            description="one row per complaint",
        ),
        Dataset(
            "responses",
            (
                Column("request_id", "id", unique=True),
                _department(),
                _ts("received_at", description="when the request came in"),
                _ts(
                    "responded_at", allow_empty=True, not_before="received_at",
                    description="when it was answered (≥ received_at); empty = not yet answered",
                ),
                Column(
                    "promised_minutes", "number", required=False, allow_empty=True,
                    minimum=0, exclusive_minimum=True,
                    description="promised response time (> 0); else the department's promise",
                ),
                Column("channel", "text", required=False, allow_empty=True),
                Column("customer_id", "id", required=False, allow_empty=True,
                       description="who asked (for first-contact resolution)"),
            ),
            month_column="received_at",
            slice_key=("month", "department"),
            description="one row per customer request and its response",
        ),
        Dataset(
            "retention",
            (
                Column("month", "month", description="YYYY-MM"),
                _department(),
                Column("customers_start", "integer", minimum=0),
                Column("customers_end", "integer", minimum=0),
                Column(
                    "new_customers", "integer", minimum=0, not_after="customers_end",
                    description="new customers in the month (≤ customers_end)",
                ),
            ),
            month_column="month",
            slice_key=("month", "department"),
            unique_together=("month", "department"),
            description="one row per month and department",
            event=False,
        ),
        Dataset(
            "surveys",
            (
                Column("survey_id", "id", unique=True),
                _ts("answered_at"),
                _department(),
                Column("kind", "choice", choices=("csat", "nps", "ces")),
                Column(
                    "score", "integer",
                    range_by=("kind", {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}),
                    description="csat 1–5, nps 0–10, ces 1–7 (7 = very easy)",
                ),
                Column("customer_id", "id", required=False, allow_empty=True),
                Column("channel", "text", required=False, allow_empty=True,
                       description="where the answer was given; empty = not given"),
            ),
            month_column="answered_at",
            slice_key=("month", "department"),
            description="one row per survey answer",
        ),
        Dataset(
            "targets",
            (
                Column("indicator", "choice", choices=INDICATOR_IDS),
                Column(
                    "department", "text", description="a department, or * for all",
                    reserved=(
                        (ALL_DEPARTMENTS, f"write * for all departments, not {ALL_DEPARTMENTS!r}"),
                    ),
                ),
                Column("baseline_month", "month"),
                Column(
                    "target_month", "month", not_before="baseline_month", strictly_after=True,
                    max_months_after=MAX_ROUTE_MONTHS,
                ),
                Column("target", "number"),
                Column(
                    "baseline", "number", required=False, allow_empty=True,
                    description="else the value measured at baseline_month",
                ),
                Column(
                    "tolerance", "number", required=False, allow_empty=True, minimum=0,
                    description="how far worse than planned still counts as at risk, in the "
                    "indicator's unit; else 10 % of |target − baseline|",
                ),
                Column(
                    "shape", "choice", required=False, allow_empty=True, choices=ROUTE_SHAPES,
                    description="the planned route: straight (empty = straight), seasonal (the "
                    "indicator's profile of the 12 months before the baseline) or steps",
                ),
                Column(
                    "steps", "text", required=False, allow_empty=True,
                    only_when=("shape", "steps"),
                    steps_between=("baseline_month", "target_month"),
                    description="with shape steps: planned values YYYY-MM=value; … for months "
                    "after baseline_month and before target_month (each holds until the next)",
                ),
                Column(
                    "owner", "text", required=False, allow_empty=True,
                    description="who answers for the target: a name or an e-mail",
                ),
            ),
            month_column=None,
            slice_key=("indicator", "department"),
            unique_together=("indicator", "department"),
            description="one row per indicator and department",
            event=False,
        ),
    )
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
"""In the order an analyst would load them."""

MONTH_DATASETS: tuple[str, ...] = tuple(n for n, d in DATASETS.items() if d.month_column)
"""The datasets whose rows fall in a month (every one but targets)."""

AGGREGATE_DATASETS: frozenset[str] = frozenset({"retention"})
"""Datasets of one summary row per month and department: their rows are not a volume (a
department's size in the month), for ranking (:func:`dashboard.scorecard.indicator_volumes`) or
for unusual values (:func:`indicators.unusual.volumes_from_row_counts`)."""


def recognise(header: list[str]) -> Dataset | None:
    """The dataset whose required columns a normalised header holds, if exactly one does."""
    names = set(header)
    matches = [d for d in DATASETS.values() if set(d.required) <= names]
    return matches[0] if len(matches) == 1 else None


def closest(header: list[str]) -> tuple[Dataset, tuple[str, ...]]:
    """The dataset sharing most required columns with ``header``, and what it lacks."""
    names = set(header)
    best = max(DATASETS.values(), key=lambda d: len(set(d.required) & names) / len(d.required))
    return best, tuple(c for c in best.required if c not in names)


def normalise_header(name: str) -> str:
    """Column names match case-insensitively after trimming spaces (and a UTF-8 BOM)."""
    return name.strip().lstrip("\ufeff").strip().lower()


def _storage(column: Column) -> str:
    """How a column is stored: identifiers without compression, the rest as DuckDB likes.

    Ids (``purchase_id``, ``customer_id``, ``complaint_id`` …) are long, nearly unique strings:
    DuckDB's dictionary + FSST compression of them cost about a quarter of a clean load
    (10 M purchases, paired runs: about 1.3 s per load for ``customer_id`` and 2 s for
    ``purchase_id``) while the engine reads them no slower uncompressed (report and scorecard
    timings equal or better).  The price is disk: about 500 MB instead of 320 MB for the 10 M
    set with complaints, responses and surveys (``bench/``).  Departments, channels, amounts
    and timestamps keep DuckDB's choice: they compress well and cheaply.
    """
    if column.kind == "id":
        return " USING COMPRESSION 'uncompressed'"
    return ""


def table_ddl(dataset: Dataset) -> str:
    """``CREATE TABLE`` for a dataset's stored rows: its columns plus the derived ``month``."""
    cols = [f'"{c.name}" {c.sql_type}{_storage(c)}' for c in dataset.columns]
    if dataset.event:
        cols.append('"month" DATE NOT NULL')
    return f'CREATE TABLE IF NOT EXISTS "{dataset.name}" ({", ".join(cols)})'


_KIND_TEXT: dict[str, str] = {
    "id": "text id",
    "text": "text",
    "choice": "one of",
    "timestamp": "date/time",
    "month": "month YYYY-MM",
    "number": "number",
    "money": f"money (up to {MONEY_DECIMALS} decimal places)",
    "integer": "whole number",
}


def describe_column(column: Column) -> str:
    """The column's rules in words, as the docs and the upload page show them."""
    parts = [_KIND_TEXT[column.kind]]
    if column.choices is not None:
        shown = column.choices if len(column.choices) <= 8 else (*column.choices[:3], "…")
        parts[0] += " " + ", ".join(shown)
    if column.unique:
        parts.append("unique in the file")
    if column.minimum is not None:
        parts.append(f"{'>' if column.exclusive_minimum else '≥'} {column.minimum:g}")
    if column.maximum is not None:
        parts.append(f"≤ {column.maximum:g}")
    if column.not_before is not None:
        parts.append(f"{'>' if column.strictly_after else '≥'} {column.not_before}")
    if column.max_months_after is not None:
        parts.append(f"at most {column.max_months_after} months after {column.not_before}")
    if column.not_after is not None:
        parts.append(f"≤ {column.not_after}")
    if column.range_by is not None:
        by, ranges = column.range_by
        parts.append(
            ", ".join(f"{low}–{high} when {by} is {key}" for key, (low, high) in ranges.items())
        )
    if column.reserved:
        parts.append("not " + ", ".join(repr(value) for value, _ in column.reserved))
    if column.allow_empty:
        parts.append("may be empty")
    return "; ".join(parts)
