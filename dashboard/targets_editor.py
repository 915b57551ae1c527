"""The targets editor's rules, pure (no Streamlit): what a person sees in the table and what is
checked before anything is saved.

* **Indicators by name and unit.**  The table shows ``Complaints per 100 purchases · per 100``
  or ``Response time (median) · minutes``, never ``complaint_rate``: :func:`indicator_label` is
  the catalog label with the unit a target is typed in (:data:`UNIT_WORDS`; money in the
  organisation's currency when one is set).  A select-box cell holds the text it shows, so the
  table holds labels (:func:`to_editor`) and :func:`from_editor` maps them back to ids (an id
  typed or pasted as it is is kept).
* **Departments from the data.**  A target's department is one that has data, or ``*`` (all
  departments together): :func:`department_options`.  A name no stored row holds (a typo, an
  old target, a department whose files are still to come) is listed by
  :func:`unknown_departments`; the page saves it only when the analyst confirms it.
* **Incomplete rows are refused, never dropped.**  A row without indicator, department,
  baseline month, target month or target is listed with what it lacks
  (:func:`incomplete_rows`), and nothing is saved until every such row is filled in or deleted.
  Rows are numbered as the table shows them, from 1 at the top.

Examples
--------
>>> indicator_label("complaint_rate"), indicator_label("response_time_median")
('Complaints per 100 purchases · per 100', 'Response time (median) · minutes')
>>> indicator_label("csat"), indicator_label("revenue", currency="€")
('Customer satisfaction (CSAT) · %', 'Revenue · €')
>>> rows = pd.DataFrame({"indicator": ["csat", None], "department": ["North", "*"],
...                      "baseline_month": ["2025-01", "2025-01"], "target_month": ["2025-06", None],
...                      "target": [80.0, float("nan")]})
>>> [describe(r) for r in incomplete_rows(rows)]
['Row 2: no indicator, target month or target']
>>> unknown_departments(rows, known=["South"])
['North']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from dashboard.format import format_indicator, is_missing, md_text
from indicators import catalog
from indicators.schema import ALL_DEPARTMENTS_TARGET, ROUTE_SHAPES

SHAPES: tuple[str, ...] = ROUTE_SHAPES
"""The route shapes a target may take (empty = straight)."""

COLUMNS: tuple[str, ...] = (
    "indicator", "department", "baseline_month", "target_month", "target", "baseline", "tolerance",
    "shape", "steps", "owner",
)
"""The targets table's columns, in the editor's order (the targets dataset's contract)."""

TEXT_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "baseline_month", "target_month", "shape", "steps", "owner",
)
NUMBER_COLUMNS: tuple[str, ...] = ("target", "baseline", "tolerance")

REQUIRED: dict[str, str] = {
    "indicator": "indicator",
    "department": "department",
    "baseline_month": "baseline month",
    "target_month": "target month",
    "target": "target",
}
"""What a row must have, and how a missing one is named (baseline and tolerance may be empty)."""

UNIT_WORDS: dict[str, str] = {
    "count": "count",
    "money": "money",
    "%": "%",
    "per 100": "per 100",
    "points": "points",
    "minutes": "minutes",
    "hours": "hours",
}
"""The unit a target is typed in, as the label says it (``money``: the currency when set)."""


def unit_word(unit: str, *, currency: str = "") -> str:
    """How the label names ``unit``: the currency (symbol or code) for money when there is one."""
    if unit == "money" and currency:
        return currency
    return UNIT_WORDS.get(unit, unit)


def indicator_label(indicator_id: str, *, currency: str = "") -> str:
    """The catalog label and the unit its target is typed in: ``Retention rate · %``,
    ``Response time (median) · minutes`` (the route page's tables name indicators the same way)."""
    ind = catalog.get(indicator_id)
    return f"{ind.label} · {unit_word(ind.unit, currency=currency)}"


def indicator_options(*, currency: str = "") -> dict[str, str]:
    """Label → id for every indicator, in catalog order (the labels are all different)."""
    options = {indicator_label(i, currency=currency): i for i in catalog.INDICATOR_IDS}
    if len(options) != len(catalog.INDICATOR_IDS):
        raise ValueError("two indicators have the same label")  # the catalog's promise, checked
    return options


def department_options(known: Iterable[str], stored: Iterable[object] = ()) -> list[str]:
    """``*`` first, then the departments with data, then any other name already in a target
    (so an old target still shows its department, and is flagged by :func:`unknown_departments`)."""
    named = sorted({str(d) for d in known} - {ALL_DEPARTMENTS_TARGET})
    others = sorted(
        {str(d).strip() for d in stored if not is_blank(d)} - set(named) - {ALL_DEPARTMENTS_TARGET}
    )
    return [ALL_DEPARTMENTS_TARGET, *named, *others]


def is_blank(value: object) -> bool:
    """No value in a cell: ``None``, NaN, or text that is empty once trimmed."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or is_missing(value)


def to_editor(stored: pd.DataFrame, *, currency: str = "") -> pd.DataFrame:
    """Stored targets (ids) as the editor shows them (labels), in :data:`COLUMNS` order."""
    frame = stored.reindex(columns=list(COLUMNS))
    labels = {i: label for label, i in indicator_options(currency=currency).items()}
    shown = [labels.get(str(i), i) if not is_blank(i) else None for i in frame["indicator"]]
    return frame.assign(indicator=pd.Series(shown, index=frame.index, dtype="str"))


def from_editor(edited: pd.DataFrame, *, currency: str = "") -> pd.DataFrame:
    """The edited table as the targets dataset takes it: ids for labels, text trimmed, empty
    text as missing, numbers as floats; the row order (and so the row numbers) kept."""
    frame = edited.reindex(columns=list(COLUMNS)).reset_index(drop=True)
    ids = indicator_options(currency=currency)
    out: dict[str, pd.Series] = {}
    for column in TEXT_COLUMNS:
        cells = [None if is_blank(v) else str(v).strip() for v in frame[column]]
        if column == "indicator":
            cells = [ids.get(v, v) if v is not None else None for v in cells]
        out[column] = pd.Series(cells, dtype="str")
    for column in NUMBER_COLUMNS:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Incomplete:
    """A row of the editor (1 = top) and what it lacks, in :data:`REQUIRED` order."""

    row: int
    missing: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return len(self.missing) == len(REQUIRED)


def incomplete_rows(frame: pd.DataFrame) -> list[Incomplete]:
    """Every row that lacks a required cell (:data:`REQUIRED`), top to bottom."""
    found = []
    for position, record in enumerate(frame.reindex(columns=list(REQUIRED)).to_dict("records")):
        missing = tuple(name for column, name in REQUIRED.items() if is_blank(record[column]))
        if missing:
            found.append(Incomplete(position + 1, missing))
    return found


def describe(incomplete: Incomplete) -> str:
    """``Row 3: no target month or target``; ``Row 4 is empty: fill it in or delete it``."""
    if incomplete.empty:
        return f"Row {incomplete.row} is empty: fill it in or delete it"
    names = list(incomplete.missing)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Row {incomplete.row}: no {listed}"


def unknown_departments(frame: pd.DataFrame, known: Iterable[str]) -> list[str]:
    """Departments the rows name that have no data (not in ``known``), sorted; ``*`` and empty
    cells are never unknown."""
    have = {str(d) for d in known} | {ALL_DEPARTMENTS_TARGET}
    named = {str(d).strip() for d in frame["department"] if not is_blank(d)}
    return sorted(named - have)


def previewable_rows(frame: pd.DataFrame) -> list[int]:
    """Positions (0-based) of the rows whose route can be drawn: every required cell filled in
    and an indicator of the catalog."""
    lacking = {r.row - 1 for r in incomplete_rows(frame)}
    known = set(catalog.INDICATOR_IDS)
    return [
        i for i in range(len(frame)) if i not in lacking and frame["indicator"].iat[i] in known
    ]


COLUMN_LABELS: dict[str, str] = {
    "indicator": "Indicator",
    "department": "Department",
    "baseline_month": "Baseline month",
    "target_month": "Target month",
    "target": "Target",
    "baseline": "Baseline",
    "tolerance": "Tolerance",
    "shape": "Route shape",
    "steps": "Steps",
    "owner": "Owner",
}
"""The editor's column headers."""


def problems_table(problems: pd.DataFrame) -> pd.DataFrame:
    """The validator's problems (``file``, ``row``, ``column``, ``value``, ``rule``) in the
    editor's words: rows numbered as the table shows them (the validator counts a header row
    first, as in a file), columns by their headers."""
    return pd.DataFrame({
        "Row": problems["row"] - 1,
        "Column": [COLUMN_LABELS.get(c, c) for c in problems["column"]],
        "Value": problems["value"],
        "Problem": problems["rule"],
    })


def row_title(frame: pd.DataFrame, position: int, *, currency: str = "") -> str:
    """One row of a :func:`from_editor` table in words, for choosing it (plain text):
    ``Row 3 · Customer satisfaction (CSAT) · % · Call centre · 80.0 % by 2025-12``."""
    record = frame.iloc[position]
    department = record["department"]
    where = "all departments (*)" if department == ALL_DEPARTMENTS_TARGET else str(department)
    target = format_indicator(record["target"], str(record["indicator"]))
    label = indicator_label(str(record["indicator"]), currency=currency)
    return f"Row {position + 1} · {label} · {where} · {target} by {record['target_month']}"


def refusal(
    incomplete: list[Incomplete], unknown: list[str], *, confirmed: bool
) -> str | None:
    """Why the table cannot be saved yet (markdown, names escaped), or ``None`` when it can.

    >>> refusal([Incomplete(2, ("target",))], [], confirmed=False)
    'Targets not saved: 1 incomplete row (2), listed above. Fill it in or delete it.'
    >>> refusal([], ["Atlantis"], confirmed=True) is None
    True
    """
    if incomplete:
        many = len(incomplete) > 1
        them = "them" if many else "it"
        rows = ", ".join(str(r.row) for r in incomplete)
        return (
            f"Targets not saved: {len(incomplete)} incomplete row{'s' if many else ''} "
            f"({rows}), listed above. Fill {them} in or delete {them}."
        )
    if unknown and not confirmed:
        names = ", ".join(f"“{md_text(d)}”" for d in unknown)
        return (
            f"Targets not saved: no data for {names}. Choose a department with data, or tick "
            "the box above to keep the name."
        )
    return None
