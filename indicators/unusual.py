"""Unusual values: each indicator value against what its own history predicts (issue 19, part 3).

The rules are pure (:func:`flag`, :func:`volumes_from_row_counts`: DataFrames in, DataFrame
out); :func:`unusual_in` is the one small reader, for the pages and the ``unusual`` command.
Flags are computed when they are read, never stored: the threshold (the ``unusual_threshold``
setting) changes no stored indicator.

**The reference values.**  For the value of an indicator at month *m* in one department (or
All), its own series gives the reference values:

* *same month* (``basis`` ``"same month"``): the values of the same calendar month in earlier
  years (*m* − 12, *m* − 24, … as far back as the history goes), when at least
  :data:`MIN_SAME_MONTH` (2) of them hold a value — the seasons are then compared with
  themselves;
* else *trailing 12* (``"trailing 12"``): the 12 months before *m* (*m* − 12 … *m* − 1), when
  at least :data:`MIN_TRAILING` (6) of them hold a value;
* else none (``""``): too little history, no score, never unusual.

A missing value (NaN) is no reference value, and a month absent from the history is missing.

**The score.**  usual = the median of the reference values; MAD = the median of
|x − usual| over them; score = (value − usual) ÷ scale, where the scale is

1. the MAD when it is above 0: the score is in raw MAD units ("3.1 MAD above"), not scaled by
   1.4826 to a standard deviation;
2. else (more than half of the reference values equal the usual) the mean absolute deviation
   from the usual: the few that differ give the spread ("… mean deviations above");
3. else (every reference value equals the usual) 1 % of |usual|: the score is the change in
   percent of the usual ("5.0 % above");
4. else (every reference value is 0) there is no scale: no score (NaN), never unusual.

A value equal to the usual scores 0 (in case 4 too).  Nothing is divided by 0; a score is a
finite number or missing, never infinite.

**Unusual** when |score| ≥ the threshold — the boundary is *inclusive*, |score| compared
rounded to 9 decimals so that a score that is the threshold in decimal arithmetic is not lost to
binary floating point — **and** the value's volume is at least the minimum volume.

**The volume** (:func:`volumes_from_row_counts`) is the rows the value was computed from: the
month's rows of the department (for All, of every department) in the dataset its formula reads
(the catalog's ``sources``); of several datasets the smallest — complaints per 100 purchases is
as noisy as its complaints, so 3 complaints among 1,000 purchases are a volume of 3.  CSAT and
NPS count every survey row (both kinds).  The minimum is the ``min_volume`` setting (the rows a
department needs in the month to be ranked), so a department with 3 complaints is not flagged
for having 6.  Retention rows are one summary a month (:data:`indicators.schema.AGGREGATE_DATASETS`),
no volume: the retention rate, and any value without a volume, is judged without the rule.
(Ranking a department uses a different volume, :func:`dashboard.scorecard.indicator_volumes`:
there a small count is exact and ranks; here it is what makes a large score noise.)

**The reason**, one line, only for an unusual value: the score rounded to one decimal, its
direction and its basis — ``"3.1 MAD above the usual December"``, ``"4.0 MAD below the usual of
the last 12 months"`` — after ``"highest in N months; "`` (``"lowest …"``) when the value is
strictly the highest (lowest) of the 24 months ending with it (*m* − 23 … *m*) and N, the months
of them holding a value (this one included), is at least 12.

**The default threshold** (:data:`indicators.store.DEFAULT_UNUSUAL_THRESHOLD`) is 5 raw MAD,
about 3.4 standard deviations of normal data (1 MAD ≈ 0.674 σ): the usual robust outlier rule
(3.5 scaled MAD ≈ 5.2 raw MAD), rounded.  Lower thresholds flag the noise of two or three
reference Decembers.

Examples
--------
Three Decembers of 10, 12 and 11 make a usual December of 11, MAD 1; a December of 20 is 9 MAD
above it:

>>> history = pd.DataFrame({"month": ["2022-12", "2023-12", "2024-12", "2025-12"],
...                         "department": "North", "indicator": "complaints",
...                         "value": [10.0, 12.0, 11.0, 20.0]})
>>> row = flag(history, threshold=5, min_volume=0).iloc[-1]
>>> float(row.usual), float(row.mad), float(row.score), row.basis, bool(row.unusual), row.reason
(11.0, 1.0, 9.0, 'same month', True, '9.0 MAD above the usual December')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from indicators import months as month_labels
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS, INDICATORS
from indicators.schema import AGGREGATE_DATASETS
from indicators.scope import Scope

MIN_SAME_MONTH = 2
"""Earlier years' values of the same calendar month needed to compare with them."""
TRAILING_MONTHS = 12
MIN_TRAILING = 6
"""Values among the :data:`TRAILING_MONTHS` before a month needed to compare with them."""
EXTREME_WINDOW = 24
"""The months (ending with the value's) its "highest in N months" looks at."""
MIN_EXTREME = 12
"""The fewest months with a value that make "highest in N months" worth saying."""
SAME_MONTH, TRAILING, NO_BASIS = "same month", "trailing 12", ""
_DECIMALS = 9
"""|score| is compared with the threshold rounded to this many decimals."""

KEYS: tuple[str, ...] = ("month", "department", "indicator")
FLAG_COLUMNS: tuple[str, ...] = (
    "month", "department", "indicator", "value", "usual", "mad", "score", "basis", "unusual",
    "reason", "scale", "volume",
)
""":func:`flag`'s columns: the score's parts, then ``scale`` (what the score divides by: the
MAD or its fallback, NaN when none) and ``volume`` (NaN: no volume rule for that value)."""
VOLUME_COLUMNS: tuple[str, ...] = ("month", "department", "indicator", "volume")

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
"""Written the same whatever the machine's locale (``calendar.month_name`` is not)."""
_SCALE_WORDS = ("MAD", "mean deviations", "%")
"""How the score of each scale case (1–3 of the module docstring) is read out."""


def _checked_options(threshold: float, min_volume: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not (
        math.isfinite(threshold) and threshold > 0
    ):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    if isinstance(min_volume, bool) or not isinstance(min_volume, (int, np.integer)) or (
        min_volume < 0
    ):
        raise ValueError(f"min_volume must be a whole number ≥ 0, got {min_volume!r}")


def _checked_table(frame: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    """``frame``'s ``columns`` (ValueError naming the missing ones, or a repeated key)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")
    table = frame[list(columns)]
    repeated = table.duplicated(list(KEYS))
    if repeated.any():
        first = table[repeated].iloc[0]
        raise ValueError(f"{what} holds more than one row for {first.month} "
                         f"{first.department} {first.indicator}")
    return table


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in FLAG_COLUMNS})
    return frame.astype({"month": "str", "department": "str", "indicator": "str", "basis": "str",
                         "reason": "str", "unusual": "bool"})


def _stats(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``refs`` (NaN = no value): median, MAD and mean absolute deviation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of NaN: NaN, as meant
        usual = np.nanmedian(refs, axis=1)
        spread = np.abs(refs - usual[:, None])
        return usual, np.nanmedian(spread, axis=1), np.nanmean(spread, axis=1)


def _score_month(wide: np.ndarray, t: int, groups: np.ndarray) -> dict[str, np.ndarray]:
    """The score's parts for the values of month column ``t`` of ``wide`` (groups × months, NaN
    missing) in the rows ``groups``."""
    series = wide[groups]
    value = series[:, t]
    same = series[:, np.arange(t - 12, -1, -12, dtype=int)]
    trailing = series[:, max(0, t - TRAILING_MONTHS):t]
    n_same = np.sum(~np.isnan(same), axis=1)
    n_trailing = np.sum(~np.isnan(trailing), axis=1)
    use_same = n_same >= MIN_SAME_MONTH
    use_trailing = ~use_same & (n_trailing >= MIN_TRAILING)
    width = max(same.shape[1], TRAILING_MONTHS)
    refs = np.full((len(groups), width), np.nan)
    refs[use_same, :same.shape[1]] = same[use_same]
    refs[use_trailing, :trailing.shape[1]] = trailing[use_trailing]
    usual, mad, mean_ad = _stats(refs)

    case = np.select([mad > 0, mean_ad > 0, usual != 0], [0, 1, 2], default=3)
    case[~(use_same | use_trailing)] = 3
    scale = np.select([case == 0, case == 1, case == 2],
                      [mad, mean_ad, np.abs(usual) / 100], default=np.nan)
    deviation = value - usual
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(deviation == 0, 0.0, deviation / scale)

    before = series[:, max(0, t - EXTREME_WINDOW + 1):t]
    months_compared = np.sum(~np.isnan(before), axis=1) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        highest = (value > np.nanmax(before, axis=1)) if before.shape[1] else value == value
        lowest = (value < np.nanmin(before, axis=1)) if before.shape[1] else value == value
    extreme = months_compared >= MIN_EXTREME
    basis = np.where(use_same, SAME_MONTH, np.where(use_trailing, TRAILING, NO_BASIS))
    return {"usual": usual, "mad": mad, "scale": scale, "score": score, "case": case,
            "basis": basis, "highest": highest & extreme, "lowest": lowest & extreme,
            "months_compared": months_compared}


def reason_text(score: float, *, basis: str, month: str, case: int = 0,
                extreme: str = "", months_compared: int = 0) -> str:
    """The one line of an unusual value (the rules in the module docstring): ``case`` the scale
    (0 MAD, 1 mean deviation, 2 percent of the usual), ``extreme`` ``"highest"``, ``"lowest"``
    or ``""``.

    >>> reason_text(3.14, basis="same month", month="2025-12", extreme="highest",
    ...             months_compared=24)
    'highest in 24 months; 3.1 MAD above the usual December'
    >>> reason_text(-7.0, basis="trailing 12", month="2025-03", case=2)
    '7.0 % below the usual of the last 12 months'
    """
    direction = "above" if score > 0 else "below"
    usual = (f"the usual {_MONTH_NAMES[month_labels.index(month) % 12]}" if basis == SAME_MONTH
             else f"the usual of the last {TRAILING_MONTHS} months")
    word = _SCALE_WORDS[case]
    amount = f"{abs(score):.1f} %" if word == "%" else f"{abs(score):.1f} {word}"
    text = f"{amount} {direction} {usual}"
    return f"{extreme} in {months_compared} months; {text}" if extreme else text


def flag(
    history: pd.DataFrame,
    *,
    threshold: float,
    min_volume: int,
    volumes: pd.DataFrame | None = None,
    months: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Each value of ``history`` scored against its own history (the module docstring's rules).

    ``history`` is the indicator long table (``month`` ``YYYY-MM``, ``department``,
    ``indicator``, ``value`` float with NaN missing: what
    :func:`indicators.stored_indicators.read` returns); ``volumes`` (``month``, ``department``,
    ``indicator``, ``volume``; :func:`volumes_from_row_counts`) the rows each value was computed
    from — None, or a value without a row there: no volume rule.  With ``months``
    (``(first, last)``) only the values of those months are scored, the earlier ones serving as
    history.

    One row per value (not missing) of ``history``, in its order, with :data:`FLAG_COLUMNS`:
    ``usual`` (the median), ``mad``, ``score`` (NaN without a basis or a scale), ``basis``
    (``"same month"``, ``"trailing 12"`` or ``""``), ``unusual`` (bool), ``reason`` (``""``
    unless unusual), ``scale`` and ``volume``.  ``ValueError`` for a threshold that is not
    positive, a negative min_volume, a missing column, a repeated row or a month not ``YYYY-MM``.
    """
    _checked_options(threshold, min_volume)
    table = _checked_table(history, ("month", "department", "indicator", "value"), "history")
    if table.empty:
        return _empty()
    index_of = {m: month_labels.index(m) for m in table["month"].unique()}
    position = table["month"].map(index_of).to_numpy(dtype=int)
    first = position.min()
    column = position - first
    groups, uniques = pd.MultiIndex.from_frame(table[["department", "indicator"]]).factorize()
    values = table["value"].astype("float64").to_numpy()
    wide = np.full((len(uniques), column.max() + 1), np.nan)
    wide[groups, column] = values

    scored = ~np.isnan(values)
    if months is not None:
        low, high = month_labels.index(months[0]), month_labels.index(months[1])
        scored &= (position >= low) & (position <= high)
    rows = np.flatnonzero(scored)
    if rows.size == 0:
        return _empty()
    parts: dict[str, np.ndarray] = {}
    for t in np.unique(column[rows]):
        at = rows[column[rows] == t]
        for name, part in _score_month(wide, int(t), groups[at]).items():
            if name not in parts:
                parts[name] = np.empty(len(values), dtype=part.dtype)
            parts[name][at] = part

    out = table.iloc[rows].reset_index(drop=True)
    for name in ("usual", "mad", "score", "basis", "scale"):
        out[name] = parts[name][rows]
    out["volume"] = _volumes_of(out, volumes)
    score = out["score"].to_numpy()
    with np.errstate(invalid="ignore"):
        large = np.round(np.abs(score), _DECIMALS) >= threshold
    enough = out["volume"].isna().to_numpy() | (out["volume"].to_numpy() >= min_volume)
    out["unusual"] = large & enough & ~np.isnan(score)
    reasons = np.full(len(out), "", dtype=object)
    basis, month = out["basis"].to_numpy(dtype=object), out["month"].to_numpy(dtype=object)
    for i in np.flatnonzero(out["unusual"].to_numpy()):
        row = rows[i]
        extreme = ("highest" if parts["highest"][row]
                   else "lowest" if parts["lowest"][row] else "")
        reasons[i] = reason_text(
            float(score[i]), basis=str(basis[i]), month=str(month[i]),
            case=int(parts["case"][row]), extreme=extreme,
            months_compared=int(parts["months_compared"][row]),
        )
    out["reason"] = reasons
    return out[list(FLAG_COLUMNS)].astype(
        {"month": "str", "department": "str", "indicator": "str", "basis": "str",
         "reason": "str", "unusual": "bool", "value": "float64", "usual": "float64",
         "mad": "float64", "score": "float64", "scale": "float64", "volume": "float64"})


def _volumes_of(rows: pd.DataFrame, volumes: pd.DataFrame | None) -> pd.Series:
    """Each row's volume (NaN: none given)."""
    if volumes is None:
        return pd.Series(np.nan, index=rows.index, dtype="float64")
    given = _checked_table(volumes, VOLUME_COLUMNS, "volumes")
    joined = rows[list(KEYS)].merge(given.astype({"volume": "float64"}), on=list(KEYS),
                                    how="left")
    return pd.Series(joined["volume"].to_numpy(), index=rows.index, dtype="float64")


def _source_datasets(indicator_id: str) -> tuple[str, ...]:
    """The datasets whose rows are the indicator's volume (catalog sources, summaries aside)."""
    ind = next(i for i in INDICATORS if i.id == indicator_id)
    return tuple(sorted({s.split(".")[0] for s in ind.sources} - AGGREGATE_DATASETS))


def volumes_from_row_counts(
    row_counts: pd.DataFrame, *, departments: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each indicator's volume per month and department, from the stored row counts
    (``dataset``, ``month``, ``department``, ``rows``: :func:`indicators.stored_indicators.row_counts`).

    The volume is the month's rows of the department in the dataset the indicator reads, the
    smallest of several (module docstring); ``All`` the rows of every department.  Every month
    from the first to the last counted, every department counted and All (0 rows where a dataset
    has none); only ``departments`` when given (All's still summed over every department).
    Indicators that read only summary datasets (retention) have no rows: no volume rule.
    Columns :data:`VOLUME_COLUMNS`, ``volume`` int64.

    >>> counts = pd.DataFrame({"dataset": ["purchases", "complaints", "purchases"],
    ...                        "month": ["2025-01"] * 3, "department": ["N", "N", "S"],
    ...                        "rows": [1000, 3, 40]})
    >>> v = volumes_from_row_counts(counts).set_index(["department", "indicator"])["volume"]
    >>> int(v["N", "complaint_rate"]), int(v["S", "complaint_rate"]), int(v["All", "purchases"])
    (3, 0, 1040)
    """
    missing = [c for c in ("dataset", "month", "department", "rows") if c not in row_counts]
    if missing:
        raise ValueError(f"row_counts lacks the column(s) {', '.join(missing)}")
    if row_counts.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in VOLUME_COLUMNS[:3]}
                            | {"volume": pd.Series(dtype="int64")})
    counts = row_counts.astype({"dataset": "str", "month": "str", "department": "str"})
    grid_months = month_labels.span(counts["month"].min(), counts["month"].max())
    named = sorted(set(counts["department"]) - {ALL_DEPARTMENTS})
    wanted = named if departments is None else [d for d in named if d in set(departments)]
    everyone = [ALL_DEPARTMENTS, *wanted] if (
        departments is None or ALL_DEPARTMENTS in departments) else wanted
    # Only the departments asked for are spread out (a page asks for one); All sums them all.
    mine = counts[counts["department"].isin(wanted)]
    by_department = mine.groupby(["month", "department", "dataset"])["rows"].sum().unstack(
        "dataset", fill_value=0)
    all_rows = counts[counts["department"] != ALL_DEPARTMENTS].groupby(
        ["month", "dataset"])["rows"].sum().unstack("dataset", fill_value=0)
    all_rows.index = pd.MultiIndex.from_product([all_rows.index, [ALL_DEPARTMENTS]],
                                                names=["month", "department"])
    table = pd.concat([by_department, all_rows]).fillna(0).reindex(
        pd.MultiIndex.from_product([grid_months, everyone], names=["month", "department"]),
        fill_value=0)
    # One block of rows per indicator (catalog order), every (month, department) in each.
    rows_of = table.to_numpy(dtype="int64")
    column = {name: i for i, name in enumerate(table.columns)}
    ids, blocks = [], []
    for indicator in INDICATOR_IDS:
        sources = _source_datasets(indicator)
        if not sources:
            continue
        ids.append(indicator)
        blocks.append(rows_of[:, [column[s] for s in sources]].min(axis=1)
                      if all(s in column for s in sources)
                      else np.zeros(len(table), dtype="int64"))
    n = len(table)
    return pd.DataFrame({
        "month": np.tile(table.index.get_level_values("month").to_numpy(dtype=object), len(ids)),
        "department": np.tile(table.index.get_level_values("department").to_numpy(dtype=object),
                              len(ids)),
        "indicator": np.repeat(np.array(ids, dtype=object), n),
        "volume": np.concatenate(blocks) if blocks else np.zeros(0, dtype="int64"),
    }).astype({"month": "str", "department": "str", "indicator": "str", "volume": "int64"})


def unusual_in(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None = None,
    *,
    indicators: Sequence[str] | None = None,
    threshold: float | None = None,
    min_volume: int | None = None,
    row_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`flag` for the values of ``scope`` (its months and departments, All among them or
    not; None: everything), scored against each series' whole stored history up to the scope's
    last month (read through :func:`indicators.stored_indicators.read`).

    ``threshold`` and ``min_volume`` default to the settings (``unusual_threshold``,
    ``min_volume``); ``row_counts`` to :func:`indicators.stored_indicators.row_counts` (a page
    that holds them cached passes them).  The scorecard asks for one department and its 12
    months (``Scope((m − 11, m), (department,))``), a chart for a department's whole history
    (``Scope(None, (department,))``).
    """
    from indicators import store, stored_indicators

    scope = scope or Scope()
    if threshold is None or min_volume is None:
        settings = store.read_settings(con)
        threshold = settings.unusual_threshold if threshold is None else threshold
        min_volume = settings.min_volume if min_volume is None else min_volume
    _checked_options(threshold, min_volume)
    grid_months, _ = stored_indicators.grid(con)
    if not grid_months or (scope.months is not None and scope.months[1] < grid_months[0]):
        return _empty()
    history_scope = Scope(None if scope.months is None else (grid_months[0], scope.months[1]),
                          scope.departments)
    history = stored_indicators.read(con, history_scope, indicators=indicators)
    counts = stored_indicators.row_counts(con) if row_counts is None else row_counts
    volumes = volumes_from_row_counts(counts, departments=scope.departments)
    return flag(history, threshold=threshold, min_volume=min_volume, volumes=volumes,
                months=scope.months)
