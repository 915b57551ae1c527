"""The contract's row rules (SPEC §1) as SQL over a file's staged cells: one small builder
each, in :data:`RULE_BUILDERS`.

A rule is a condition TRUE for a row that breaks it.  The fast load ORs them all into one
``error()`` (:mod:`indicators.ingest.load`); a file that is not clean counts and lists the
rows breaking each (:mod:`indicators.ingest.explain`)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from indicators.ingest.cells import CONTROL, as_double, number_pattern
from indicators.ingest.dates import DATE_FORMATS, OFFSET_OUT_OF_RANGE, TWO_DIGIT_YEAR
from indicators.ingest.source import Source
from indicators.ingest.sql import Params, quote
from indicators.schema import (
    MAX_MAGNITUDE,
    MAX_MONEY,
    MONEY_DECIMALS,
    Column,
    Dataset,
)

MAX_FUTURE_DAYS: int = 366
"""A date (or retention month) later than this many days after today is rejected."""
EARLIEST_DATE: dt.date = dt.date(1900, 1, 1)
"""A date (or retention month) before this is rejected.

Both bounds catch mistyped years (``2099``, ``9999``, ``0025``): the reported months run from
the first to the last month holding data, so one such row would silently stretch every report
over centuries of empty months."""


def latest_date(today: dt.date | None = None) -> dt.date:
    """The last date a row may carry: :data:`MAX_FUTURE_DAYS` after ``today`` (UTC by default)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=MAX_FUTURE_DAYS)


MAX_TARGET_YEARS: int = 10
"""A target's months (baseline and target month) lie from :data:`EARLIEST_DATE` to this many
years after today's month: a plan, unlike data, may look ahead, but not by centuries."""


def latest_target_month(today: dt.date | None = None) -> dt.date:
    """The last month (its first day) a target may name: :data:`MAX_TARGET_YEARS` ahead."""
    today = today or dt.datetime.now(dt.UTC).date()
    return dt.date(today.year + MAX_TARGET_YEARS, today.month, 1)



# --- rules ---------------------------------------------------------------------------------


@dataclass
class Rule:
    column: str
    violated: str
    """SQL over the staging table, TRUE for a row that breaks the rule."""
    rule: str
    params: dict[str, object] = field(default_factory=dict)
    other: str | None = None
    """A second column whose text the report quotes (cross-column rules)."""
    guard: str | None = None
    """The condition ``violated`` begins with when other rules of the cell begin with it too
    (the cell is not empty and was not read: ``{guard} AND {rest}``); :func:`any_violated`
    tests it once for them all."""
    rest: str | None = None
    """``violated`` after its ``guard``."""


UNREADABLE_DATE = "not a valid date/time"
"""How the rule for a date/time no allowed format reads begins (the rejection's summary adds
which format the values look like: :func:`indicators.ingest.dates.look_alike`)."""


def _unreadable_rule(column: Column, date_format: str, decimal_comma: bool) -> str:
    kind = column.kind
    if kind == "timestamp":
        extra = "" if date_format == "ISO" else f" or {date_format}"
        others = [f for f in DATE_FORMATS if f != "ISO"]
        hint = (
            ""
            if date_format != "ISO"
            else f"; for another format name it ({', '.join(others[:-1])} or {others[-1]})"
        )
        return (
            f"{UNREADABLE_DATE}: ISO (2025-03-07, 2025-03-07T14:05[:00][Z|+01:00]){extra}{hint}"
        )
    if kind == "month":
        return "not a valid month written YYYY-MM"
    if kind == "integer":
        return "not a whole number (digits only, e.g. 4 not 4.0)"
    if kind == "number":
        if decimal_comma:
            return "not a number"
        return "not a number (use a decimal point; a decimal comma only in ;-delimited files)"
    if kind == "money":
        if decimal_comma:
            return (
                "not an amount: write digits with a decimal point or comma, e.g. 1234.50 or "
                "1234,50 (no thousands separators, no currency sign)"
            )
        return (
            "not an amount: write digits with a decimal point, e.g. 1234.50 (no thousands "
            "separators, no currency sign; a decimal comma only in ;-delimited files)"
        )
    return "not one of: " + ", ".join(column.choices or ())


_CONTROL_RULE = (
    "holds an invisible control character (such as NUL) or a byte-order mark (U+FEFF) or "
    "another format character (Unicode Cf: a zero-width space, a bidi control); remove it"
)


@dataclass
class _Cell:
    """What every rule builder is given: one contract column the file has, and the file's ways."""

    column: Column
    dataset: Dataset
    positions: dict[str, int]
    date_format: str
    decimal_comma: bool
    controls: bool
    counter: Iterator[int]

    @property
    def t(self) -> str:
        """SQL for the cell's trimmed text."""
        return quote("t_" + self.column.name)

    @property
    def v(self) -> str:
        """SQL for the cell's typed value (NULL when unreadable)."""
        return quote("v_" + self.column.name)

    def value_of(self, other: str) -> str:
        return quote("v_" + other)

    def params(self) -> Params:
        """Parameters named apart from every other rule's (the fast load runs them all at once)."""
        return Params(f"r{next(self.counter)}_")

    def has(self, other: str | None) -> bool:
        return other is not None and other in self.positions

    def rule(self, violated: str, text: str, p: Params | None = None, other: str | None = None) -> Rule:
        return Rule(self.column.name, violated, text, {} if p is None else p.values, other)

    @property
    def unread(self) -> str:
        """SQL: the cell holds text its column's kind did not read (its typed value NULL)."""
        return f"{self.t} IS NOT NULL AND {self.v} IS NULL"

    def unread_rule(self, rest: str, text: str, p: Params) -> Rule:
        """A rule for a cell :attr:`unread` whose text also meets ``rest``."""
        rule = self.rule(f"{self.unread} AND {rest}", text, p)
        rule.guard, rule.rest = self.unread, rest
        return rule


RuleBuilder = Callable[[_Cell], list[Rule]]


def _required(c: _Cell) -> list[Rule]:
    return [] if c.column.allow_empty else [c.rule(f"{c.t} IS NULL", "required value is empty")]


def _reserved(c: _Cell) -> list[Rule]:
    """A rule per reserved value of the column (``All``, ``*`` as a department), in any case.

    The cell's length is compared first: ``lower`` maps each character to one character, so
    only a cell as long as the value can be it, and counting characters costs far less than
    lowering every cell (about 0.45 s of CPU at 10 M purchases)."""
    rules = []
    for value, reason in c.column.reserved:
        p = c.params()
        lowered = value.lower()
        violated = f"length({c.t}) = {p(len(lowered))} AND lower({c.t}) = {p(lowered)}"
        rules.append(c.rule(violated, reason, p))
    return rules


def _control(c: _Cell) -> list[Rule]:
    if not c.controls or c.column.kind not in ("id", "text"):
        return []
    p = c.params()
    return [c.rule(f"regexp_matches({c.t}, {p(CONTROL)})", _CONTROL_RULE, p)]


def _bounds(column: Column, dataset: Dataset) -> tuple[dt.date, dt.date, str, str] | None:
    """(latest, earliest, rule past latest, rule before earliest) for a dated column."""
    if column.kind == "timestamp" or column.name == dataset.month_column:
        latest = latest_date()
        after = f"more than {MAX_FUTURE_DAYS} days in the future (after {latest:%Y-%m-%d}); "
        before = f"before {EARLIEST_DATE:%Y-%m-%d}; check the year"
        if column.kind == "timestamp":
            return (
                dt.datetime.combine(latest, dt.time.max),
                dt.datetime.combine(EARLIEST_DATE, dt.time()),
                after + "check the year",
                before,
            )
        return latest, EARLIEST_DATE, after + "check the year", before
    if column.kind == "month":
        # Targets' months may lie years ahead, but not beyond what a route can draw.
        latest = latest_target_month()
        return (
            latest,
            EARLIEST_DATE,
            f"more than {MAX_TARGET_YEARS} years ahead (after {latest:%Y-%m}); check the year",
            f"before {EARLIEST_DATE:%Y-%m}; check the year",
        )
    return None


def _date_bounds(c: _Cell) -> list[Rule]:
    """The earliest and latest date or month a column may hold (none for other kinds)."""
    bounds = _bounds(c.column, c.dataset)
    if bounds is None:
        return []
    latest, earliest, after, before = bounds
    p, q = c.params(), c.params()
    return [c.rule(f"{c.v} > {p(latest)}", after, p), c.rule(f"{c.v} < {q(earliest)}", before, q)]



def _bad_offset(c: _Cell) -> list[Rule]:
    if c.column.kind != "timestamp":
        return []
    p = c.params()
    offset = f"regexp_full_match({c.t}, {p(OFFSET_OUT_OF_RANGE)})"
    text = "the UTC offset is out of range: write Z or ±HH:MM with HH at most 14 and MM at most 59"
    return [c.unread_rule(offset, text, p)]


TWO_DIGIT_YEAR_RULE = "a two-digit year: write the year in full (2015, not 15)"
_NOT_UNREADABLE = f"({OFFSET_OUT_OF_RANGE})|({TWO_DIGIT_YEAR})"
"""Date/time texts another rule names: an offset out of range, a two-digit year."""


def _two_digit_year(c: _Cell) -> list[Rule]:
    """A date written with a two-digit year (``1/5/15``): no format reads it, and its century
    would be a guess."""
    if c.column.kind != "timestamp":
        return []
    p = c.params()
    return [c.unread_rule(f"regexp_full_match({c.t}, {p(TWO_DIGIT_YEAR)})", TWO_DIGIT_YEAR_RULE, p)]


def _unreadable(c: _Cell) -> list[Rule]:
    """A value that cannot be read as the column's kind (an offset out of range and a
    two-digit year excepted: their own rules name them)."""
    kind = c.column.kind
    if kind in ("id", "text"):
        return []
    p = c.params()
    text = _unreadable_rule(c.column, c.date_format, c.decimal_comma)
    if kind == "timestamp":
        return [c.unread_rule(f"NOT regexp_full_match({c.t}, {p(_NOT_UNREADABLE)})", text, p)]
    if kind == "money":  # a number written wrongly for an amount: one of the _money_* rules
        rest = f"NOT regexp_full_match({c.t}, {p(number_pattern(c.decimal_comma))})"
        return [c.unread_rule(rest, text, p)]
    if kind == "number":
        return [c.rule(f"{c.t} IS NOT NULL AND ({c.v} IS NULL OR NOT isfinite({c.v}))", text, p)]
    return [c.rule(c.unread, text, p)]


def _magnitude(c: _Cell) -> list[Rule]:
    """A number above :data:`schema.MAX_MAGNITUDE` in magnitude."""
    if c.column.kind != "number":
        return []
    p = c.params()
    text = f"larger than {MAX_MAGNITUDE:g} in magnitude, the cap on any number; check the value"
    return [c.rule(f"isfinite({c.v}) AND abs({c.v}) > {p(MAX_MAGNITUDE)}", text, p)]


# An amount written as a number but not one :func:`cells._money` reads, one rule each and
# exclusive: beyond the cap (whatever else), else more decimal places, else an exponent.
_MONEY_STEP = Decimal(1).scaleb(-MONEY_DECIMALS)
_MONEY_BOUND = float(MAX_MONEY + _MONEY_STEP)
"""10^14, the first amount too large: a double, so an amount at or above it exactly is at or
above it read as a double too (rounding keeps order)."""
_MONEY_CAP = f"larger than {MAX_MONEY:,} in magnitude, the largest amount stored; check the value"
_TOO_MANY_DECIMALS = (
    f"has more than {MONEY_DECIMALS} decimal places; amounts are stored to {MONEY_DECIMALS} "
    f"({_MONEY_STEP}): round it in the file"
)
_MONEY_EXPONENT = (
    "written with an exponent; write the amount in digits with at most "
    f"{MONEY_DECIMALS} decimal places, e.g. 1500.00 not 1.5e3"
)
_MORE_DECIMALS = {
    False: rf"[+-]?\d*\.\d{{{MONEY_DECIMALS + 1},}}",
    True: rf"[+-]?\d*[.,]\d{{{MONEY_DECIMALS + 1},}}",
}
_EXPONENT = {
    False: r"[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+",
    True: r"[+-]?(\d+([.,]\d*)?|[.,]\d+)[eE][+-]?\d+",
}


def _money_reading(c: _Cell, pattern: str | None, above_cap: bool, text: str) -> list[Rule]:
    """An unread amount whose text matches ``pattern`` (None: any number) and is (or is not)
    beyond :data:`MAX_MONEY`; only cells the typed read left NULL are looked at."""
    if c.column.kind != "money":
        return []
    p = c.params()
    pattern = number_pattern(c.decimal_comma) if pattern is None else pattern
    size = f"abs({as_double(c.t, c.decimal_comma)}) {'>=' if above_cap else '<'} {p(_MONEY_BOUND)}"
    return [c.unread_rule(f"regexp_full_match({c.t}, {p(pattern)}) AND {size}", text, p)]


def _money_cap(c: _Cell) -> list[Rule]:
    """An amount beyond :data:`MAX_MONEY` (what ``DECIMAL(18,4)`` holds)."""
    return _money_reading(c, None, True, _MONEY_CAP)


def _money_decimals(c: _Cell) -> list[Rule]:
    """An amount with more decimal places than are stored (``12.34567``): never rounded."""
    return _money_reading(c, _MORE_DECIMALS[c.decimal_comma], False, _TOO_MANY_DECIMALS)


def _money_exponent(c: _Cell) -> list[Rule]:
    """An amount written with an exponent (``1.5e3``)."""
    return _money_reading(c, _EXPONENT[c.decimal_comma], False, _MONEY_EXPONENT)


def _minimum(c: _Cell) -> list[Rule]:
    column = c.column
    if column.minimum is None:
        return []
    p = c.params()
    op, sign = ("<=", ">") if column.exclusive_minimum else ("<", "≥")
    return [c.rule(f"{c.v} {op} {p(column.minimum)}", f"must be {sign} {column.minimum:g}", p)]


def _maximum(c: _Cell) -> list[Rule]:
    if c.column.maximum is None:
        return []
    p = c.params()
    return [c.rule(f"{c.v} > {p(c.column.maximum)}", f"must be ≤ {c.column.maximum:g}", p)]


def _not_before(c: _Cell) -> list[Rule]:
    """Not before (or strictly after) another column of the row: resolved ≥ opened …"""
    column, other = c.column, c.column.not_before
    if not c.has(other):
        return []
    op = "<=" if column.strictly_after else "<"
    if column.kind in ("number", "money"):
        text = f"must be {'>' if column.strictly_after else '≥'} {other}"
    else:
        text = f"must be after {other}" if column.strictly_after else f"must not be before {other}"
    return [c.rule(f"{c.v} {op} {c.value_of(other)}", text, other=other)]


def _months_after(c: _Cell) -> list[Rule]:
    """At most so many months after another column (a route's length)."""
    other, most = c.column.not_before, c.column.max_months_after
    if most is None or not c.has(other):
        return []
    p = c.params()
    violated = f"date_diff('month', {c.value_of(other)}, {c.v}) > {p(most)}"
    text = f"more than {most} months after {other}: a route spans at most {most} months"
    return [c.rule(violated, text, p, other=other)]


def _not_after(c: _Cell) -> list[Rule]:
    other = c.column.not_after
    if not c.has(other):
        return []
    return [c.rule(f"{c.v} > {c.value_of(other)}", f"must be ≤ {other}", other=other)]


def _range_by(c: _Cell) -> list[Rule]:
    """A range that depends on another column's value (a survey's score by its kind)."""
    if c.column.range_by is None or not c.has(c.column.range_by[0]):
        return []
    (by, ranges), rules = c.column.range_by, []
    for key, (low, high) in ranges.items():
        p = c.params()
        violated = f"{c.value_of(by)} = {p(key)} AND ({c.v} < {p(low)} OR {c.v} > {p(high)})"
        text = f"a {key} {c.column.name} must be between {low} and {high}"
        rules.append(c.rule(violated, text, p, other=by))
    return rules


def _only_when(c: _Cell) -> list[Rule]:
    """Required when another column holds a value, and empty otherwise (a target's steps)."""
    if c.column.only_when is None:
        return []
    other, value = c.column.only_when
    if not c.has(other):
        return [c.rule(f"{c.t} IS NOT NULL",
                       f"given only when {other} is {value}: add a {other} column")]
    p = c.params()
    mine, q = c.value_of(other), c.params()
    return [
        c.rule(f"{mine} = {p(value)} AND {c.t} IS NULL", f"required when {other} is {value}", p,
               other=other),
        c.rule(f"{c.t} IS NOT NULL AND {mine} IS DISTINCT FROM {q(value)}",
               f"given only when {other} is {value}", q, other=other),
    ]


STEP_PATTERN = r"\s*\d{4}-\d{2}\s*=\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*(;\s*\d{4}-\d{2}\s*=\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*)*;?\s*"
"""A target's steps: ``YYYY-MM=value`` pairs separated by ``;`` (spaces allowed, a decimal
point, no exponent)."""


def step_months_sql(text: str) -> str:
    """SQL: the months (``YYYY-MM`` text) of a steps cell that matches :data:`STEP_PATTERN`."""
    return (f"list_transform(list_filter(string_split({text}, ';'), lambda x: trim(x) <> ''), "
            "lambda x: trim(split_part(x, '=', 1)))")


def _steps(c: _Cell) -> list[Rule]:
    """A target's planned values: readable pairs, real months after the first month column and
    before the last, each month once."""
    if c.column.steps_between is None:
        return []
    first, last = c.column.steps_between
    p = c.params()
    readable = f"regexp_full_match({c.t}, {p(STEP_PATTERN)})"
    months = step_months_sql(c.t)
    rules = [
        c.rule(f"{c.t} IS NOT NULL AND NOT {readable}",
               "not steps: write YYYY-MM=value pairs separated by ;, e.g. "
               "2025-03=120; 2025-06=150", p),
        c.rule(f"{c.t} IS NOT NULL AND {readable} AND list_bool_or(list_transform({months}, "
               "lambda m: TRY_STRPTIME(m || '-01', '%Y-%m-%d') IS NULL))",
               "a step's month is not a valid month written YYYY-MM", p),
        c.rule(f"{c.t} IS NOT NULL AND {readable} AND "
               f"len(list_distinct({months})) < len({months})",
               "a month appears more than once in the steps", p),
    ]
    if c.has(first) and c.has(last):
        lo = f"strftime({c.value_of(first)}, '%Y-%m')"
        hi = f"strftime({c.value_of(last)}, '%Y-%m')"
        rules.append(c.rule(
            f"{c.t} IS NOT NULL AND {readable} AND list_bool_or(list_transform({months}, "
            f"lambda m: m <= {lo} OR m >= {hi}))",
            f"a step's month must be after {first} and before {last}", p, other=first))
    return rules


RULE_BUILDERS: tuple[RuleBuilder, ...] = (
    _required,
    _reserved,
    _control,
    _date_bounds,
    _bad_offset,
    _two_digit_year,
    _unreadable,
    _magnitude,
    _money_cap,
    _money_decimals,
    _money_exponent,
    _minimum,
    _maximum,
    _not_before,
    _months_after,
    _not_after,
    _range_by,
    _only_when,
    _steps,
)
"""Every row rule, each a builder of the rules one column of the file gets (none when the rule
does not apply to it).  A cell breaks at most one of the reading rules (offset, two-digit year, unreadable,
magnitude, an amount's cap, decimals or exponent); the others compare typed values, which are NULL — no rule broken — when unreadable."""


def _rules(
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: str,
    decimal_comma: bool,
    controls: bool = True,
) -> list[Rule]:
    """Every row rule of the dataset that applies to the columns the file has.

    ``controls=False`` leaves out the control-character rule, for a file whose bytes were
    scanned and hold none.
    """
    counter = itertools.count()
    rules: list[Rule] = []
    for column in dataset.columns:
        if column.name not in positions:
            continue
        cell = _Cell(column, dataset, positions, date_format, decimal_comma, controls, counter)
        for build in RULE_BUILDERS:
            rules += build(cell)
    return rules


def source_rules(
    source: Source, dataset: Dataset, positions: dict[str, int], *, date_format: str
) -> list[Rule]:
    """:func:`_rules` for this source's delimiter and byte scan (both staging passes)."""
    return _rules(
        dataset,
        positions,
        date_format=date_format,
        decimal_comma=source.decimal_comma,
        controls=source.may_hold_controls,
    )


def any_violated(rules: Sequence[Rule]) -> str:
    """SQL TRUE for a row that breaks any of ``rules`` (``false`` for none): their conditions
    ORed, those sharing a ``guard`` under one test of it — ``(G AND A) OR (G AND B)`` is
    ``G AND (A OR B)``, in SQL's three-valued logic too — so a clean row's cell fails its
    guard once, not once a rule (seven of the purchases' rules share one of three guards)."""
    grouped: dict[str, list[str]] = {}
    parts: list[str | tuple[str]] = []
    for rule in rules:
        if rule.guard is None or rule.rest is None:
            parts.append(f"({rule.violated})")
            continue
        if rule.guard not in grouped:
            grouped[rule.guard] = []
            parts.append((rule.guard,))
        grouped[rule.guard].append(f"({rule.rest})")
    return " OR ".join(
        part if isinstance(part, str) else f"({part[0]} AND ({' OR '.join(grouped[part[0]])}))"
        for part in parts
    ) or "false"


def unique_sets(dataset: Dataset) -> list[tuple[str, ...]]:
    sets = [(c.name,) for c in dataset.columns if c.unique]
    if dataset.unique_together:
        sets.append(dataset.unique_together)
    return sets
