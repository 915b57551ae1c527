"""Complete months: whether every dataset a month should hold has arrived.

Files arrive one at a time: purchases on the 2nd, complaints on the 5th, surveys a week later.
Until the last one is in, the month's figures are partial (4 purchases, "0 complaints"), so the
app opens on the latest *complete* month and says, on every page, what an incomplete month still
lacks.  This module holds the rules (pure pandas: row counts in, statuses out) and, at the end,
the few reads and writes of the store they need.

**Inputs.**  The store's row counts (:func:`indicators.store.row_counts`: ``dataset``, ``month``
``YYYY-MM``, ``department``, ``rows``), the ``expected_datasets`` setting
(:attr:`indicators.store.Settings.expected_datasets`: per department, ``*`` = every other one)
and the months an analyst marked complete by hand (pairs ``(month, department)``, ``*`` = every
department; the ``complete_months`` table).

**Rules** (for a department *d* and a month *m*):

1. *expected(d, m)*: the datasets the setting lists for *d* (else for ``*``) when it lists any;
   else every dataset *d* delivered (has rows) in any month up to and including *m*.  Nothing
   is expected of a department before its first month with any rows.
2. *missing(d, m)* = expected(d, m) minus the datasets with rows in *m* for *d*;
   *m* is **complete** for *d* when nothing is missing.
3. **All** in *m*: the departments that *count* in *m* are those with rows (of any dataset) in
   *m* or in the month before — a department that delivered last month and nothing yet counts
   — and that reach the minimum volume (the ``min_volume`` setting, 30 by default: at least
   that many rows, all datasets together, in *m* or in the month before).  When no such
   department reaches it, every department with rows then counts.  *m* is complete for All
   when every department that counts is complete in *m*; All's missing datasets are the union
   of theirs, and its *incomplete departments* are those of them that are incomplete.
   (Without the volume, a category with one order a month — real marketplace data has dozens
   — would keep All incomplete in nearly every month; a small department is still judged on
   its own.  ``min_volume = 0`` makes every department with rows count.)
4. A month **marked complete by hand** for *d* is complete for *d* whatever is missing; marked
   for ``*`` it is complete for every department and for All.

A department that stopped delivering stays incomplete for itself in every later month (it is
expected to deliver what it delivered before), but it counts for All only in the month right
after its last rows.  An indicator is *not loaded* in a month when any dataset it reads
(:attr:`indicators.catalog.Indicator.sources`) is missing there (:func:`indicator_not_loaded`).

Examples (``*`` = rows, ``·`` = none)::

    department  dataset     2025-01  2025-02  2025-03
    North       purchases      *        *        *
    North       surveys        ·        *        ·
    South       purchases      *        ·        ·

* North 2025-01: expects purchases (surveys not yet delivered): complete;
* North 2025-03: expects purchases and surveys (surveys came in 2025-02): surveys missing;
* South 2025-02: purchases missing; 2025-03: purchases missing again (it stopped);
* All 2025-02: North complete, South (it had rows in 2025-01, so it counts) misses purchases;
* All 2025-03: North misses surveys (South had no rows in 2025-02, so it no longer counts).

(No department reaches 30 rows here, so every department with rows counts for All.)

>>> counts = pd.DataFrame({
...     "dataset": ["purchases"] * 4 + ["surveys"],
...     "month": ["2025-01", "2025-02", "2025-03", "2025-01", "2025-02"],
...     "department": ["North", "North", "North", "South", "North"],
...     "rows": [3, 2, 4, 1, 5]})
>>> sorted(not_loaded(counts, "2025-03", "North"))
['surveys']
>>> describe_missing(not_loaded(counts, "2025-02", "All"), "2025-02", departments=("South",))
'purchases not yet loaded for 2025-02 (South)'
>>> not_loaded(counts, "2025-02", "All", marked={("2025-02", "South")})
frozenset()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from indicators import catalog, store
from indicators import months as _months
from indicators.facts import month_grid
from indicators.schema import MONTH_DATASETS

ALL = catalog.ALL_DEPARTMENTS
EVERY_DEPARTMENT = store.ANY_DEPARTMENT
"""How a month marked complete for every department (and so for All) is stored: ``*``."""

STATUS_COLUMNS: tuple[str, ...] = (
    "month", "department", "complete", "missing", "marked", "incomplete_departments",
)
"""What :func:`month_status` returns: ``missing`` and ``incomplete_departments`` are tuples
(datasets in :data:`~indicators.schema.MONTH_DATASETS` order; departments sorted), the latter
filled on All's rows only; ``marked`` says the month was marked complete by hand."""

MAX_NAMED_DEPARTMENTS = 3
""":func:`describe_missing` names up to this many departments, else counts them."""

Marked = Collection[tuple[str, str]]


# --- the rules (pure) --------------------------------------------------------------------


def _expected_masks(
    departments: Sequence[str], expected: Mapping[str, Sequence[str]]
) -> np.ndarray:
    """Per department, which datasets the setting lists (a row of False: not set)."""
    default = tuple(expected.get(EVERY_DEPARTMENT, ()))
    return np.array(
        [[ds in tuple(expected.get(d) or default) for ds in MONTH_DATASETS] for d in departments],
        dtype=bool,
    ).reshape(len(departments), len(MONTH_DATASETS))


def month_status(
    row_counts: pd.DataFrame,
    *,
    expected: Mapping[str, Sequence[str]] | None = None,
    marked: Marked = (),
    months: Iterable[str] | None = None,
    min_volume: int = store.DEFAULT_MIN_VOLUME,
) -> pd.DataFrame:
    """Per month and department (and All), whether the month is complete and what is missing.

    One row per month of ``months`` (default: every month from the first to the last with
    rows) and per department with rows in any month, All first; columns :data:`STATUS_COLUMNS`.
    The rules are the module's; ``expected`` is the ``expected_datasets`` setting, ``marked``
    the ``(month, department)`` pairs marked complete by hand (``*`` = every department) and
    ``min_volume`` the rows a department needs to count for All.
    """
    expected = expected or {}
    marked = set(marked)
    rows = row_counts[row_counts["rows"] > 0]
    wanted = None if months is None else sorted(set(months))
    grid = _months.cover([*pd.unique(rows["month"]), *(wanted or [])])
    departments = sorted(pd.unique(rows["department"]))
    if not grid:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATUS_COLUMNS})
    n_dep, n_month, n_ds = len(departments), len(grid), len(MONTH_DATASETS)

    # has[d, m, k]: department d has rows of dataset k in month m.
    has = np.zeros((n_dep, n_month, n_ds), dtype=bool)
    volume = np.zeros((n_dep, n_month), dtype=np.int64)
    if n_dep:
        d_code = _codes(rows["department"], departments)
        m_code = _codes(rows["month"], grid)
        k_code = _codes(rows["dataset"], MONTH_DATASETS)
        known = k_code >= 0
        has[d_code[known], m_code[known], k_code[known]] = True
        np.add.at(volume, (d_code[known], m_code[known]), rows["rows"].to_numpy()[known])
    so_far = np.logical_or.accumulate(has, axis=1)
    started = so_far.any(axis=2)
    setting = _expected_masks(departments, expected)
    by_setting = setting.any(axis=1)[:, None, None]
    expects = np.where(by_setting, setting[:, None, :] & started[:, :, None], so_far)
    missing = expects & ~has

    star = np.array([(m, EVERY_DEPARTMENT) in marked for m in grid], dtype=bool)
    mine = np.zeros((n_dep, n_month), dtype=bool)
    for m, d in marked:
        if m in grid and d in departments:
            mine[departments.index(d), grid.index(m)] = True
    mine |= star[None, :]
    missing &= ~mine[:, :, None]

    recent = volume.copy()  # rows in the month or the month before, the larger
    recent[:, 1:] = np.maximum(volume[:, 1:], volume[:, :-1])
    present = recent > 0
    big = present & (recent >= min_volume)
    counts = np.where(big.any(axis=0)[None, :], big, present)
    lacking = counts & missing.any(axis=2)
    all_missing = (missing & counts[:, :, None]).any(axis=0)
    all_marked = star

    keep = list(range(n_month)) if wanted is None else [grid.index(m) for m in wanted]
    # Rows month by month, All first: (month, All + departments) as one (n_keep, 1 + n_dep) grid.
    lack = np.concatenate([all_missing[None, keep, :], missing[:, keep, :]], axis=0)
    lack = lack.transpose(1, 0, 2).reshape(-1, n_ds)
    marks = np.concatenate([all_marked[None, keep], mine[:, keep]], axis=0).T.reshape(-1)
    gone: list[tuple[str, ...]] = [()] * (len(keep) * (n_dep + 1))
    gone[:: n_dep + 1] = [tuple(departments[i] for i in np.flatnonzero(lacking[:, j]))
                          for j in keep]
    return pd.DataFrame({  # the text columns by index into their few distinct names
        "month": _texts([grid[j] for j in keep], np.repeat(np.arange(len(keep)), n_dep + 1)),
        "department": _texts([ALL, *departments], np.tile(np.arange(n_dep + 1), len(keep))),
        "complete": ~lack.any(axis=1),
        "missing": _tuples(lack),
        "marked": marks.astype(bool),
        "incomplete_departments": gone,
    }, columns=list(STATUS_COLUMNS))


def _texts(names: Sequence[str], indices: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``names[i]`` for each ``i`` of ``indices``, as text (taken, not made string by string)."""
    return pd.array(list(names), dtype="str").take(indices)


def _codes(values: pd.Series, labels: Sequence[str]) -> np.ndarray:
    """Each text value's index in ``labels`` (-1 when not there or missing), by Arrow's hash
    lookup (no Python object per value)."""
    found = pc.index_in(pa.array(values), value_set=pa.array(list(labels), pa.string()))
    return found.fill_null(-1).to_numpy()


def _tuples(lack: np.ndarray) -> np.ndarray:
    """Each row of a (rows × datasets) boolean array as the tuple of the datasets it marks."""
    bits = lack.astype(np.int64) @ (1 << np.arange(lack.shape[1], dtype=np.int64))
    table = np.empty(1 << lack.shape[1], dtype=object)
    for code in range(len(table)):
        table[code] = tuple(d for k, d in enumerate(MONTH_DATASETS) if code >> k & 1)
    return table[bits]


def missing_in(status: pd.DataFrame, month: str, department: str) -> frozenset[str]:
    """The datasets missing in ``month`` for ``department`` in a :func:`month_status` frame;
    empty when the month is complete, marked, or not in the frame."""
    row = status[(status["month"] == month) & (status["department"] == department)]
    return frozenset(row["missing"].iloc[0]) if len(row) else frozenset()


def not_loaded(
    row_counts: pd.DataFrame,
    month: str,
    department: str,
    *,
    expected: Mapping[str, Sequence[str]] | None = None,
    marked: Marked = (),
    min_volume: int = store.DEFAULT_MIN_VOLUME,
) -> frozenset[str]:
    """The datasets with no rows in ``month`` that ``department`` (or All) should have: empty
    when the month is complete or marked complete (the module's rules)."""
    status = month_status(
        row_counts, expected=expected, marked=marked, months=[month], min_volume=min_volume
    )
    return missing_in(status, month, department)


def indicator_not_loaded(indicator_id: str, missing: Collection[str]) -> bool:
    """Whether any dataset the indicator reads is among ``missing``.

    >>> indicator_not_loaded("complaint_rate", {"purchases"}), indicator_not_loaded("csat", {"purchases"})
    (True, False)
    """
    return any(source.split(".", 1)[0] in missing for source in catalog.get(indicator_id).sources)


def latest_complete(status: pd.DataFrame, department: str) -> str | None:
    """The newest month that is complete for ``department`` in a :func:`month_status` frame."""
    done = status[(status["department"] == department) & status["complete"].astype(bool)]
    return None if done.empty else str(done["month"].max())


def join_words(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``.

    >>> join_words(["complaints", "responses", "surveys"])
    'complaints, responses and surveys'
    """
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def describe_missing(
    missing: Collection[str], month: str, *, departments: Sequence[str] = ()
) -> str:
    """What an incomplete month still lacks, in words; empty when nothing is missing.

    ``departments`` (All's incomplete departments) are named when there are at most
    :data:`MAX_NAMED_DEPARTMENTS`, else counted.

    >>> describe_missing({"surveys", "complaints"}, "2026-01")
    'complaints and surveys not yet loaded for 2026-01'
    >>> describe_missing({"complaints"}, "2026-01", departments=["A", "B", "C", "D"])
    'complaints not yet loaded for 2026-01 (4 departments)'
    """
    if not missing:
        return ""
    ordered = [d for d in MONTH_DATASETS if d in missing] + sorted(set(missing) - set(MONTH_DATASETS))
    text = f"{join_words(ordered)} not yet loaded for {month}"
    if not departments:
        return text
    if len(departments) <= MAX_NAMED_DEPARTMENTS:
        return f"{text} ({join_words(list(departments))})"
    return f"{text} ({len(departments)} departments)"


# --- the store -----------------------------------------------------------------------------


class MarkError(ValueError):
    """A month or department that cannot be marked complete; nothing was written."""


_HAS_MARKS = """SELECT count(*) FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main'
      AND table_name = 'complete_months'"""


def _has_marks(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the table exists: a database made before it, opened read-only, lacks it."""
    (found,) = con.execute(_HAS_MARKS).fetchone()
    return bool(found)


def read_marked(con: duckdb.DuckDBPyConnection) -> frozenset[tuple[str, str]]:
    """The months marked complete by hand, as ``(YYYY-MM, department or *)`` pairs."""
    if not _has_marks(con):
        return frozenset()
    rows = con.execute(
        "SELECT strftime(month, '%Y-%m'), department FROM complete_months"
    ).fetchall()
    return frozenset((m, d) for m, d in rows)


def status_of(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """:func:`month_status` of the database (row counts, the setting and the marks)."""
    from indicators.stored_indicators import row_counts

    settings = store.read_settings(con)
    return month_status(
        row_counts(con, ordered=False),  # the rules do not depend on the rows' order
        expected=settings.expected_datasets,
        marked=read_marked(con),
        min_volume=settings.min_volume,
    )


def mark_complete(
    con: duckdb.DuckDBPyConnection,
    month: str,
    department: str,
    *,
    complete: bool = True,
    user: str | None = None,
) -> tuple[str, str, bool]:
    """Mark ``month`` complete by hand for ``department`` (``*`` or All = every department), or
    with ``complete=False`` remove that mark; the stored ``(month, department)`` and whether
    the mark was there before.

    :class:`MarkError` (nothing written) for a month not written ``YYYY-MM`` or outside the
    data's months, or a department that has no data.
    """
    try:
        month = _months.label(_months.parse(month))
    except ValueError as err:
        raise MarkError(str(err)) from None
    months, departments = month_grid(con)
    if month not in months:
        shown = f"{months[0]} … {months[-1]}" if months else "no months yet"
        raise MarkError(f"no data in {month}; the data has {shown}")
    department = EVERY_DEPARTMENT if department in (ALL, EVERY_DEPARTMENT) else department
    if department != EVERY_DEPARTMENT and department not in departments:
        raise MarkError(
            f"unknown department {store.printable(department)!r}; name one with data, "
            f"or {ALL} for every department"
        )
    first_day = f"{month}-01"
    (before,) = con.execute(
        "SELECT count(*) FROM complete_months WHERE month = CAST(? AS DATE) AND department = ?",
        [first_day, department],
    ).fetchone()
    if complete and not before:  # a month marked again keeps who marked it first
        con.execute(
            """INSERT INTO complete_months (month, department, marked_by, marked_at)
               VALUES (CAST(? AS DATE), ?, ?, ?)""",
            [first_day, department, user, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        )
    elif not complete:
        con.execute(
            "DELETE FROM complete_months WHERE month = CAST(? AS DATE) AND department = ?",
            [first_day, department],
        )
    return month, department, bool(before)
