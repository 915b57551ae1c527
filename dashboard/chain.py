"""The service chain (pure: no Streamlit): the seeds' argument, link by link.

Three chains, each a row of scorecard cards joined by a sentence:

* **the iceberg** — complaints → estimated dissatisfied customers → repeat complaints;
* **the promise** — promise kept → CSAT → NPS;
* **loyalty** — returning customers → retention → revenue per customer.

The links are the service-management argument the product is built on (complaints are the tip
of an iceberg of dissatisfied customers, who leave, which costs revenue; a promise kept or
broken shows up in satisfaction), **not a fitted causal model**: the page draws each node's own
figures and says what the argument expects, never an effect estimated from the data.

Examples
--------
>>> [c.title for c in CHAINS]
['The iceberg', 'The promise', 'Loyalty']
>>> [n for c in CHAINS for n in c.nodes][:3]
['complaints', 'estimated_dissatisfied', 'repeat_complaint_rate']
>>> link_text(CHAINS[0], 0, iceberg_factor=2, counted_at="front_line")
'For every customer who complains at the front line, about 2 are dissatisfied (where complaints are counted, a setting); some of them leave without a word.'
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from indicators import catalog, iceberg


@dataclass(frozen=True)
class Chain:
    title: str
    question: str
    nodes: tuple[str, ...]
    links: tuple[str, ...]
    """The sentence between node i and node i + 1 (``{factor}``: the iceberg factor, ``{where}``:
    where complaints are counted, :data:`indicators.iceberg.COUNTED_AT`)."""


CHAINS: tuple[Chain, ...] = (
    Chain(
        "The iceberg",
        "How many customers do the complaints stand for, and are complaints put right?",
        ("complaints", "estimated_dissatisfied", "repeat_complaint_rate"),
        ("For every customer who complains{where}, about {factor:g} are dissatisfied (where "
         "complaints are counted, a setting); some of them leave without a word.",
         "A complaint not put right the first time comes back: repeat complaints show the "
         "complaints that were not resolved."),
    ),
    Chain(
        "The promise",
        "Is the service promise kept, and does it show in satisfaction?",
        ("promise_kept_rate", "csat", "nps"),
        ("Customers judge the service against what they were promised: a promise kept shows "
         "up in satisfaction, a promise broken in dissatisfaction.",
         "Satisfied customers recommend the organisation; dissatisfied ones warn others."),
    ),
    Chain(
        "Loyalty",
        "Do customers come back, and what is a kept customer worth?",
        ("returning_customers_rate", "retention_rate", "revenue_per_customer"),
        ("Customers who come back are the ones the service kept.",
         "Kept customers buy more over time: revenue per customer grows with loyalty, and "
         "every customer lost takes theirs away."),
    ),
)
NOT_A_MODEL = ("The links are the service-management argument this product is built on, not a "
               "model fitted to your data: each card shows its own figures.")


def link_text(chain: Chain, i: int, *, iceberg_factor: float, counted_at: str) -> str:
    """The sentence between ``chain.nodes[i]`` and the next node (complaints counted at
    ``counted_at``, a key of :data:`indicators.iceberg.COUNTED_AT`, with ``iceberg_factor``)."""
    where = iceberg.COUNTED_AT[counted_at].where
    return chain.links[i].format(factor=iceberg_factor, where=f" {where}" if where else "")


def chain_cards(card: pd.DataFrame, chain: Chain) -> list[dict]:
    """The scorecard rows (:func:`dashboard.scorecard.scorecard`) of the chain's nodes, in the
    chain's order.

    >>> frame = pd.DataFrame({"indicator": ["csat", "nps", "promise_kept_rate"], "value": [1, 2, 3]})
    >>> [r["indicator"] for r in chain_cards(frame, CHAINS[1])]
    ['promise_kept_rate', 'csat', 'nps']
    """
    rows = card.set_index("indicator", drop=False)
    return [rows.loc[node].to_dict() for node in chain.nodes]


def every_node() -> tuple[str, ...]:
    """Every indicator on the page (each a catalog id: a test says so)."""
    nodes = tuple(n for c in CHAINS for n in c.nodes)
    for node in nodes:
        catalog.get(node)
    return nodes
