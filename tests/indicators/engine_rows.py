"""Rows straight into the stored tables, for the engine tests (no ingestion module involved).

Each helper takes the contract columns by keyword; the derived ``month`` is the first of the
month of the row's date column, as ingestion stores it.  Timestamps are written
``YYYY-MM-DD HH:MM`` (local time, as stored).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from pathlib import Path

import duckdb

from indicators import store, stored_indicators
from indicators.facts import DepartmentNameError
from indicators.schema import DATASETS


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def first_of_month(text: str) -> date:
    """``YYYY-MM`` or a timestamp → the first day of its month."""
    moment = datetime.fromisoformat(text if len(text) > 7 else f"{text}-01")
    return date(moment.year, moment.month, 1)


def insert(con: duckdb.DuckDBPyConnection, dataset: str, rows: list[dict[str, object]]) -> None:
    """Insert ``rows`` into ``dataset``'s table with a parameterised INSERT."""
    spec = DATASETS[dataset]
    for row in rows:
        values = {name: row.get(name) for name in spec.column_names}
        for column in spec.columns:
            value = values[column.name]
            if column.kind == "timestamp" and isinstance(value, str):
                values[column.name] = ts(value)
            elif column.kind == "month" and isinstance(value, str):
                values[column.name] = first_of_month(value)
        if spec.event:
            values["month"] = first_of_month(str(row[spec.month_column]))
        names = ", ".join(f'"{n}"' for n in values)
        marks = ", ".join("?" for _ in values)
        con.execute(f'INSERT INTO "{dataset}" ({names}) VALUES ({marks})', list(values.values()))


def make_db(path: Path, data: dict[str, list[dict[str, object]]],
            settings: list[tuple[str, object, str]] = ()) -> Path:
    """A database file at ``path`` holding ``data`` ({dataset: rows}) and ``settings``
    (``(key, value, department)``); closed again so the file can be opened read-only."""
    con = store.connect(path)
    try:
        for dataset, rows in data.items():
            insert(con, dataset, rows)
        for key, value, department in settings:
            store.write_setting(con, key, value, department=department)
        # rows written by hand: the stored table follows them (a department named All, which
        # no load accepts, stays unstored: the tests see the refusal themselves)
        with contextlib.suppress(DepartmentNameError):
            stored_indicators.rebuild(con)
    finally:
        con.close()
    return path


def purchase(pid: str, at: str, customer: str, department: str, amount: float,
             list_amount: float | None = None) -> dict[str, object]:
    return {"purchase_id": pid, "purchased_at": at, "customer_id": customer,
            "department": department, "amount": amount, "list_amount": list_amount}


def complaint(cid: str, opened: str, department: str, *, customer: str | None = None,
              component: str | None = None, resolved: str | None = None,
              compensation: float | None = None) -> dict[str, object]:
    return {"complaint_id": cid, "opened_at": opened, "department": department,
            "customer_id": customer, "component": component, "resolved_at": resolved,
            "compensation": compensation}


def request(rid: str, department: str, received: str, responded: str | None,
            promised: float | None = None, *, customer: str | None = None) -> dict[str, object]:
    return {"request_id": rid, "department": department, "received_at": received,
            "responded_at": responded, "promised_minutes": promised, "customer_id": customer}


def survey(sid: str, answered: str, department: str, kind: str, score: int) -> dict[str, object]:
    return {"survey_id": sid, "answered_at": answered, "department": department, "kind": kind,
            "score": score}


def retention(month: str, department: str, start: int, end: int, new: int) -> dict[str, object]:
    return {"month": month, "department": department, "customers_start": start,
            "customers_end": end, "new_customers": new}
