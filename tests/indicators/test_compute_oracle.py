"""An independent oracle: random SPEC-format files, loaded with ``python -m indicators ingest``,
every indicator recomputed in plain Python and compared with ``report --format json``.

The oracle reads only the rows it generated and the SPEC text: no DuckDB, no engine code.
Edge cases are planted on purpose: a month without purchases, a department without complaints,
repeat complaints exactly 90 days apart and a second more, two complaints at the same instant,
a purchase exactly 12 and 13 months after another, answers exactly at the promise, unanswered
requests, purchases with and without ``list_amount``, retention with ``customers_start`` 0;
and for the service manager's indicators: complaints resolved at the last second of the 3rd
business day and a second later, over a weekend, around holidays (one on a Wednesday, one on a
Saturday, one on the day a complaint opened), under a department's own complaint promise (North 2
business days, Web 5, South the default 3), resolved exactly 56 days after opening and a second
more, open across month ends and resolved exactly at a month's first instant (and a second
before), opened exactly 56 days before a month's end (and a second more), never resolved;
requests with and without ``customer_id``; a customer's new contact exactly ``fcr_days`` after a
resolution and a minute later, in another department; contacts closed exactly ``fcr_days``
before the horizon (the latest ``opened_at``/``received_at`` stored) and a second later, a last
month too recent to be judged; ces answers scoring 4 and 5.  Time zone: the default, UTC.
Each seed counts complaints elsewhere (:data:`ICEBERGS`): the front line of a new database, head
office, a custom factor, each with its share of dissatisfied customers who leave.
"""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from indicators import store

ROOT = Path(__file__).resolve().parents[2]
ALL = "All"
DEPARTMENTS = ("North", "South", "Web")
COMPONENTS = ("product", "procedures", "facilities", "systems", "information", "people")
ICEBERG = 8.0
"""The custom factor of the third run."""
ICEBERGS: dict[int, tuple[list[tuple[str, object]], float, float]] = {
    # seed: (settings written, dissatisfied per complaint, % who leave), from the SPEC's words:
    1: ([], 2.0, 30.0),  # a new database: the front line, ×2; 30 % leave
    7: ([("iceberg_counted_at", "head_office"), ("dissatisfied_leave_share", 45)], 25.0, 45.0),
    2024: ([("iceberg_counted_at", "custom"), ("iceberg_factor", ICEBERG),
            ("dissatisfied_leave_share", 60)], ICEBERG, 60.0),
}
PROMISES = {"North": 20.0, "*": 45.0}  # South and Web get 45
COMPLAINT_PROMISES = {"North": 2, "Web": 5}  # business days; South gets the default
DEFAULT_COMPLAINT_PROMISE = 3
FCR_DAYS = 7  # the first-contact days: the default, not set
FCA_DAYS = 3  # the FCA's first band: by the end of the 3rd business day
EIGHT_WEEKS = timedelta(days=56)
Row = dict[str, object]


# --- the random data set ------------------------------------------------------------------


def _month_add(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _moment(rng: random.Random, ym: tuple[int, int]) -> datetime:
    return datetime(ym[0], ym[1], rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                    rng.randint(0, 59))


def _monday(year: int, month: int) -> date:
    """The first Monday of the month."""
    first = date(year, month, 1)
    return first + timedelta(days=-first.weekday() % 7)


def _at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)


def _month_start(ym: tuple[int, int]) -> datetime:
    return datetime(ym[0], ym[1], 1)


RANDOM = object()
"""``resolved``/``responded`` not given: drawn at random."""


def generate(seed: int) -> tuple[dict[str, list[Row]], tuple[date, ...]]:
    """The rows of every dataset and the holidays setting."""
    rng = random.Random(seed)
    n_months = rng.randint(6, 14)
    start = (2024, rng.randint(6, 12))
    months = [_month_add(*start, i) for i in range(n_months)]
    quiet = months[rng.randint(1, n_months - 2)]  # no purchases at all that month
    customers = [f"C{i:02d}" for i in range(25)]
    data: dict[str, list[Row]] = defaultdict(list)

    def ask(received: datetime, responded: datetime | None, customer: str | None,
            department: str, promised: float | None = None) -> None:
        data["responses"].append({
            "request_id": f"Q{len(data['responses'])}", "department": department,
            "received_at": received, "responded_at": responded,
            "promised_minutes": promised, "customer_id": customer,
        })

    def answer(at: datetime, department: str, kind: str, score: int) -> None:
        data["surveys"].append({
            "survey_id": f"S{len(data['surveys'])}", "answered_at": at,
            "department": department, "kind": kind, "score": score,
        })

    def buy(at: datetime, customer: str, department: str) -> None:
        amount = round(rng.uniform(0, 200), 2) if rng.random() > 0.05 else 0.0
        listed = round(amount + rng.choice((0, rng.uniform(0, 50))), 2)
        data["purchases"].append({
            "purchase_id": f"P{len(data['purchases'])}", "purchased_at": at,
            "customer_id": customer, "department": department, "amount": amount,
            "list_amount": listed if rng.random() < 0.5 else None,
        })

    for ym in months:
        if ym == quiet:
            continue
        for _ in range(rng.randint(5, 35)):
            buy(_moment(rng, ym), rng.choice(customers), rng.choice(DEPARTMENTS))
    # exactly 12 and 13 months apart, in one department
    buy(datetime(*months[0], 3, 9, 0, 0), "R12", "South")
    buy(datetime(*_month_add(*months[0], 12), 3, 9, 0, 0), "R12", "South")
    buy(datetime(*_month_add(*months[0], 13), 3, 9, 0, 0), "R13", "South")
    buy(datetime(*months[0], 4, 9, 0, 0), "R13", "South")

    def complain(at: datetime, customer: str | None, component: str | None,
                 department: str, resolved: object = RANDOM) -> None:
        if resolved is RANDOM:  # most within days, some after weeks (the backlog, the bands)
            took = rng.choice((rng.randint(0, 9000), rng.randint(0, 100 * 24 * 60)))
            resolved = at + timedelta(minutes=took) if rng.random() < 0.7 else None
        data["complaints"].append({
            "complaint_id": f"K{len(data['complaints'])}", "opened_at": at,
            "department": department, "customer_id": customer, "component": component,
            "resolved_at": resolved,
            "compensation": round(rng.uniform(0, 30), 2) if rng.random() < 0.5 else None,
        })

    complainers = customers[:6]
    for ym in months:
        for _ in range(rng.randint(0, 9)):
            complain(_moment(rng, ym), rng.choice([*complainers, None]),
                     rng.choice([*COMPONENTS, None]), rng.choice(DEPARTMENTS[:2]))
    base = datetime(*months[1], 2, 8, 30, 0)
    complain(base, "X1", "product", "North")
    complain(base + timedelta(days=90), "X1", "product", "South")
    complain(base, "X2", None, "North")
    complain(base + timedelta(days=90, seconds=1), "X2", None, "North")
    complain(base, "X3", "people", "South")
    complain(base, "X3", "people", "North")

    # business days (South: the default promise of 3, the FCA's 3 too); a0 is a Monday
    a0 = _monday(*months[2])
    for resolved in (_at(a0 + timedelta(3), 23, 59, 59),  # Thu, the 3rd one's last second
                     _at(a0 + timedelta(4)),  # Fri 00:00: the 4th
                     _at(a0 + timedelta(4), 0, 0, 1)):
        complain(_at(a0, 10), None, "systems", "South", resolved)
    friday, saturday = a0 + timedelta(4), a0 + timedelta(5)
    complain(_at(friday, 15), None, None, "South", _at(friday + timedelta(5), 12))  # Wed: 3
    complain(_at(friday, 15), None, None, "South", _at(friday + timedelta(6)))  # Thu: 4
    complain(_at(friday, 23, 59, 59), None, None, "South", _at(friday + timedelta(3)))  # Mon: 1
    complain(_at(saturday, 12), None, None, "South", _at(saturday + timedelta(1), 20))  # 0
    complain(_at(saturday, 12), None, None, "South",
             _at(saturday + timedelta(4), 23, 59, 59))  # Sat → Wed: 3
    # a department's own promise: North 2 business days, Web 5
    complain(_at(a0, 9), None, "people", "North", _at(a0 + timedelta(2), 23, 59, 59))  # 2
    complain(_at(a0, 9), None, "people", "North", _at(a0 + timedelta(3)))  # 3
    complain(_at(a0, 9), None, "people", "Web", _at(a0 + timedelta(7), 12))  # next Mon: 5
    complain(_at(a0, 9), None, "people", "Web", _at(a0 + timedelta(8)))  # next Tue: 6

    # holidays: h0 + 2 (a Wednesday), h0 + 5 (a Saturday), h0 + 7 (the Monday after)
    h0 = _monday(*months[3])
    holidays = (h0 + timedelta(2), h0 + timedelta(5), h0 + timedelta(7), date(2023, 12, 25))
    complain(_at(h0, 10), None, "product", "South", _at(h0 + timedelta(4), 23, 59, 59))  # 3
    complain(_at(h0, 10), None, "product", "South", _at(h0 + timedelta(7)))  # Mon, a holiday: 3
    complain(_at(h0, 10), None, "product", "South", _at(h0 + timedelta(8)))  # Tue: 4
    fri = h0 + timedelta(4)
    complain(_at(fri, 10), None, None, "South", _at(fri + timedelta(5), 23, 59, 59))  # Wed: 2
    complain(_at(fri, 10), None, None, "South", _at(fri + timedelta(6), 23, 59, 59))  # Thu: 3
    complain(_at(fri, 10), None, None, "South", _at(fri + timedelta(7)))  # Fri: 4
    # opened on a holiday (Monday h0 + 7): Tue, Wed, Thu
    complain(_at(h0 + timedelta(7), 10), None, None, "South",
             _at(h0 + timedelta(10), 23, 59, 59))
    complain(_at(h0 + timedelta(1), 10), None, None, "North",
             _at(h0 + timedelta(4), 23, 59, 59))  # Tue → Fri: (Wed), Thu, Fri = North's 2

    # the FCA's 8 weeks: exactly 56 × 24 hours, and a second more
    eight = datetime(*months[1], 10, 14, 30, 0)
    complain(eight, None, "information", "South", eight + EIGHT_WEEKS)
    complain(eight, None, "information", "South", eight + EIGHT_WEEKS + timedelta(seconds=1))

    # the backlog across month ends
    end4 = _month_start(months[5])  # the end of months[4]
    complain(datetime(*months[3], 20, 8), None, "facilities", "North", end4)  # open at 2 ends
    complain(datetime(*months[3], 20, 8), None, "facilities", "North",
             end4 - timedelta(seconds=1))  # open at one end
    complain(_month_start(months[4]), None, "facilities", "North", None)  # the first instant
    complain(end4 - EIGHT_WEEKS, None, "facilities", "North", None)  # exactly 56 days old
    complain(end4 - EIGHT_WEEKS - timedelta(seconds=1), None, "facilities", "North", None)
    complain(end4, None, "facilities", "North", None)  # opened as months[5] began

    # first-contact resolution: a new contact exactly FCR_DAYS after, and a minute later
    t1 = datetime(*months[2], 11, 12, 0, 0)
    complain(datetime(*months[2], 10, 9), "F1", "product", "North", t1)
    t2 = datetime(*months[2], 11, 13, 0, 0)
    complain(datetime(*months[2], 10, 9), "F2", "product", "South", t2)
    complain(t2 + timedelta(days=FCR_DAYS, minutes=1), "F2", "systems", "North", None)

    for ym in months:
        for _ in range(rng.randint(0, 15)):
            department = rng.choice(DEPARTMENTS)
            received = _moment(rng, ym)
            promised = rng.choice((None, None, 15.0, 30.0, 45.0))
            effective = promised or PROMISES.get(department, PROMISES["*"])
            wait = rng.choice((None, effective, rng.uniform(0, 120), rng.randint(0, 90)))
            # whole seconds: the files carry no fractions of a second
            responded = None if wait is None else received + timedelta(seconds=round(wait * 60))
            ask(received, responded, rng.choice([*complainers, None, None]), department,
                promised)
        for _ in range(rng.randint(0, 12)):
            kind = rng.choice(("csat", "nps", "ces"))
            answer(_moment(rng, ym), rng.choice(DEPARTMENTS), kind,
                   {"csat": rng.randint(1, 5), "nps": rng.randint(0, 10),
                    "ces": rng.randint(1, 7)}[kind])
        for department in DEPARTMENTS:
            if rng.random() < 0.6:
                end = rng.randint(0, 80)
                data["retention"].append({
                    "month": f"{ym[0]:04d}-{ym[1]:02d}", "department": department,
                    "customers_start": rng.choice((0, rng.randint(1, 90))),
                    "customers_end": end, "new_customers": rng.randint(0, end),
                })
    answer(datetime(*months[0], 5, 12), "North", "ces", 4)
    answer(datetime(*months[0], 5, 12), "North", "ces", 5)

    ask(t1 + timedelta(days=FCR_DAYS), t1 + timedelta(days=FCR_DAYS, hours=1), "F1", "Web")
    ask(datetime(*months[2], 12, 10), datetime(*months[2], 12, 10, 30), None, "North")
    # The horizon: the latest opened_at/received_at stored, a request without a customer on
    # the 3rd of the month after the last (every other row is earlier).  The last month ended
    # less than FCR_DAYS before it: not judged, though Z4's request was closed long before.
    horizon = datetime(*_month_add(*months[-1], 1), 3, 12, 0, 0)
    ask(horizon, None, None, "Web")
    ask(datetime(*months[-1], 2, 9), datetime(*months[-1], 2, 10), "Z4", "North")
    # months[-2] is judged, but not its contacts closed less than FCR_DAYS before the horizon
    judged_by = horizon - timedelta(days=FCR_DAYS)
    late = datetime(*months[-2], 25, 10)
    complain(late, "Z1", "product", "South", judged_by)  # judged
    complain(late, "Z2", "product", "South", judged_by + timedelta(seconds=1))  # not yet
    ask(late, judged_by, "Z3", "Web")  # judged
    return dict(data), holidays


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def write_files(data: dict[str, list[Row]], folder: Path) -> list[Path]:
    paths = []
    for name, rows in data.items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(rows[0].keys())
            writer.writerows([_text(v) for v in row.values()] for row in rows)
        paths.append(path)
    return paths


# --- the oracle -----------------------------------------------------------------------------


def _month(value: object) -> str:
    return value if isinstance(value, str) else f"{value.year:04d}-{value.month:02d}"


def _shift(month: str, n: int) -> str:
    year, mon = _month_add(int(month[:4]), int(month[5:]), n)
    return f"{year:04d}-{mon:02d}"


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return None if den == 0 else num / den * scale


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    position = 0.9 * (len(xs) - 1)
    low = math.floor(position)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (position - low) * (xs[high] - xs[low])


def _business_days(opened: datetime, closed: datetime, holidays: set[date]) -> int:
    """The business days after the day ``opened`` up to and including the day ``closed``:
    Monday to Friday, less the holidays."""
    first = opened.date()
    days = (first + timedelta(days=k) for k in range(1, (closed.date() - first).days + 1))
    return sum(d.weekday() < 5 and d not in holidays for d in days)


def _month_end(month: str) -> datetime:
    """The first instant of the next month (UTC, the file's zone)."""
    year, mon = _month_add(int(month[:4]), int(month[5:]), 1)
    return datetime(year, mon, 1)


def oracle(data: dict[str, list[Row]], holidays: tuple[date, ...] = (), *, factor: float,
           leave: float) -> dict[tuple[str, str, str], float | None]:
    date_column = {"purchases": "purchased_at", "complaints": "opened_at",
                   "responses": "received_at", "surveys": "answered_at", "retention": "month"}
    seen = sorted({_month(r[date_column[n]]) for n, rows in data.items() for r in rows})
    months = [seen[0]]
    while months[-1] != seen[-1]:
        months.append(_shift(months[-1], 1))
    departments = sorted({str(r["department"]) for rows in data.values() for r in rows})

    def rows(name: str, month: str, scope: str) -> list[Row]:
        return [r for r in data.get(name, []) if _month(r[date_column[name]]) == month
                and scope in (ALL, r["department"])]

    def bought(scope: str) -> dict[str, set[str]]:
        """customer → the months with a purchase (in the scope)."""
        out: dict[str, set[str]] = defaultdict(set)
        for r in data["purchases"]:
            if scope in (ALL, r["department"]):
                out[str(r["customer_id"])].add(_month(r["purchased_at"]))
        return out

    def is_repeat(c: Row) -> bool:
        t = c["opened_at"]
        return any(o["customer_id"] == c["customer_id"] and o["component"] == c["component"]
                   and t - timedelta(days=90) <= o["opened_at"] < t
                   for o in data["complaints"])

    def promise(r: Row) -> float:
        if r["promised_minutes"] is not None:
            return float(r["promised_minutes"])
        return PROMISES.get(str(r["department"]), PROMISES["*"])

    def revenue(month: str, scope: str) -> float | None:
        if month not in months:
            return None
        return sum(float(r["amount"]) for r in rows("purchases", month, scope))

    def growth(month: str, scope: str, back: int) -> float | None:
        earlier = revenue(_shift(month, -back), scope)
        return None if not earlier else (revenue(month, scope) / earlier - 1) * 100

    off = set(holidays)

    def complaint_promise(r: Row) -> int:
        return COMPLAINT_PROMISES.get(str(r["department"]),
                                      COMPLAINT_PROMISES.get("*", DEFAULT_COMPLAINT_PROMISE))

    def business_days(r: Row) -> int | None:
        if r["resolved_at"] is None:
            return None
        return _business_days(r["opened_at"], r["resolved_at"], off)

    def backlog(month: str, scope: str) -> list[float]:
        """The ages (days) at the month's end of the scope's complaints open then."""
        end = _month_end(month)
        return [(end - r["opened_at"]).total_seconds() / 86400 for r in data["complaints"]
                if scope in (ALL, r["department"]) and _month(r["opened_at"]) <= month
                and (r["resolved_at"] is None or r["resolved_at"] >= end)]

    # first-contact resolution: a contact is a complaint or a request with a customer
    contacts = [(r["customer_id"], r["opened_at"], r["resolved_at"], r["department"])
                for r in data["complaints"] if r["customer_id"] is not None]
    contacts += [(r["customer_id"], r["received_at"], r["responded_at"], r["department"])
                 for r in data["responses"] if r["customer_id"] is not None]
    began: dict[object, list[datetime]] = defaultdict(list)  # customer → contacts' starts
    for customer, opened, _, _ in contacts:
        began[customer].append(opened)
    horizon = max([r["opened_at"] for r in data["complaints"]]
                  + [r["received_at"] for r in data["responses"]])
    fcr_window = timedelta(days=FCR_DAYS)

    def first_contact_resolution(month: str, scope: str) -> float | None:
        if _month_end(month) + fcr_window > horizon:
            return None  # the month is not judged yet
        judged = [(customer, closed) for customer, opened, closed, department in contacts
                  if _month(opened) == month and scope in (ALL, department)
                  and closed is not None and closed + fcr_window <= horizon]
        resolved = [not any(closed < t <= closed + fcr_window for t in began[customer])
                    for customer, closed in judged]
        return _ratio(sum(resolved), len(judged), 100)

    expected: dict[tuple[str, str, str], float | None] = {}
    for scope in (ALL, *departments):
        history = bought(scope)
        for m in months:
            p = rows("purchases", m, scope)
            c = rows("complaints", m, scope)
            q = rows("responses", m, scope)
            s = rows("surveys", m, scope)
            rt = rows("retention", m, scope)
            rev = sum(float(r["amount"]) for r in p)
            active = {str(r["customer_id"]) for r in p}
            listed = [r for r in p if r["list_amount"] is not None]
            list_sum = sum(float(r["list_amount"]) for r in listed)
            with_customer = [r for r in c if r["customer_id"] is not None]
            answered = [(r["responded_at"] - r["received_at"]).total_seconds() / 60 for r in q
                        if r["responded_at"] is not None]
            kept = [r for r in q if r["responded_at"] is not None
                    and (r["responded_at"] - r["received_at"]).total_seconds() / 60 <= promise(r)]
            resolved = [(r["resolved_at"] - r["opened_at"]).total_seconds() / 3600 for r in c
                        if r["resolved_at"] is not None]
            compensation = sum(float(r["compensation"] or 0) for r in c)
            csat = [int(r["score"]) for r in s if r["kind"] == "csat"]
            nps = [int(r["score"]) for r in s if r["kind"] == "nps"]
            ces = [int(r["score"]) for r in s if r["kind"] == "ces"]
            took = [(business_days(r), r) for r in c]
            open_at_end = backlog(m, scope)
            window = {_shift(m, -k) for k in range(1, 13)}
            values = {
                "purchases": len(p),
                "revenue": rev,
                "active_customers": len(active),
                "new_customers": sum(min(history[x]) == m for x in active),
                "revenue_growth_mom": growth(m, scope, 1),
                "revenue_growth_yoy": growth(m, scope, 12),
                "returning_customers_rate": _ratio(
                    sum(bool(history[x] & window) for x in active), len(active), 100),
                "retention_rate": _ratio(
                    sum(r["customers_end"] - r["new_customers"] for r in rt),
                    sum(r["customers_start"] for r in rt), 100),
                "complaints": len(c),
                "complaint_rate": _ratio(len(c), len(p), 100),
                "estimated_dissatisfied": len(c) * factor,
                "revenue_at_risk": None if not active else
                len(c) * factor * leave / 100 * (rev / len(active)),
                "repeat_complaint_rate": _ratio(
                    sum(is_repeat(r) for r in with_customer), len(with_customer), 100),
                "csat": _ratio(sum(x >= 4 for x in csat), len(csat), 100),
                "nps": _ratio(sum(x >= 9 for x in nps) - sum(x <= 6 for x in nps), len(nps), 100),
                "response_time_median": _median(answered),
                "response_time_p90": _p90(answered),
                "promise_kept_rate": _ratio(len(kept), len(q), 100),
                "resolution_time_median": _median(resolved),
                "unresolved_complaints_rate": _ratio(len(c) - len(resolved), len(c), 100),
                "average_ticket": _ratio(rev, len(p)),
                "revenue_per_customer": _ratio(rev, len(active)),
                "discount_rate": None if list_sum == 0 else
                (1 - sum(float(r["amount"]) for r in listed) / list_sum) * 100,
                "compensation_per_complaint": _ratio(compensation, len(c)),
                "compensation_share": _ratio(compensation, rev, 100),
                # the service manager's
                "contacts_per_100_purchases": _ratio(len(q) + len(c), len(p), 100),
                "first_contact_resolution": first_contact_resolution(m, scope),
                "ces": _ratio(sum(x >= 5 for x in ces), len(ces), 100),
                "ces_mean": _ratio(sum(ces), len(ces)),
                "complaints_resolved_within_promise": _ratio(
                    sum(d is not None and d <= complaint_promise(r) for d, r in took), len(c), 100),
                "complaints_closed_3_business_days": _ratio(
                    sum(d is not None and d <= FCA_DAYS for d, _ in took), len(c), 100),
                "complaints_closed_8_weeks": _ratio(
                    sum(d is not None and d > FCA_DAYS
                        and r["resolved_at"] - r["opened_at"] <= EIGHT_WEEKS for d, r in took),
                    len(c), 100),
                "complaints_closed_later": _ratio(
                    sum(r["resolved_at"] is not None
                        and r["resolved_at"] - r["opened_at"] > EIGHT_WEEKS for r in c),
                    len(c), 100),
                "complaint_backlog": len(open_at_end),
                "backlog_age_median": _median(open_at_end),
                "backlog_over_8_weeks": _ratio(sum(a > 56 for a in open_at_end),
                                               len(open_at_end), 100),
            }
            for indicator, value in values.items():
                expected[(m, scope, indicator)] = None if value is None else float(value)
    return expected


# --- the test -------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indicators", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_report_matches_an_independent_oracle(tmp_path: Path, seed: int) -> None:
    data, holidays = generate(seed)
    db = tmp_path / "oracle.duckdb"
    con = store.connect(db)
    written, factor, leave = ICEBERGS[seed]
    for key, value in written:
        store.write_setting(con, key, value)
    for department, minutes in PROMISES.items():
        store.write_setting(con, "promised_minutes", minutes, department=department)
    for department, days in COMPLAINT_PROMISES.items():
        store.write_setting(con, "complaint_promise_days", days, department=department)
    store.write_setting(con, "holidays", ",".join(d.isoformat() for d in holidays))
    con.close()
    loaded = _cli("ingest", "--db", str(db), *map(str, write_files(data, tmp_path)))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr

    report = _cli("report", "--db", str(db), "--format", "json", "--exact")
    assert report.returncode == 0, report.stderr
    got = {(r["month"], r["department"], r["indicator"]): r["value"]
           for r in json.loads(report.stdout)}
    expected = oracle(data, holidays, factor=factor, leave=leave)

    assert got.keys() == expected.keys()
    wrong = [
        (key, got[key], want) for key, want in expected.items()
        if (want is None) != (got[key] is None)
        or (want is not None and not math.isclose(got[key], want, rel_tol=1e-6, abs_tol=1e-9))
    ]
    assert wrong == [], f"{len(wrong)} values differ, first: {wrong[:5]}"
    # the planted edge cases did produce what they are for
    assert any(v is None for (_, _, i), v in expected.items() if i == "average_ticket")
    assert any(v not in (None, 0.0) for (_, _, i), v in expected.items()
               if i == "repeat_complaint_rate")
    # revenue at risk: missing in the month without purchases, a value elsewhere
    at_risk = [v for (_, _, i), v in expected.items() if i == "revenue_at_risk"]
    assert None in at_risk and any(v not in (None, 0.0) for v in at_risk)
    for indicator in ("complaints_closed_later", "backlog_over_8_weeks", "ces",
                      "first_contact_resolution", "complaints_resolved_within_promise"):
        assert any(v not in (None, 0.0) for (_, _, i), v in expected.items()
                   if i == indicator), indicator
    last = sorted({m for m, _, _ in expected})[-2:]  # the last generated month, the horizon's
    assert all(expected[(m, d, "first_contact_resolution")] is None
               for m in last for d in (ALL, *DEPARTMENTS))  # too recent to be judged


def test_the_oracles_business_days_by_hand() -> None:
    """The oracle's own counting, on dates checked on a calendar (2025-01-03 is a Friday)."""
    friday = datetime(2025, 1, 3, 10)
    assert _business_days(friday, datetime(2025, 1, 8, 23, 59, 59), set()) == 3  # Mon–Wed
    assert _business_days(friday, datetime(2025, 1, 9), set()) == 4
    assert _business_days(datetime(2025, 1, 4, 12), datetime(2025, 1, 5, 20), set()) == 0
    assert _business_days(friday, friday, set()) == 0
    # a Wednesday holiday is one business day less; a Saturday one changes nothing
    wednesday, saturday = date(2025, 1, 8), date(2025, 1, 4)
    assert _business_days(friday, datetime(2025, 1, 9, 12), {wednesday, saturday}) == 3
    assert _business_days(datetime(2025, 1, 8, 9), datetime(2025, 1, 9, 9), {wednesday}) == 1
    assert _month_end("2024-12") == datetime(2025, 1, 1)
