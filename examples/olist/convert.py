"""Turn the Olist marketplace subset into the product's datasets (SPEC §1).

    .venv/bin/python examples/olist/convert.py --out DIR [--data DIR]

Writes ``purchases.csv``, ``complaints.csv``, ``responses.csv`` and ``surveys.csv`` into
``DIR`` and prints how many rows each got and which source rows were skipped and why.

The source's US-style timestamps (``M/D/YYYY H:MM``) are written out exactly as they are:
loading them is the product's job (``ingest --date-format M/D/YYYY``), and the point of this
example is to prove that it can.  Ids are copied as text, never parsed as numbers.

The mapping (README.md explains the caveats):

* every order gets one *department*: the English product category of its first item
  (``order_item_id`` 1); an order without items, or whose first product has no category, is
  in ``uncategorised``; a category missing from the translation table keeps its Portuguese name;
* ``purchases``: one row per order that has items (an order without items sold nothing, so it
  is skipped and counted); ``customer_id`` is the person (``customer_unique_id``), amount is
  the sum of the items' ``price`` (freight excluded); no ``list_amount``, Olist has no list price;
* ``complaints``: every review scoring 1 or 2, opened at ``review_creation_date``, component
  unclassified, category ``review score N``; no ``resolved_at`` (Olist records no resolution);
* ``responses``: the delivery promise of every order: received at purchase, answered at
  ``order_delivered_customer_date`` (empty while undelivered), promised the minutes from
  purchase to ``order_estimated_delivery_date``;
* ``surveys``: every review as a ``csat`` answer, ``survey_id`` = the review's row key
  ``review_pk`` (this copy of the data has no ``review_id``; an order reviewed twice gives two
  answers), answered at ``review_creation_date``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The copied Olist tables (see data/SOURCE.md)."""

UNCATEGORISED = "uncategorised"
"""Department of an order without items or whose first product has no category."""

SOURCE_TIMESTAMP = "%m/%d/%Y %H:%M"
"""How this copy of Olist writes timestamps (``10/2/2017 10:56``); parsed only to compute."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "purchases": ("purchase_id", "purchased_at", "customer_id", "department", "amount"),
    "complaints": (
        "complaint_id", "opened_at", "department", "customer_id", "component", "category",
    ),
    "responses": ("request_id", "department", "received_at", "responded_at", "promised_minutes"),
    "surveys": ("survey_id", "answered_at", "department", "kind", "score", "customer_id"),
}
"""The columns written per dataset, in the SPEC's names."""


@dataclass
class Summary:
    """What a conversion wrote and what it left out."""

    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, Counter[str]] = field(default_factory=dict)

    def skip(self, dataset: str, reason: str) -> None:
        self.skipped.setdefault(dataset, Counter())[reason] += 1

    def lines(self) -> list[str]:
        """The summary as printed: rows per dataset, then every skip reason with its count."""
        out = []
        for name in COLUMNS:
            out.append(f"{name}: {self.rows.get(name, 0)} rows")
            for reason, n in sorted(self.skipped.get(name, Counter()).items()):
                out.append(f"  skipped {n}: {reason}")
        return out


def read_table(data_dir: Path, name: str) -> list[dict[str, str]]:
    """One Olist table as rows of text (``utf-8-sig`` so a BOM never sticks to a column name)."""
    with open(data_dir / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def parse_source_time(text: str) -> datetime:
    """A source timestamp, for arithmetic only; the written value stays the source text."""
    return datetime.strptime(text.strip(), SOURCE_TIMESTAMP)


def order_departments(data_dir: Path, order_ids: Iterable[str]) -> dict[str, str]:
    """The department of every order: the English category of its first item (see module doc)."""
    products = {
        p["product_id"]: p["product_category_name"].strip()
        for p in read_table(data_dir, "olist_products_dataset.csv")
    }
    translation = {
        # The header of this copy is ``product_category_namept`` (sic); take columns by position.
        row[0].strip(): row[1].strip()
        for row in _rows(data_dir / "product_category_name_translation.csv")
    }
    first_category: dict[str, str] = {}
    for item in read_table(data_dir, "olist_order_items_dataset.csv"):
        if item["order_item_id"].strip() == "1":
            first_category[item["order_id"]] = products.get(item["product_id"], "")
    departments = {}
    for order_id in order_ids:
        category = first_category.get(order_id, "")
        # Two real categories (pc_gamer, portateis_cozinha_...) are missing from Olist's own
        # translation table: keep the Portuguese name rather than invent a translation.
        departments[order_id] = translation.get(category, category) if category else UNCATEGORISED
    return departments


def _rows(path: Path) -> list[list[str]]:
    """A CSV file's data rows as lists, header dropped."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


def convert(out_dir: Path, data_dir: Path = DATA_DIR) -> Summary:
    """Write the four datasets into ``out_dir`` and return what was written and skipped."""
    summary = Summary()
    orders = read_table(data_dir, "olist_orders_dataset.csv")
    people = {
        c["customer_id"]: c["customer_unique_id"]
        for c in read_table(data_dir, "olist_customers_dataset.csv")
    }
    department = order_departments(data_dir, (o["order_id"] for o in orders))
    person = {o["order_id"]: people.get(o["customer_id"], "") for o in orders}

    # Decimal, so that 109.9 + 25.1 is written 135.0 and not 135.00000000000003.
    amounts: dict[str, Decimal] = {}
    for item in read_table(data_dir, "olist_order_items_dataset.csv"):
        amounts[item["order_id"]] = amounts.get(item["order_id"], Decimal(0)) + Decimal(
            item["price"]
        )

    purchases = []
    responses = []
    for o in orders:
        oid = o["order_id"]
        if oid not in amounts:
            summary.skip("purchases", "order without items (nothing was sold)")
        else:
            purchases.append(
                (oid, o["order_purchase_timestamp"], person[oid], department[oid], str(amounts[oid]))
            )
        response = _response(o, department[oid], summary)
        if response is not None:
            responses.append(response)

    complaints = []
    surveys = []
    for r in read_table(data_dir, "olist_order_reviews_dataset.csv"):
        oid = r["order_id"]
        if oid not in department:
            summary.skip("surveys", "review of an order not in the orders table")
            continue
        score = r["review_score"].strip()
        opened = r["review_creation_date"]
        if score in ("1", "2"):
            complaints.append(
                (r["review_pk"], opened, department[oid], person[oid], "", f"review score {score}")
            )
        surveys.append((r["review_pk"], opened, department[oid], "csat", score, person[oid]))

    for name, rows in (
        ("purchases", purchases),
        ("complaints", complaints),
        ("responses", responses),
        ("surveys", surveys),
    ):
        write_dataset(out_dir / f"{name}.csv", COLUMNS[name], rows)
        summary.rows[name] = len(rows)
    return summary


def _response(order: dict[str, str], department: str, summary: Summary) -> tuple[str, ...] | None:
    """The delivery promise of one order as a ``responses`` row, or None (skip counted)."""
    received = order["order_purchase_timestamp"]
    delivered = order["order_delivered_customer_date"].strip()
    estimated = order["order_estimated_delivery_date"].strip()
    if not estimated:
        # Without a promise the product would fall back to the department's default (60 min),
        # which means nothing for a parcel: leave the order out instead.
        summary.skip("responses", "no estimated delivery date")
        return None
    promised = (parse_source_time(estimated) - parse_source_time(received)).total_seconds() / 60
    if promised <= 0:
        summary.skip("responses", "estimated delivery not after the purchase")
        return None
    if delivered and parse_source_time(delivered) < parse_source_time(received):
        summary.skip("responses", "delivered before it was purchased")
        return None
    return (order["order_id"], department, received, delivered, str(int(promised)))


def write_dataset(path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """One dataset file: UTF-8, comma-delimited, header first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: convert and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the dataset files")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of the Olist tables")
    args = parser.parse_args(argv)
    summary = convert(args.out, args.data)
    print(f"wrote {', '.join(f'{n}.csv' for n in COLUMNS)} into {args.out}")
    print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
