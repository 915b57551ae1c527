"""A cell's text and its typed value, as SQL over the source's text columns ``c0 … cN``:
trimmed (empty → NULL), then read strictly by the column's kind (SPEC §1).

A timestamp's typed value is the instant, as a UTC ``TIMESTAMP``: text with ``Z`` or an offset
names it, text without one is a wall-clock time in the organisation's zone; an event row's
month is its instant's month in that zone (:func:`_timestamp`, :func:`_event_month`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from indicators import store
from indicators.ingest.dates import ISO_NAIVE, ISO_ZONED, DateFormat
from indicators.ingest.source import Source
from indicators.ingest.sql import Params, quote
from indicators.schema import (
    MONEY_DECIMALS,
    MONEY_SQL_TYPE,
    Column,
    Dataset,
)

_MONTH = r"\d{4}-\d{2}"
_INTEGER = r"[+-]?\d+"
_NUMBER_POINT = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_NUMBER_COMMA = r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?"
_AMOUNT = r"[+-]?(\d+({point}\d{{0,{n}}})?|{point}\d{{1,{n}}})"
MONEY_PATTERNS: dict[bool, tuple[str, str]] = {
    comma: (amount, amount + "0*")
    for comma, amount in (
        (False, _AMOUNT.format(point=r"\.", n=MONEY_DECIMALS)),
        (True, _AMOUNT.format(point="[.,]", n=MONEY_DECIMALS)),
    )
}
"""An amount as stored, by whether the file may use a decimal comma: digits, a decimal point
(or comma) and at most 4 decimal places; then the same with zeros after them (``12.50000`` is
12.5).  No exponent, no thousands separators.  Two patterns, the second tried only on a cell the
first refuses: one pattern with ``0*`` after the bounded decimals is slower on every cell, and
the fast load reads every cell."""
FORMAT_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
"""Unicode's format characters (category Cf, Unicode 15.1) as inclusive ranges: zero-width
space and joiners, bidi embeddings, overrides and isolates, the BOM, soft hyphen, tags.
Written out (a test compares them with :mod:`unicodedata`) so that the byte scan and the SQL
rule test exactly the same characters."""
CONTROL = (
    r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F"
    + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in FORMAT_CHARACTERS)
    + "]"
)
"""Characters a text cell may not hold: C0 controls but tab and line breaks, DEL, and the
format characters (:data:`FORMAT_CHARACTERS`, the BOM among them).

A NUL, a byte-order mark or a zero-width space is invisible on screen, so ``c\x001``,
``\ufeffp2`` (a BOM left in the middle of files pasted together) or ``All\u200b`` would be
stored as an id or department that looks like another one, and a bidi override reorders the
text shown: silent corruption, so the row is rejected instead."""


# --- staging: trimmed text and typed value of every contract column ----------------------


@dataclass(frozen=True)
class Reading:
    """How a file's cells are read besides their column's kind."""

    date_format: DateFormat | None
    """The non-ISO date format the user named, if any."""
    time_zone: str
    """The organisation's time zone (settings)."""
    decimal_comma: bool
    """A ``;``-delimited file: numbers may use a decimal comma."""


def _text(column: Column, t: str, p: Params, reading: Reading) -> str:
    return t


def _choice(column: Column, t: str, p: Params, reading: Reading) -> str:
    return f"CASE WHEN list_contains({p(list(column.choices or ()))}, lower({t})) THEN lower({t}) END"


def _integer(column: Column, t: str, p: Params, reading: Reading) -> str:
    return f"CASE WHEN regexp_full_match({t}, {p(_INTEGER)}) THEN try_cast({t} AS BIGINT) END"


def number_pattern(decimal_comma: bool) -> str:
    """Any number a cell may write: digits, a decimal point (or comma, in ``;``-delimited
    files), an optional exponent."""
    return _NUMBER_COMMA if decimal_comma else _NUMBER_POINT


def as_double(t: str, decimal_comma: bool) -> str:
    """SQL for text ``t`` matching :func:`number_pattern` read as a DOUBLE."""
    return f"try_cast(replace({t}, ',', '.') AS DOUBLE)" if decimal_comma else f"try_cast({t} AS DOUBLE)"


def _number(column: Column, t: str, p: Params, reading: Reading) -> str:
    pattern = p(number_pattern(reading.decimal_comma))
    return f"CASE WHEN regexp_full_match({t}, {pattern}) THEN {as_double(t, reading.decimal_comma)} END"


def _money(column: Column, t: str, p: Params, reading: Reading) -> str:
    """An amount straight from its text into ``DECIMAL(18,4)`` (never through a double).

    The pattern comes first: DuckDB's cast *rounds* text with more decimal places
    (``12.34567`` → 12.3457) and reads exponents, which an amount may not have.  What matches
    and still does not cast is larger than :data:`~indicators.schema.MAX_MONEY`.
    """
    short, zeros = MONEY_PATTERNS[reading.decimal_comma]
    text = f"replace({t}, ',', '.')" if reading.decimal_comma else t
    decimal = f"try_cast({text} AS {MONEY_SQL_TYPE})"
    return (
        f"CASE WHEN regexp_full_match({t}, {p(short)}) THEN {decimal} "
        f"WHEN regexp_full_match({t}, {p(zeros)}) THEN {decimal} END"
    )


def _month(column: Column, t: str, p: Params, reading: Reading) -> str:
    return f"CASE WHEN regexp_full_match({t}, {p(_MONTH)}) THEN try_cast({t} || '-01' AS DATE) END"


def _timestamp(column: Column, t: str, p: Params, reading: Reading) -> str:
    """The instant a timestamp cell names, as a UTC ``TIMESTAMP``.

    Text with ``Z`` or an offset is an instant.  ISO text without one, and text in the named
    format, is a wall-clock time in the organisation's zone, converted by
    :func:`indicators.store.utc_of_local_sql` — except in a zone of ``store.UTC_ZONES`` (the
    default), where it already is UTC and the SQL is exactly the plain cast, with no ICU call.
    """
    zone = None if store.is_utc_zone(reading.time_zone) else p(reading.time_zone)

    def local(wall_clock: str) -> str:
        return wall_clock if zone is None else store.utc_of_local_sql(wall_clock, zone)

    other = ""
    if reading.date_format is not None:
        strptime = f"try_strptime({t}, {p(list(reading.date_format.formats))})"
        other = (
            f" WHEN regexp_full_match({t}, {p(reading.date_format.pattern)}) "
            f"THEN {local(strptime)}"
        )
    # Naive first: it is the common case, and the two patterns exclude each other (a zoned
    # value ends in Z or an offset), so the order changes no value, only the regex work.  The
    # zoned text goes through TIMESTAMPTZ: a cast straight to TIMESTAMP drops the offset.
    return (
        f"CASE WHEN regexp_full_match({t}, {p(ISO_NAIVE)}) THEN {local(f'try_cast({t} AS TIMESTAMP)')} "
        f"WHEN regexp_full_match({t}, {p(ISO_ZONED)}) "
        f"THEN {store.utc_of_instant_sql(f'try_cast({t} AS TIMESTAMPTZ)')}"
        f"{other} END"
    )


TYPED: dict[str, Callable[[Column, str, Params, Reading], str]] = {
    "id": _text,
    "text": _text,
    "choice": _choice,
    "integer": _integer,
    "number": _number,
    "money": _money,
    "month": _month,
    "timestamp": _timestamp,
}
"""Per column kind: SQL for the typed value of trimmed text ``t``; NULL when it is not exactly
readable (never read loosely)."""


def _trimmed(c: str, ascii_only: bool, edge_spaces: bool = True) -> str:
    """SQL for cell ``c`` trimmed, empty → NULL.

    DuckDB's ``trim`` removes U+0020 and the Unicode space separators (U+00A0, U+2000…, not
    tabs).  In a file of ASCII bytes only U+0020 can occur, so trim() runs only on a cell that
    starts or ends with one: trimming every cell cost about a fifth of a clean file's load, and
    ``prefix``/``suffix`` are byte compares.  When the byte scan found no space beside a
    field's edge in an ASCII file (``edge_spaces`` False), no cell starts or ends with one and
    nothing is looked for: the two compares of every cell cost about 0.9 s of a 10 M-row load.
    """
    if ascii_only and not edge_spaces:
        return f"NULLIF({c}, '')"
    if ascii_only:
        return (
            f"CASE WHEN prefix({c}, ' ') OR suffix({c}, ' ') THEN NULLIF(trim({c}), '') "
            f"ELSE NULLIF({c}, '') END"
        )
    return f"NULLIF(trim({c}), '')"


def stage_columns(
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    p: Params,
    *,
    date_format: DateFormat | None,
    time_zone: str,
) -> tuple[list[str], list[str]]:
    """The trimmed-text (``t_*``) and typed (``v_*``, with ``v_month``) column expressions."""
    p.values.update(source.params)
    reading = Reading(date_format, time_zone, source.decimal_comma)
    raw, typed = [], []
    for column in dataset.columns:
        t = quote("t_" + column.name)
        if column.name in positions:
            cell = _trimmed(f"c{positions[column.name]}", source.ascii_only, source.edge_spaces)
            raw.append(f"{cell} AS {t}")
        else:
            raw.append(f"NULL::VARCHAR AS {t}")
        expr = TYPED[column.kind](column, t, p, reading)
        typed.append(f"CAST({expr} AS {column.sql_type}) AS {quote('v_' + column.name)}")
    if dataset.event:
        typed.append(f'{_event_month(dataset, p, reading)} AS "v_month"')
    return raw, typed


def _event_month(dataset: Dataset, p: Params, reading: Reading) -> str:
    """SQL for the month (a DATE, its first day) an event row belongs to: the month of its
    instant in the organisation's zone (for a time written without an offset, the month the
    text says).  In a UTC zone, the UTC value's month, with no ICU call."""
    utc = quote("v_" + dataset.month_column)
    zone = None if store.is_utc_zone(reading.time_zone) else p(reading.time_zone)
    return store.month_sql(utc, zone)
