"""Target check-ins and event notes: what people say about a target's month, and about a month.

A **check-in** is a target owner's word on one month of one target: a status they assert
(:data:`CHECKIN_STATUSES`: the route's statuses but ``no data``) and a note ("new hires still in
training").  An **event note** marks something that happened in a month ("price change", "system
outage on the 12th") on the charts of one indicator or of every one, in one department or in
every one.  Both are kept in the store (``target_checkins``, ``event_notes``: their DDL is in
:mod:`indicators.store`); nothing here imports Streamlit or the dashboard.

**Stored form.**  A month is a ``DATE`` (its first day); department ``*`` is the All target (as
in ``targets``) on a check-in and every department on a note; a note's indicator NULL is every
indicator.  The readers give months as ``YYYY-MM`` text and ``*`` as ``All``, and text exactly as
it was written: it is data, never markup, and a CSV export goes through
:func:`indicators.export.to_csv_bytes`, which neutralises formulas.

**Rules** (a :class:`CheckinError` names the field, the value and the rule; nothing is written):

* ``indicator`` — an id of :mod:`indicators.catalog`; on a check-in, with ``department``, a
  stored target (``All`` and ``*`` both name the All target); on a note, optional (None: every
  indicator);
* ``department`` — on a note ``*`` / ``All`` (every department, the default) or a department that
  occurs in the data (:func:`indicators.stored_indicators.grid`);
* ``month`` — ``YYYY-MM`` (:mod:`indicators.months`); on a check-in, a month of the target's
  route: from its ``baseline_month`` to :data:`~indicators.schema.MAX_ROUTE_MONTHS` months after
  its ``target_month`` (the months the route follows, :mod:`indicators.route`);
* ``status`` — one of :data:`CHECKIN_STATUSES`;
* ``note`` — not empty once spaces are stripped, at most :data:`MAX_NOTE_CHARS` characters, no
  control character but line feed and tab, no bidirectional embedding, override or isolate
  (U+202A–U+202E, U+2066–U+2069: they would reorder the text around the note); stored as given;
* ``author`` — None (or blank), else at most :data:`MAX_AUTHOR_CHARS` printable characters
  (``str.isprintable``: no line break, control or format character), stored stripped.

**Rights** (pure, :func:`may_write_checkin`, :func:`may_write_note`; roles as in
``dashboard/auth.py``): an analyst may write both; a team lead only for a department of theirs
(never for All); an executive neither — except that a target's ``owner`` may write check-ins on
that target whatever their role (:func:`same_person`: stripped, ASCII text compared without
regard to case, any other text exactly, as ``auth.email_key`` compares e-mails).  The writers
check them only when given ``access=(role, departments, user)``: the command line passes none,
since whoever holds the database file is an analyst, as for every other command.  The rights are
checked before every rule but the indicator's (a catalog id, public), so a refusal does not tell
whether a target exists.

**Each write is one transaction**: the row and one ``upload_log`` row (``file_name`` ``check-in``
or ``event note``, ``dataset`` the table, ``rows`` 1, outcome :data:`CHECKIN_OUTCOME` or
:data:`NOTE_OUTCOME` — not ``accepted``, so :mod:`indicators.undo` never offers to undo it — and
a message such as ``check-in for csat in North, 2025-06: off track``).  Nothing is edited or
deleted: a later check-in on the same month supersedes the earlier one (:func:`latest_checkins`),
and a target removed since keeps its check-ins.

**Reads**: :func:`read_checkins`, :func:`latest_checkins` (one a target) and :func:`read_notes`
(the notes that apply to one chart), pandas frames of :data:`CHECKIN_COLUMNS` /
:data:`NOTE_COLUMNS` in a fixed order; ``departments=`` narrows them to a team lead's view.  A
database of an earlier version opened read-only has neither table: the readers give no rows.

Examples
--------
>>> may_write_checkin("team_lead", ["North"], "lead@x.org", department="North", owner=None)
True
>>> may_write_checkin("executive", None, " CEO@X.org", department="*", owner="ceo@x.org")
True
>>> may_write_note("team_lead", ["North"], department="All")
False
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection, Iterable

import duckdb
import pandas as pd

from indicators import months, store, stored_indicators
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS
from indicators.schema import MAX_ROUTE_MONTHS

CHECKIN_STATUSES: tuple[str, ...] = ("achieved", "on track", "at risk", "off track", "missed")
"""What an owner may assert: :data:`indicators.route.STATUSES` but ``no data``."""
MAX_NOTE_CHARS = 2000
MAX_AUTHOR_CHARS = 200
ANALYST, TEAM_LEAD, EXECUTIVE = "analyst", "team_lead", "executive"
"""The roles of ``dashboard/auth.py`` (the engine does not import the dashboard)."""

CHECKINS_TABLE = "target_checkins"
NOTES_TABLE = "event_notes"
CHECKIN_OUTCOME = "check-in"
NOTE_OUTCOME = "note"
"""The ``upload_log`` outcomes of the two writes (neither is an undoable ``accepted`` load)."""
CHECKIN_FILE = "check-in"
NOTE_FILE = "event note"
"""What the ``upload_log`` says in ``file_name`` for the two writes."""

CHECKIN_COLUMNS: tuple[str, ...] = (
    "id", "indicator", "department", "month", "status", "note", "author", "written_at",
)
NOTE_COLUMNS: tuple[str, ...] = (
    "id", "month", "indicator", "department", "note", "author", "written_at",
)
"""The readers' columns, in order: ``month`` ``YYYY-MM``, ``department`` ``All`` for ``*``,
``written_at`` a UTC time, text None where missing."""

ANY = store.ANY_DEPARTMENT
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHOWN_CHARS = 40
"""A value longer than this is shown cut in an error message."""

Access = tuple[str, Collection[str] | None, str | None]
"""``(role, departments, user)``: who writes (``departments``: a team lead's; None: all)."""


class CheckinError(ValueError):
    """A value breaks its rule; the message names the field, the value and the rule."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        super().__init__(f"{field} {_shown(value)}: {rule}")
        self.field, self.value, self.rule = field, value, rule


class CheckinForbidden(PermissionError):
    """The user may not write this check-in or note; nothing was written."""


def _shown(value: object) -> str:
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return repr(value[:_SHOWN_CHARS] + "…")
    return repr(value)


# --- rights (pure) -----------------------------------------------------------------------


def department_key(department: str) -> str:
    """The stored form of a department: ``*`` for ``All`` or ``*``, else the name stripped."""
    name = department.strip()
    return ANY if name in (ANY, ALL_DEPARTMENTS) else name


def same_person(user: str | None, owner: str | None) -> bool:
    """Whether ``user`` is ``owner``: both stripped, ASCII text compared in lower case (e-mails
    ``Ana@X.org`` and ``ana@x.org``), any other text only exactly; empty is nobody.

    >>> same_person(" Ana@Example.org ", "ana@example.org"), same_person("ana", None)
    (True, False)
    """
    if not user or not owner or not user.strip():
        return False

    def key(text: str) -> str:
        text = text.strip()
        return text.lower() if text.isascii() else text

    return key(user) == key(owner)


def _team_lead_may(departments: Collection[str] | None, department: str) -> bool:
    key = department_key(department)
    return key != ANY and departments is not None and key in {d.strip() for d in departments}


def may_write_checkin(
    role: str,
    departments: Collection[str] | None,
    user: str | None,
    *,
    department: str,
    owner: str | None,
) -> bool:
    """Whether ``user`` of ``role`` may write a check-in on the target of ``department`` (``*``
    or All: the All target) owned by ``owner``: its owner always; an analyst always; a team lead
    for a department in ``departments``, never All; an executive never.  An unknown role: never.
    """
    if same_person(user, owner) or role == ANALYST:
        return True
    return role == TEAM_LEAD and _team_lead_may(departments, department)


def may_write_note(role: str, departments: Collection[str] | None, *, department: str) -> bool:
    """Whether ``role`` may write an event note for ``department`` (``*`` or All: every
    department): an analyst always; a team lead for a department in ``departments``, never for
    every department; an executive (and an unknown role) never."""
    if role == ANALYST:
        return True
    return role == TEAM_LEAD and _team_lead_may(departments, department)


# --- rules -------------------------------------------------------------------------------


def _month(value: str) -> str:
    try:
        return months.label(months.parse(value))
    except ValueError:
        raise CheckinError("month", value, "must be written YYYY-MM (0001-01 to 9999-12)") from None


def _status(value: str) -> str:
    if value not in CHECKIN_STATUSES:
        raise CheckinError("status", value, f"must be one of {', '.join(CHECKIN_STATUSES)}")
    return value


def _note(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CheckinError("note", value, "must not be empty")
    if len(value) > MAX_NOTE_CHARS:
        raise CheckinError(
            "note", value, f"must be at most {MAX_NOTE_CHARS} characters (it has {len(value)})"
        )
    for at, char in enumerate(value, start=1):
        if char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            raise CheckinError(
                "note", value, f"holds the control character U+{ord(char):04X} at character "
                f"{at}; the only control characters allowed are line breaks (\\n) and tabs",
            )
    return value


def _author(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_AUTHOR_CHARS or not value.isprintable():
        raise CheckinError(
            "author", value, f"must be at most {MAX_AUTHOR_CHARS} printable characters"
        )
    return value.strip()


def _indicator(value: str) -> str:
    name = value.strip() if isinstance(value, str) else value
    if name not in INDICATOR_IDS:
        raise CheckinError("indicator", value, f"must be a catalog id: {', '.join(INDICATOR_IDS)}")
    return name


def _shown_department(key: str) -> str:
    return ALL_DEPARTMENTS if key == ANY else key


# --- writes ------------------------------------------------------------------------------


def _utc(now: dt.datetime | None) -> dt.datetime:
    """``now`` (default: the clock) as a naive UTC time, as the store keeps times."""
    now = dt.datetime.now(dt.UTC) if now is None else now
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def _log(
    con: duckdb.DuckDBPyConnection, *, at: dt.datetime, author: str | None, file_name: str,
    dataset: str, outcome: str, message: str,
) -> None:
    con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message)
           VALUES (?, ?, ?, ?, NULL, 1, ?, ?)""",
        [at, author, file_name, dataset, outcome, message],
    )


_TARGET = """SELECT owner, strftime(baseline_month, '%Y-%m'), strftime(target_month, '%Y-%m')
             FROM targets WHERE indicator = ? AND department = ?"""
_TARGET_DEPARTMENTS = (
    "SELECT department FROM targets WHERE indicator = ? ORDER BY department <> '*', department"
)


def _no_target(con: duckdb.DuckDBPyConnection, indicator: str, department: str) -> CheckinError:
    rows = con.execute(_TARGET_DEPARTMENTS, [indicator]).fetchall()
    have = ", ".join(_shown_department(d) for (d,) in rows)
    where = f"{indicator} has targets for {have}" if have else f"{indicator} has no target at all"
    return CheckinError("department", department, f"must name a stored target of {indicator}; {where}")


def checkin_summary(indicator: str, department: str, month: str, status: str) -> str:
    """The log's line for a check-in: ``check-in for csat in North, 2025-06: off track``."""
    shown = _shown_department(department_key(department))
    return f"check-in for {indicator} in {shown}, {month}: {status}"


def add_checkin(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str,
    department: str,
    month: str,
    status: str,
    note: str,
    author: str | None = None,
    now: dt.datetime | None = None,
    access: Access | None = None,
) -> int:
    """Store a check-in on the target (``indicator``, ``department``) and its log row, in one
    transaction (the caller's, if it holds one); the check-in's id.

    :class:`CheckinForbidden` when ``access`` is given and :func:`may_write_checkin` says no;
    :class:`CheckinError` for a value that breaks its rule (the module docstring).  Either way
    nothing is written.
    """
    indicator = _indicator(indicator)
    key = department_key(department)
    target = con.execute(_TARGET, [indicator, key]).fetchone()
    if access is not None:
        role, departments, user = access
        owner = target[0] if target else None
        if not may_write_checkin(role, departments, user, department=key, owner=owner):
            raise CheckinForbidden(
                f"{role} {user!r} may not write check-ins on {indicator} in "
                f"{_shown_department(key)}: only analysts, team leads of that department and "
                "the target's owner may"
            )
    if target is None:
        raise _no_target(con, indicator, department)
    month = _month(month)
    first, last = target[1], months.shift(target[2], MAX_ROUTE_MONTHS)
    if not months.between(month, first, last):
        raise CheckinError(
            "month", month, f"must lie on the target's route, {first} to {last} (its baseline "
            f"month to {MAX_ROUTE_MONTHS} months after its target month)",
        )
    status, note, author = _status(status), _note(note), _author(author)
    at = _utc(now)
    with store.transaction(con):
        (new_id,) = con.execute(
            f"""INSERT INTO {CHECKINS_TABLE}
                    (indicator, department, month, status, note, author, written_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [indicator, key, months.parse(month), status, note, author, at],
        ).fetchone()
        _log(con, at=at, author=author, file_name=CHECKIN_FILE, dataset=CHECKINS_TABLE,
             outcome=CHECKIN_OUTCOME, message=checkin_summary(indicator, key, month, status))
    return int(new_id)


def note_summary(month: str, indicator: str | None, department: str) -> str:
    """The log's line for a note: ``event note for 2025-06 (csat in North)``; ``every
    indicator`` / ``every department`` where the note is for all of them."""
    key = department_key(department)
    where = "every department" if key == ANY else key
    return f"event note for {month} ({indicator or 'every indicator'} in {where})"


def add_note(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str,
    note: str,
    indicator: str | None = None,
    department: str = ANY,
    author: str | None = None,
    now: dt.datetime | None = None,
    access: Access | None = None,
) -> int:
    """Store an event note for ``month`` on ``indicator``'s charts (None: every indicator) in
    ``department`` (``*`` / All: every department) and its log row, in one transaction (the
    caller's, if it holds one); the note's id.

    :class:`CheckinForbidden` when ``access`` is given and :func:`may_write_note` says no;
    :class:`CheckinError` for a value that breaks its rule.  Either way nothing is written.
    """
    key = department_key(department)
    if access is not None:
        role, departments, user = access
        if not may_write_note(role, departments, department=key):
            raise CheckinForbidden(
                f"{role} {user!r} may not write event notes for {_shown_department(key)}: only "
                "analysts and team leads of that department may"
            )
    indicator = None if indicator is None else _indicator(indicator)
    if key != ANY and key not in stored_indicators.grid(con)[1]:
        raise CheckinError(
            "department", department, f"must be {ALL_DEPARTMENTS} (every department) or a "
            "department that occurs in the data",
        )
    month, note, author = _month(month), _note(note), _author(author)
    at = _utc(now)
    with store.transaction(con):
        (new_id,) = con.execute(
            f"""INSERT INTO {NOTES_TABLE} (month, indicator, department, note, author, written_at)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            [months.parse(month), indicator, key, note, author, at],
        ).fetchone()
        _log(con, at=at, author=author, file_name=NOTE_FILE, dataset=NOTES_TABLE,
             outcome=NOTE_OUTCOME, message=note_summary(month, indicator, key))
    return int(new_id)


# --- reads -------------------------------------------------------------------------------
# The stored table is ``t`` and every clause names its columns as ``t.<column>``: the select
# list's ``month`` and ``department`` are the shown forms (text, ``All``).

_EXISTS = """SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
             AND schema_name = 'main' AND table_name = ?"""
_SHOWN = "CASE WHEN t.department = $any THEN $all ELSE t.department END AS department"
_CHECKIN_SELECT = (
    f"SELECT t.id, t.indicator, {_SHOWN}, strftime(t.month, '%Y-%m') AS month, t.status, t.note, "
    f"t.author, t.written_at FROM {CHECKINS_TABLE} AS t"
)
_NOTE_SELECT = (
    f"SELECT t.id, strftime(t.month, '%Y-%m') AS month, t.indicator, {_SHOWN}, t.note, t.author, "
    f"t.written_at FROM {NOTES_TABLE} AS t"
)
_TARGET_ORDER = "t.indicator, t.department <> $any, t.department"
_DTYPES = {"id": "int64", "written_at": "datetime64[us]"}


def _frame(
    con: duckdb.DuckDBPyConnection, table: str, sql: str, params: dict[str, object],
    columns: tuple[str, ...],
) -> pd.DataFrame:
    """The rows of ``sql``, text None where missing; no rows (with ``columns``) when the table
    is not there (a database of an earlier version opened read-only)."""
    if not con.execute(_EXISTS, [table]).fetchone()[0]:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in columns})
    frame = con.execute(sql, {"any": ANY, "all": ALL_DEPARTMENTS, **params}).df()
    for column in columns:
        if column not in _DTYPES:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[list(columns)]


def _scoped(
    departments: Iterable[str] | None, *, every: bool
) -> tuple[list[str], dict[str, object]]:
    """The clause keeping the rows of ``departments`` (None: every row); ``every``: and the
    rows for every department (``*``) too."""
    if departments is None:
        return [], {}
    clause = "list_contains($departments::VARCHAR[], t.department)"
    return (
        [f"(t.department = $any OR {clause})" if every else clause],
        {"departments": [department_key(d) for d in departments]},
    )


def read_checkins(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str | None = None,
    department: str | None = None,
    departments: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every check-in (:data:`CHECKIN_COLUMNS`), of ``indicator`` and ``department`` (All or
    ``*``: the All target) when given, sorted by indicator, department (All first), month,
    ``written_at`` and id.

    ``departments`` (a team lead's view) keeps only the check-ins of those departments; the All
    target's only when ``All`` (or ``*``) is among them — pass it where the user sees All.
    """
    clauses, params = _scoped(departments, every=False)
    if indicator is not None:
        clauses.append("t.indicator = $indicator")
        params["indicator"] = indicator
    if department is not None:
        clauses.append("t.department = $department")
        params["department"] = department_key(department)
    sql = (
        f"{_CHECKIN_SELECT} WHERE {' AND '.join(['true', *clauses])} "
        f"ORDER BY {_TARGET_ORDER}, t.month, t.written_at, t.id"
    )
    return _frame(con, CHECKINS_TABLE, sql, params, CHECKIN_COLUMNS)


def latest_checkins(
    con: duckdb.DuckDBPyConnection, *, departments: Iterable[str] | None = None
) -> pd.DataFrame:
    """One check-in per target (:data:`CHECKIN_COLUMNS`): the one of the latest month, of those
    the last written (then the highest id); sorted by indicator and department (All first).
    ``departments`` as in :func:`read_checkins`.  A target removed since keeps its check-ins."""
    clauses, params = _scoped(departments, every=False)
    sql = (
        f"{_CHECKIN_SELECT} WHERE {' AND '.join(['true', *clauses])} "
        "QUALIFY row_number() OVER (PARTITION BY t.indicator, t.department "
        "ORDER BY t.month DESC, t.written_at DESC, t.id DESC) = 1 "
        f"ORDER BY {_TARGET_ORDER}"
    )
    return _frame(con, CHECKINS_TABLE, sql, params, CHECKIN_COLUMNS)


def read_notes(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str | None = None,
    department: str | None = None,
    departments: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The event notes (:data:`NOTE_COLUMNS`) that apply to the chart of ``indicator`` in
    ``department``: the note's indicator is that one or NULL (every indicator), its department
    that one or ``*`` (every department, shown ``All``); None: any.  ``department`` All (or
    ``*``) is the All chart: only the notes for every department apply to it.

    ``departments`` (a team lead's view) keeps the notes of those departments and the notes for
    every department, which apply to their charts too.  Sorted by month, indicator (every
    indicator first), department (every department first), ``written_at`` and id.
    """
    clauses, params = _scoped(departments, every=True)
    if indicator is not None:
        clauses.append("(t.indicator = $indicator OR t.indicator IS NULL)")
        params["indicator"] = indicator
    if department is not None:
        clauses.append("t.department IN ($department, $any)")
        params["department"] = department_key(department)
    sql = (
        f"{_NOTE_SELECT} WHERE {' AND '.join(['true', *clauses])} ORDER BY t.month, "
        "t.indicator NULLS FIRST, t.department <> $any, t.department, t.written_at, t.id"
    )
    return _frame(con, NOTES_TABLE, sql, params, NOTE_COLUMNS)


def notes_applying(notes: pd.DataFrame, indicator: str, department: str) -> pd.DataFrame:
    """The rows of ``notes`` (as :func:`read_notes` gives them) that belong on a chart of
    ``indicator`` in ``department``: for it or for every indicator (no indicator), in it or in
    every department (``All``); in their order.  Pure: for notes already read."""
    if notes.empty:
        return notes
    indicator_ok = notes["indicator"].isna() | (notes["indicator"] == indicator)
    department_ok = (notes["department"] == ALL_DEPARTMENTS) | (notes["department"] == department)
    return notes[indicator_ok & department_ok].reset_index(drop=True)
