"""The records behind a number (issue 19, part 4): the rows listed are the rows counted.

A small database written by hand (February 2025, North and South, every dataset, a January
complaint for the repeat window): for every indicator of :data:`records.SOURCES`, the rows
listed and counted equal the counts worked out below by hand, equal the monthly facts, and
give back the stored indicator's value by the indicator's own formula.  Then paging, sorting,
the reader's departments, components, exact money, and the demo database.
"""

from __future__ import annotations

import doctest
import io
import json
import math
from decimal import Decimal

import numpy as np
import pytest

from indicators import demo, records, records_cli, store, stored_indicators
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS
from indicators.facts import facts_table
from indicators.ingest import ingest_file
from indicators.records import RecordsError, RecordsForbidden
from indicators.scope import Scope

MONTH = "2025-02"
FORMULA = '=HYPERLINK("http://evil.example","x")'

PURCHASES = f"""purchase_id,purchased_at,customer_id,department,amount,list_amount
p0,2025-01-15T10:00:00,c1,North,1.00,
p1,2025-02-01T09:00:00,c1,North,10.10,12.00
p2,2025-02-03T09:00:00,c1,North,20.20,
p3,2025-02-04T09:00:00,c2,North,0.30,0.30
p4,2025-02-05T09:00:00,"{FORMULA.replace('"', '""')}",South,100.00,
p5,2025-02-06T09:00:00,c1,South,5.55,
"""
# k0 (January) makes k1 a repeat; k1 (North) makes k3 (South) one: the window spans departments.
COMPLAINTS = """complaint_id,opened_at,department,customer_id,component,category,resolved_at,compensation
k0,2025-01-20T09:00:00,North,c1,product,,2025-01-21T09:00:00,
k1,2025-02-02T09:00:00,North,c1,product,late,2025-02-02T12:00:00,5.50
k2,2025-02-03T09:00:00,North,,people,rude,,
k3,2025-02-10T09:00:00,South,c1,product,+SUM(A1:A9),2025-02-10T10:00:00,0.25
k4,2025-02-11T09:00:00,South,c3,,,,
"""
# North's promise is the default 60 minutes, South's is set to 5 (see make_db).
RESPONSES = """request_id,department,received_at,responded_at,promised_minutes
r1,North,2025-02-01T09:00:00,2025-02-01T09:30:00,60
r2,North,2025-02-01T10:00:00,2025-02-01T12:00:00,
r3,South,2025-02-01T09:00:00,,30
r4,South,2025-02-01T09:00:00,2025-02-01T09:10:00,
"""
SURVEYS = """survey_id,answered_at,department,kind,score
s1,2025-02-01T09:00:00,North,csat,5
s2,2025-02-02T09:00:00,North,csat,3
s3,2025-02-03T09:00:00,South,csat,4
s4,2025-02-04T09:00:00,North,nps,10
s5,2025-02-05T09:00:00,North,nps,7
s6,2025-02-06T09:00:00,South,nps,2
s7,2025-02-07T09:00:00,South,nps,9
"""
RETENTION = """month,department,customers_start,customers_end,new_customers
2025-02,North,10,11,2
2025-02,South,20,18,1
"""


def make_db(path):
    con = store.connect(path)
    try:
        store.write_setting(con, "promised_minutes", 5, department="South")
        store.write_setting(con, "iceberg_counted_at", "custom")  # its factor 10: value_from
        for name, text in (("purchases", PURCHASES), ("complaints", COMPLAINTS),
                           ("responses", RESPONSES), ("surveys", SURVEYS),
                           ("retention", RETENTION)):
            file = path.parent / f"{name}.csv"
            file.write_text(text, encoding="utf-8")
            result = ingest_file(con, file)
            assert result.accepted, result.problems
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_db(tmp_path_factory.mktemp("records") / "records.duckdb")


@pytest.fixture
def con(db):
    con = store.connect(db, read_only=True)
    yield con
    con.close()


# (total, counted) listed, by hand, for All, North, South.
BY_HAND: dict[str, dict[str, tuple[int, int]]] = {
    # purchases p1..p5: North p1 p2 p3, South p4 p5
    "purchases": {"All": (5, 5), "North": (3, 3), "South": (2, 2)},
    "revenue": {"All": (5, 5), "North": (3, 3), "South": (2, 2)},
    "average_ticket": {"All": (5, 5), "North": (3, 3), "South": (2, 2)},
    # counted: one per customer — All {c1, c2, formula}, North {c1, c2}, South {formula, c1}
    "active_customers": {"All": (5, 3), "North": (3, 2), "South": (2, 2)},
    "revenue_per_customer": {"All": (5, 3), "North": (3, 2), "South": (2, 2)},
    # with list_amount: p1 (discounted), p3 (not)
    "discount_rate": {"All": (2, 1), "North": (2, 1), "South": (0, 0)},
    # February complaints k1..k4: North k1 k2, South k3 k4
    "complaints": {"All": (4, 4), "North": (2, 2), "South": (2, 2)},
    "estimated_dissatisfied": {"All": (4, 4), "North": (2, 2), "South": (2, 2)},
    "complaint_rate": {"All": (4, 4), "North": (2, 2), "South": (2, 2)},
    "compensation_per_complaint": {"All": (4, 4), "North": (2, 2), "South": (2, 2)},
    "compensation_share": {"All": (4, 4), "North": (2, 2), "South": (2, 2)},
    # with a customer: k1, k3, k4; repeats: k1 (of k0), k3 (of k1, another department)
    "repeat_complaint_rate": {"All": (3, 2), "North": (1, 1), "South": (2, 1)},
    # unresolved: k2, k4
    "unresolved_complaints_rate": {"All": (4, 2), "North": (2, 1), "South": (2, 1)},
    # resolved: k1 (3 h), k3 (1 h)
    "resolution_time_median": {"All": (2, 2), "North": (1, 1), "South": (1, 1)},
    # answered: r1 (30 min), r2 (120), r4 (10)
    "response_time_median": {"All": (3, 3), "North": (2, 2), "South": (1, 1)},
    "response_time_p90": {"All": (3, 3), "North": (2, 2), "South": (1, 1)},
    # kept: r1 (30 ≤ 60); r2 120 > 60, r3 unanswered, r4 10 > South's 5
    "promise_kept_rate": {"All": (4, 1), "North": (2, 1), "South": (2, 0)},
    # csat 5, 3 (North), 4 (South)
    "csat": {"All": (3, 2), "North": (2, 1), "South": (1, 1)},
    # nps promoters: s4 (North), s7 (South); detractor s6 (South)
    "nps": {"All": (4, 2), "North": (2, 1), "South": (2, 1)},
    "retention_rate": {"All": (2, 2), "North": (1, 1), "South": (1, 1)},
}
DETRACTORS = {"All": 1, "North": 0, "South": 1}
SUMS_BY_HAND = {
    "amount": {"All": Decimal("10.10") + Decimal("20.20") + Decimal("0.30") + Decimal("100.00")
               + Decimal("5.55"),
               "North": Decimal("10.10") + Decimal("20.20") + Decimal("0.30"),
               "South": Decimal("100.00") + Decimal("5.55")},
    "compensation": {"All": Decimal("5.50") + Decimal("0.25"), "North": Decimal("5.50"),
                     "South": Decimal("0.25")},
}

# The facts columns each listing equals: (total, counted).
FACTS = {
    "purchases": ("purchases", "purchases"),
    "active_customers": ("purchases", "active_customers"),
    "discount_rate": ("list_purchases", None),
    "complaints": ("complaints", "complaints"),
    "repeat_complaint_rate": ("complaints_with_customer", "repeat_complaints"),
    "unresolved_complaints_rate": ("complaints", "unresolved_complaints"),
    "response_time_median": ("answered_requests", "answered_requests"),
    "promise_kept_rate": ("requests", "promise_kept"),
    "csat": ("csat_answers", "csat_satisfied"),
    "nps": ("nps_answers", "nps_promoters"),
}


def _minutes(result):
    return result.frame["minutes"].to_numpy(dtype=float)


def value_from(result: records.Records, per: records.Records | None) -> float:
    """The indicator's value by its catalog formula, from the listed rows alone."""
    t, c, sums = result.total, result.counted, result.sums

    def ratio(n: float, d: float, scale: float = 100.0) -> float:
        return math.nan if d == 0 else scale * n / d

    formulas = {
        "purchases": lambda: t,
        "revenue": lambda: float(sums["amount"]),
        "average_ticket": lambda: ratio(float(sums["amount"]), t, 1),
        "active_customers": lambda: c,
        "revenue_per_customer": lambda: ratio(float(sums["amount"]), c, 1),
        "discount_rate": lambda: math.nan if sums["list_amount"] == 0 else
        100 * (1 - float(sums["amount"]) / float(sums["list_amount"])),
        "complaints": lambda: t,
        "estimated_dissatisfied": lambda: t * 10,
        "complaint_rate": lambda: ratio(t, per.total),
        "compensation_per_complaint": lambda: ratio(float(sums["compensation"]), t, 1),
        "compensation_share": lambda: ratio(float(sums["compensation"]),
                                            float(per.sums["amount"])),
        "repeat_complaint_rate": lambda: ratio(c, t),
        "unresolved_complaints_rate": lambda: ratio(c, t),
        "resolution_time_median": lambda: float(np.median(result.frame["hours"])),
        "response_time_median": lambda: float(np.median(_minutes(result))),
        "response_time_p90": lambda: float(np.quantile(_minutes(result), 0.9)),
        "promise_kept_rate": lambda: ratio(c, t),
        "csat": lambda: ratio(c, t),
        "nps": lambda: ratio(c - result.subtracted, t),
        "retention_rate": lambda: ratio(sums["customers_end"] - sums["new_customers"],
                                        sums["customers_start"]),
    }
    return float(formulas[result.indicator]())


def test_doctests():
    assert doctest.testmod(records).failed == 0
    assert doctest.testmod(records_cli).failed == 0


def test_every_indicator_is_listed_or_says_why():
    assert set(records.SOURCES) | set(records.WHY_NOT) == set(INDICATOR_IDS)
    assert not set(records.SOURCES) & set(records.WHY_NOT)
    assert set(BY_HAND) == set(records.SOURCES)


@pytest.mark.parametrize("department", ["All", "North", "South"])
@pytest.mark.parametrize("indicator", sorted(records.SOURCES))
def test_the_rows_listed_are_the_rows_counted(con, indicator, department):
    result = records.records(con, indicator=indicator, month=MONTH, department=department,
                             limit=None)
    assert (result.total, result.counted) == BY_HAND[indicator][department]
    assert len(result.frame) == result.total
    if records.SOURCES[indicator].is_rate:
        assert int(result.frame["counted"].sum()) == result.counted
    if indicator == "nps":
        assert result.subtracted == DETRACTORS[department]
        assert int(result.frame["detractor"].sum()) == DETRACTORS[department]
    if indicator == "discount_rate":  # over p1 and p3 only, the purchases with list_amount
        listed = Decimal(0) if department == "South" else Decimal("10.10") + Decimal("0.30")
        at_list = Decimal(0) if department == "South" else Decimal("12.00") + Decimal("0.30")
        assert result.sums == {"amount": listed, "list_amount": at_list}
    else:
        for name in set(result.sums) & set(SUMS_BY_HAND):
            assert result.sums[name] == SUMS_BY_HAND[name][department]

    facts = facts_table(con, months=(MONTH, MONTH)).set_index("department").loc[department]
    if indicator in FACTS:
        total_column, counted_column = FACTS[indicator]
        assert result.total == facts[total_column]
        if counted_column is not None:
            assert result.counted == facts[counted_column]
    if indicator == "nps":
        assert result.subtracted == facts["nps_detractors"]

    per_indicator = records.SOURCES[indicator].per
    per = None if per_indicator is None else records.records(
        con, indicator=per_indicator, month=MONTH, department=department)
    stored = stored_indicators.read(con, Scope((MONTH, MONTH), (department,)),
                                    indicators=[indicator])
    expected = float(stored["value"].iloc[0])
    found = value_from(result, per)
    if math.isnan(expected):
        assert math.isnan(found)
    else:
        assert found == pytest.approx(expected, rel=1e-12)


def test_hand_values_of_a_few(con):
    """Some values written out, so that the rows (not only their counts) are the right ones."""
    minutes = records.records(con, indicator="response_time_p90", month=MONTH).frame["minutes"]
    assert sorted(minutes) == [10, 30, 120]
    assert float(np.quantile(minutes, 0.9)) == pytest.approx(30 + 0.8 * (120 - 30))
    hours = records.records(con, indicator="resolution_time_median", month=MONTH)
    assert list(hours.frame["complaint_id"]) == ["k1", "k3"]
    assert list(hours.frame["hours"]) == [3.0, 1.0]
    kept = records.records(con, indicator="promise_kept_rate", month=MONTH)
    by_id = kept.frame.set_index("request_id")
    assert list(by_id.loc[["r1", "r2", "r3", "r4"], "promise"]) == [60, 60, 30, 5]
    assert list(by_id.loc[["r1", "r2", "r3", "r4"], "counted"]) == [True, False, False, False]
    repeat = records.records(con, indicator="repeat_complaint_rate", month=MONTH)
    assert dict(zip(repeat.frame["complaint_id"], repeat.frame["counted"], strict=True)) == {
        "k1": True, "k3": True, "k4": False}
    csat = records.records(con, indicator="csat", month=MONTH)
    assert set(csat.frame["kind"]) == {"csat"}


def test_money_is_exact(con):
    result = records.records(con, indicator="revenue", month=MONTH, order_by="purchase_id")
    assert list(result.frame["amount"]) == [Decimal("10.10"), Decimal("20.20"), Decimal("0.30"),
                                            Decimal("100.00"), Decimal("5.55")]
    assert all(isinstance(v, Decimal) for v in result.frame["amount"])
    assert result.frame["list_amount"].iloc[0] == Decimal("12.00")
    assert result.frame["list_amount"].iloc[1] is None
    assert result.sums["amount"] == Decimal("136.15")


# --- scope: departments, the reader's, components -------------------------------------------


def test_a_department_outside_allowed_is_refused(con):
    with pytest.raises(RecordsForbidden, match="South"):
        records.records(con, indicator="complaints", month=MONTH, department="South",
                        allowed=("North",))


def test_all_with_allowed_lists_only_the_allowed_departments(con):
    result = records.records(con, indicator="complaints", month=MONTH, allowed=("North",))
    assert set(result.frame["department"]) == {"North"}
    assert result.total == BY_HAND["complaints"]["North"][0]
    # a customer's first purchase is counted within what the reader sees: North's c1 and c2
    customers = records.records(con, indicator="active_customers", month=MONTH,
                                allowed=("North",))
    assert (customers.total, customers.counted) == (3, 2)
    nothing = records.records(con, indicator="complaints", month=MONTH, allowed=())
    assert (nothing.total, len(nothing.frame)) == (0, 0)


def test_a_team_leads_grant_scopes_the_rows(con):
    """As the roles tests do: the North lead's grant from the role map is what ``allowed`` is."""
    from dashboard import auth

    grants = auth.parse_role_map({"lead.north@example.com": {"role": "team_lead",
                                                             "departments": ["North"]}})
    allowed = grants["lead.north@example.com"].departments
    for indicator in records.SOURCES:
        result = records.records(con, indicator=indicator, month=MONTH, allowed=allowed,
                                 limit=None)
        assert set(result.frame["department"]) <= {"North"}
        assert result.total == BY_HAND[indicator]["North"][0]
        with pytest.raises(RecordsForbidden):
            records.records(con, indicator=indicator, month=MONTH, department="South",
                            allowed=allowed)


def test_allowed_names_departments_not_all(con):
    with pytest.raises(RecordsError, match="allowed"):
        records.records(con, indicator="complaints", month=MONTH, allowed=("All", "North"))


@pytest.mark.parametrize(("component", "ids"), [
    ("product", ["k1", "k3"]), ("people", ["k2"]), ("unclassified", ["k4"]), ("systems", []),
])
def test_component_narrows_the_complaints(con, component, ids):
    result = records.records(con, indicator="complaints", month=MONTH, component=component,
                             order_by="complaint_id")
    assert list(result.frame["complaint_id"]) == ids
    assert result.total == len(ids)


def test_repeats_by_component_keep_the_window(con):
    # k1 and k3 are both repeats on product; k4 (unclassified) is not
    result = records.records(con, indicator="repeat_complaint_rate", month=MONTH,
                             component="product")
    assert (result.total, result.counted) == (2, 2)


@pytest.mark.parametrize(("options", "message"), [
    ({"indicator": "nope"}, "unknown indicator"),
    ({"indicator": "new_customers"}, "can't be listed"),
    ({"indicator": "revenue_growth_mom"}, "two months"),
    ({"month": "2025-13"}, "YYYY-MM"),
    ({"month": "Feb"}, "YYYY-MM"),
    ({"department": "East"}, "no department 'East'"),
    ({"component": "people", "indicator": "csat"}, "no component"),
    ({"component": "weather"}, "component must be one of"),
    ({"order_by": "amount"}, "can't sort"),
    ({"order_by": 'opened_at"; DROP TABLE complaints; --'}, "can't sort"),
    ({"limit": -1}, "limit"),
    ({"offset": -5}, "offset"),
])
def test_bad_requests_are_refused_by_name(con, options, message):
    with pytest.raises(RecordsError, match=message):
        records.records(con, **{"indicator": "complaints", "month": MONTH, **options})


def test_a_month_without_rows_lists_none(con):
    result = records.records(con, indicator="purchases", month="2024-06")
    assert (result.total, result.counted, len(result.frame)) == (0, 0, 0)
    assert result.sums == {"amount": Decimal(0)}


def test_month_is_the_organisations(tmp_path):
    """A purchase at 01:00 UTC on 1 March is 28 February in São Paulo (UTC−3)."""
    con = store.connect(tmp_path / "zone.duckdb")
    try:
        store.write_setting(con, "time_zone", "America/Sao_Paulo")
        file = tmp_path / "purchases.csv"
        file.write_text("purchase_id,purchased_at,customer_id,department,amount\n"
                        "p1,2025-03-01T01:00:00Z,c1,North,1\n", encoding="utf-8")
        assert ingest_file(con, file).accepted
        assert records.records(con, indicator="purchases", month="2025-02").total == 1
        assert records.records(con, indicator="purchases", month="2025-03").total == 0
    finally:
        con.close()


# --- order and pages --------------------------------------------------------------------------


def test_default_order_is_the_date(con):
    result = records.records(con, indicator="purchases", month=MONTH)
    assert list(result.frame["purchase_id"]) == ["p1", "p2", "p3", "p4", "p5"]


@pytest.mark.parametrize("descending", [False, True])
def test_sorted_by_a_column_both_ways(con, descending):
    result = records.records(con, indicator="revenue", month=MONTH, order_by="amount",
                             descending=descending)
    # 0.30 (p3) < 5.55 (p5) < 10.10 (p1) < 20.20 (p2) < 100.00 (p4)
    ascending = ["p3", "p5", "p1", "p2", "p4"]
    assert list(result.frame["purchase_id"]) == (ascending[::-1] if descending else ascending)


def test_missing_values_last_and_ties_by_key(con):
    # list_amount: p1 12.00, p3 0.30, the others empty (last, by purchase_id)
    up = records.records(con, indicator="revenue", month=MONTH, order_by="list_amount")
    assert list(up.frame["purchase_id"]) == ["p3", "p1", "p2", "p4", "p5"]
    down = records.records(con, indicator="revenue", month=MONTH, order_by="list_amount",
                           descending=True)
    assert list(down.frame["purchase_id"]) == ["p1", "p3", "p2", "p4", "p5"]
    # every row of the same department: the key decides
    by_department = records.records(con, indicator="purchases", month=MONTH,
                                    order_by="department", descending=True)
    assert list(by_department.frame["purchase_id"]) == ["p4", "p5", "p1", "p2", "p3"]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_pages_cover_every_row_once(con, size):
    whole = records.records(con, indicator="promise_kept_rate", month=MONTH, order_by="minutes",
                            limit=None)
    seen = []
    for offset in range(0, whole.total + size, size):
        page = records.records(con, indicator="promise_kept_rate", month=MONTH,
                               order_by="minutes", limit=size, offset=offset)
        assert page.total == whole.total and len(page.frame) <= size
        seen += list(page.frame["request_id"])
    assert seen == list(whole.frame["request_id"])
    assert sorted(seen) == ["r1", "r2", "r3", "r4"]


def test_limit_zero_gives_the_counts_only(con):
    result = records.records(con, indicator="csat", month=MONTH, limit=0)
    assert (result.total, result.counted, len(result.frame)) == (3, 2, 0)
    assert list(result.frame.columns) == list(result.columns)


def test_the_same_page_run_after_run(con):
    first = records.records(con, indicator="complaints", month=MONTH, order_by="department")
    again = records.records(con, indicator="complaints", month=MONTH, order_by="department")
    assert first.frame.equals(again.frame)


# --- the command --------------------------------------------------------------------------


def run(db, **options):
    out, err = io.StringIO(), io.StringIO()
    code = records_cli.run_cli(db, out=out, err=err, **{
        "indicator": "complaints", "month": MONTH, "department": None, "component": None,
        "sort": None, "descending": False, "limit": None, "offset": 0, "fmt": "csv",
        **options})
    return code, out.getvalue(), err.getvalue()


def test_csv_cells_are_neutralised(db):
    code, out, _ = run(db, indicator="purchases", sort="purchase_id")
    assert code == 0
    lines = out.split("\r\n")
    assert lines[0] == "purchase_id,purchased_at,customer_id,department,amount,channel,list_amount"
    # the formula customer id gets its quote, and keeps its CSV quoting (it holds commas)
    assert lines[4] == ("p4,2025-02-05T09:00:00Z,\"'=HYPERLINK(\"\"http://evil.example\"\","
                        "\"\"x\"\")\",South,100,,")
    assert lines[1] == "p1,2025-02-01T09:00:00Z,c1,North,10.1,,12"
    code, out, _ = run(db, sort="complaint_id")
    assert "'+SUM(A1:A9)" in out and ",+SUM" not in out


def test_json_keeps_money_exact_and_the_counts(db):
    code, out, _ = run(db, indicator="promise_kept_rate", fmt="json", sort="request_id",
                       limit=2, offset=1)
    assert code == 0
    doc = json.loads(out)
    assert (doc["total"], doc["counted"], doc["limit"], doc["offset"]) == (4, 1, 2, 1)
    assert [r["request_id"] for r in doc["rows"]] == ["r2", "r3"]
    assert doc["rows"][1]["responded_at"] is None and doc["rows"][1]["counted"] is False
    assert doc["rows"][0]["minutes"] == 120
    code, out, _ = run(db, indicator="compensation_share", fmt="json", sort="complaint_id")
    doc = json.loads(out)
    assert doc["sums"] == {"compensation": "5.75"} and doc["per"] == "revenue"
    assert [r["compensation"] for r in doc["rows"]] == ["5.5", None, "0.25", None]
    assert doc["rows"][2]["category"] == "+SUM(A1:A9)"  # JSON is data, not a spreadsheet


@pytest.mark.parametrize(("options", "message"), [
    ({"indicator": "new_customers"}, "can't be listed"),
    ({"limit": 0}, "--limit 0"),
    ({"department": "East"}, "no department"),
    ({"sort": "nope"}, "can't sort"),
    ({"month": "2025-2x"}, "YYYY-MM"),
])
def test_cli_errors_exit_2_with_one_line(db, options, message):
    code, out, err = run(db, **options)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_cli_through_main(db, capsys):
    from indicators.__main__ import main

    assert main(["records", "--db", str(db), "--indicator", "csat", "--month", MONTH,
                 "--department", "North", "--sort", "score", "--desc", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["survey_id"] for r in doc["rows"]] == ["s1", "s2"]
    assert (doc["total"], doc["counted"]) == (2, 1)


def test_cli_reads_only(db):
    before = db.read_bytes()
    assert run(db)[0] == 0
    assert db.read_bytes() == before


# --- the demo -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_con(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records-demo")
    con = store.connect(folder / "demo.duckdb")
    store.write_setting(con, "iceberg_counted_at", "custom")  # its factor 10: value_from
    for path in demo.write_demo_files(folder / "files"):
        assert ingest_file(con, path).accepted
    yield con
    con.close()


def test_demo_last_month_lists_what_the_facts_count(demo_con):
    """For every department and All in the demo's last month: the listed totals equal the
    monthly facts, and the listed rows give the stored value back."""
    last = stored_indicators.grid(demo_con)[0][-1]
    departments = [ALL_DEPARTMENTS, *stored_indicators.grid(demo_con)[1]]
    facts = facts_table(demo_con, months=(last, last)).set_index("department")
    stored = stored_indicators.read(demo_con, Scope((last, last), None)).set_index(
        ["department", "indicator"])["value"]
    factor = store.read_settings(demo_con).iceberg_factor
    assert factor == 10  # value_from's estimated dissatisfied
    for department in departments:
        listed = {i: records.records(demo_con, indicator=i, month=last, department=department,
                                     limit=None) for i in records.SOURCES}
        for indicator, result in listed.items():
            if indicator in FACTS:
                total_column, counted_column = FACTS[indicator]
                assert result.total == facts.loc[department, total_column], indicator
                if counted_column is not None:
                    assert result.counted == facts.loc[department, counted_column], indicator
            per = records.SOURCES[indicator].per
            expected = stored.loc[(department, indicator)]
            found = value_from(result, None if per is None else listed[per])
            assert (math.isnan(found) and math.isnan(expected)) or found == pytest.approx(
                expected, rel=1e-9), (department, indicator)
        assert listed["revenue"].total == len(listed["revenue"].frame) > 0

