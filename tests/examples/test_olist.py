"""Real data end to end: the Olist marketplace subset converts, loads, and its numbers are right.

The expected figures are counted here DIRECTLY from the raw Olist tables with plain pandas,
independently of ``examples/olist/convert.py`` and of the product; only the mapping rules
(README of the example) are shared, written out again below:

* an order's department is the English category of its first item's product (Portuguese name
  if the translation table lacks it); no items or no category → ``uncategorised``;
* purchases are the orders that have items; revenue is the sum of item prices;
* complaints are reviews scoring 1–2, dated by ``review_creation_date``;
* the delivery promise is kept when the order was delivered no later than its estimated date;
* csat counts every review score, dated by ``review_creation_date``.

The conversion checks run on their own; the end-to-end checks drive the product's command line
(``python -m indicators ingest|report``) in a subprocess, as an analyst would.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "olist"
RAW = EXAMPLE / "data"
SOURCE_TIME = "%m/%d/%Y %H:%M"
DATASETS = ("purchases", "complaints", "responses", "surveys")



# --- the raw tables, counted directly -------------------------------------------------------


def _raw(name: str) -> pd.DataFrame:
    """A raw Olist table, every cell as text (ids must never become numbers)."""
    return pd.read_csv(RAW / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def load_raw() -> dict[str, pd.DataFrame]:
    """Orders (with department, month, person), items, and reviews (department and month)."""
    orders = _raw("olist_orders_dataset.csv")
    items = _raw("olist_order_items_dataset.csv")
    reviews = _raw("olist_order_reviews_dataset.csv")
    products = _raw("olist_products_dataset.csv")
    customers = _raw("olist_customers_dataset.csv")
    names = _raw("product_category_name_translation.csv")
    english = dict(zip(names.iloc[:, 0], names.iloc[:, 1], strict=True))

    first = items[items["order_item_id"] == "1"].merge(products, on="product_id")
    orders = orders.merge(first[["order_id", "product_category_name"]], on="order_id", how="left")
    category = orders["product_category_name"].fillna("")
    orders["department"] = [english.get(c, c) if c else "uncategorised" for c in category]
    orders["month"] = pd.to_datetime(orders["order_purchase_timestamp"], format=SOURCE_TIME)
    orders["month"] = orders["month"].dt.strftime("%Y-%m")
    orders = orders.merge(customers[["customer_id", "customer_unique_id"]], on="customer_id")
    orders["has_items"] = orders["order_id"].isin(items["order_id"])

    reviews = reviews.merge(orders[["order_id", "department"]], on="order_id")
    reviews["month"] = pd.to_datetime(reviews["review_creation_date"], format=SOURCE_TIME)
    reviews["month"] = reviews["month"].dt.strftime("%Y-%m")
    reviews["score"] = reviews["review_score"].astype(int)
    return {"orders": orders, "items": items, "reviews": reviews}


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    """The raw tables, read once per module."""
    return load_raw()


# --- running the example and the product ------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's conversion, run as the README says, into a fresh folder."""
    out = tmp_path_factory.mktemp("olist") / "out"
    done = _run(str(EXAMPLE / "convert.py"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def _files(out: Path) -> list[str]:
    return [str(out / f"{name}.csv") for name in DATASETS]


def _ingest(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return _run(
        "-m", "indicators", "ingest", "--db", str(db), "--date-format", "M/D/YYYY", *_files(out)
    )


def _snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of the four datasets, sorted: what re-ingesting must not change."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for name in DATASETS}
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded(converted: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The converted files ingested twice into one database: outcomes and snapshots."""
    db = tmp_path_factory.mktemp("olist_db") / "olist.duckdb"
    first = _ingest(db, converted)
    assert first.returncode == 0, f"ingest failed:\n{first.stdout}\n{first.stderr}"
    before = _snapshot(db)
    second = _ingest(db, converted)
    return {"db": db, "first": first, "second": second, "before": before, "after": _snapshot(db)}


def _rows_of(payload: Any) -> list[dict[str, Any]]:
    """The report's rows, whether the JSON is a list of rows or an object holding one."""
    if isinstance(payload, dict):
        for key in ("rows", "indicators", "data"):
            if isinstance(payload.get(key), list):
                return payload[key]
        raise AssertionError(f"unexpected report JSON object: {sorted(payload)}")
    return payload


def report(db: Path, month: str, department: str = "All") -> dict[str, float]:
    """``report --format json`` for one month and department, as {indicator: value}."""
    done = _run(
        "-m", "indicators", "report", "--db", str(db), "--month", month,
        "--department", department, "--format", "json", "--exact",
    )
    assert done.returncode == 0, f"report failed:\n{done.stdout}\n{done.stderr}"
    rows = _rows_of(json.loads(done.stdout))
    values = {}
    for row in rows:
        assert row["month"] == month and row["department"] == department, row
        value = row["value"]
        values[row["indicator"]] = math.nan if value is None else float(value)
    return values


# --- the conversion on its own ------------------------------------------------------------


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_conversion_rows_match_the_raw_tables(converted: Path, raw: dict[str, pd.DataFrame]):
    orders, reviews = raw["orders"], raw["reviews"]
    assert len(_read(converted / "purchases.csv")) == int(orders["has_items"].sum()) == 4966
    assert len(_read(converted / "responses.csv")) == len(orders) == 5000
    assert len(_read(converted / "surveys.csv")) == len(reviews) == 4988
    assert len(_read(converted / "complaints.csv")) == int((reviews["score"] <= 2).sum()) == 691


def test_conversion_keeps_source_dates_and_ids_as_text(converted: Path):
    orders = {o["order_id"]: o for o in _read(RAW / "olist_orders_dataset.csv")}
    for row in _read(converted / "purchases.csv"):
        # The US-style timestamp is written as the source has it: the product must read it.
        assert row["purchased_at"] == orders[row["purchase_id"]]["order_purchase_timestamp"]
        assert not row["purchased_at"].startswith("20")
    for row in _read(converted / "responses.csv"):
        source = orders[row["request_id"]]
        assert row["responded_at"] == source["order_delivered_customer_date"]
        assert int(row["promised_minutes"]) > 0
    for name, key in (("purchases", "purchase_id"), ("complaints", "complaint_id"),
                      ("responses", "request_id"), ("surveys", "survey_id")):
        ids = [r[key] for r in _read(converted / f"{name}.csv")]
        assert len(ids) == len(set(ids)), f"duplicate {key} in {name}"


def test_conversion_files_are_recognised_by_the_contract(converted: Path):
    from indicators.schema import normalise_header, recognise

    for name in DATASETS:
        with open(converted / f"{name}.csv", encoding="utf-8", newline="") as f:
            header = [normalise_header(h) for h in next(csv.reader(f))]
        dataset = recognise(header)
        assert dataset is not None and dataset.name == name, header
        assert set(header) <= set(dataset.column_names), header


# --- end to end: ingest and report ------------------------------------------------------------


def test_ingest_succeeds_and_reingesting_changes_nothing(loaded: dict[str, Any]):
    second = loaded["second"]
    assert second.returncode == 0, f"second ingest failed:\n{second.stdout}\n{second.stderr}"
    counts = {name: len(rows) for name, rows in loaded["before"].items()}
    assert counts == {"purchases": 4966, "complaints": 691, "responses": 5000, "surveys": 4988}
    assert loaded["after"] == loaded["before"]


def test_purchases_and_active_customers_in_2018_01(loaded, raw):
    orders = raw["orders"]
    bought = orders[orders["has_items"] & (orders["month"] == "2018-01")]
    values = report(loaded["db"], "2018-01")
    assert len(bought) == 360  # 365 orders, 5 of them without items
    assert values["purchases"] == len(bought)
    assert values["active_customers"] == bought["customer_unique_id"].nunique()


def test_revenue_of_health_beauty_in_2018_03(loaded, raw):
    orders, items = raw["orders"], raw["items"]
    chosen = orders[(orders["department"] == "health_beauty") & (orders["month"] == "2018-03")]
    revenue = items[items["order_id"].isin(chosen["order_id"])]["price"].astype(float).sum()
    values = report(loaded["db"], "2018-03", "health_beauty")
    assert values["revenue"] == pytest.approx(revenue, abs=0.005)
    assert values["purchases"] == len(chosen)


def test_complaints_of_furniture_decor_in_2017_12(loaded, raw):
    reviews = raw["reviews"]
    low = reviews[
        (reviews["score"] <= 2)
        & (reviews["department"] == "furniture_decor")
        & (reviews["month"] == "2017-12")
    ]
    assert len(low) == 14
    assert report(loaded["db"], "2017-12", "furniture_decor")["complaints"] == len(low)


def test_promise_kept_rate_in_2018_02(loaded, raw):
    orders = raw["orders"]
    month = orders[orders["month"] == "2018-02"]
    delivered = pd.to_datetime(month["order_delivered_customer_date"].replace("", None),
                               format=SOURCE_TIME)
    estimated = pd.to_datetime(month["order_estimated_delivery_date"], format=SOURCE_TIME)
    kept = (delivered.notna() & (delivered <= estimated)).sum()  # undelivered = not kept
    expected = 100 * kept / len(month)
    assert report(loaded["db"], "2018-02")["promise_kept_rate"] == pytest.approx(expected)


def test_csat_in_2017_12(loaded, raw):
    reviews = raw["reviews"]
    month = reviews[reviews["month"] == "2017-12"]
    expected = 100 * (month["score"] >= 4).sum() / len(month)
    assert report(loaded["db"], "2017-12")["csat"] == pytest.approx(expected)


def test_a_month_without_purchases_has_complaints_but_no_complaint_rate(loaded, raw):
    # 2016-11 holds one review and no order: a count is a number, a ratio over 0 is missing.
    orders, reviews = raw["orders"], raw["reviews"]
    assert not (orders["month"] == "2016-11").any()
    low = reviews[(reviews["score"] <= 2) & (reviews["month"] == "2016-11")]
    values = report(loaded["db"], "2016-11")
    assert values["purchases"] == 0
    assert values["complaints"] == len(low) == 1
    assert math.isnan(values["complaint_rate"])


def test_a_one_purchase_department(loaded, raw):
    # pc_gamer is missing from Olist's own translation table and sold once: sparse but real.
    orders = raw["orders"]
    chosen = orders[orders["has_items"] & (orders["department"] == "pc_gamer")]
    assert len(chosen) == 1
    month = chosen["month"].iloc[0]
    values = report(loaded["db"], month, "pc_gamer")
    assert values["purchases"] == 1
    assert values["revenue"] == pytest.approx(
        raw["items"][raw["items"]["order_id"].isin(chosen["order_id"])]["price"].astype(float).sum()
    )


def test_delivery_time_median_in_2018_04(loaded, raw):
    orders = raw["orders"]
    month = orders[orders["month"] == "2018-04"]
    delivered = month[month["order_delivered_customer_date"] != ""]
    waited = pd.to_datetime(delivered["order_delivered_customer_date"], format=SOURCE_TIME) - (
        pd.to_datetime(delivered["order_purchase_timestamp"], format=SOURCE_TIME)
    )
    expected = (waited.dt.total_seconds() / 60).median()
    assert report(loaded["db"], "2018-04")["response_time_median"] == pytest.approx(expected)


def test_returning_customers_and_repeat_complaints_in_2018_04(loaded, raw):
    # Both hinge on the person behind the order (customer_unique_id), not Olist's per-order
    # customer_id: with the latter nobody would ever return or complain twice.
    orders, reviews = raw["orders"], raw["reviews"]
    bought = orders[orders["has_items"]]
    active = set(bought[bought["month"] == "2018-04"]["customer_unique_id"])
    earlier = set(bought[bought["month"].between("2017-04", "2018-03")]["customer_unique_id"])
    values = report(loaded["db"], "2018-04")
    assert values["returning_customers_rate"] == pytest.approx(
        100 * len(active & earlier) / len(active)
    )

    low = reviews[reviews["score"] <= 2].merge(orders[["order_id", "customer_unique_id"]])
    low = low.assign(opened=pd.to_datetime(low["review_creation_date"], format=SOURCE_TIME))
    month = low[low["month"] == "2018-04"]
    repeats = sum(
        (
            (low["customer_unique_id"] == c["customer_unique_id"])
            & (low["opened"] < c["opened"])
            & (low["opened"] >= c["opened"] - pd.Timedelta(days=90))
        ).any()
        for _, c in month.iterrows()
    )
    assert repeats == 1  # one order reviewed twice with score 1, on 2018-04-18 and 2018-04-19
    assert values["repeat_complaint_rate"] == pytest.approx(100 * repeats / len(month))
