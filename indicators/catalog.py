"""The indicator catalog: the one list every page, the command line and the docs read.

Each indicator is computed per month and department, and for the pseudo-department ``All``
(computed from rows, never averaged from departments).  Percentages are percent values
(12.5 means 12.5 %).  ``unit`` is the name of a unit in :data:`indicators.units.UNITS`, which
writes its values for people (the package's unit contract: :mod:`indicators`).  ``direction``
says which way is better: ``"higher"`` or ``"lower"``.

Every indicator has *value bounds* (:func:`bounds`): the range its formula can give on valid data,
or, for shares, the range the share means.  A projection (the route's forecast) is clamped to
them (:func:`clamp`); measured values are never altered.

* counts, money, durations and complaints per 100 purchases: 0 and up;
* shares of something (CSAT, CES, promise kept, unresolved, repeat complaints, discount,
  returning customers, retention, first-contact resolution, the complaint bands and the old
  backlog): 0 to 100.  Retention can exceed 100 on inconsistent aggregates (more
  customers retained than there were at the start): the data is not refused, but a projection
  does not go beyond all customers retained;
* NPS: −100 to 100; the CES mean score: 1 to 7;
* revenue growth: −100 (no revenue at all, amounts are ≥ 0) and up;
* compensation share of revenue: 0 and up (compensation can exceed the month's revenue).

Examples
--------
>>> get("csat").unit
'%'
>>> [i.id for i in by_family("price")][:2]
['average_ticket', 'revenue_per_customer']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Family = Literal["quality", "quantity", "opportunity", "price"]
Direction = Literal["higher", "lower"]

FAMILIES: tuple[Family, ...] = ("quality", "quantity", "opportunity", "price")
FAMILY_LABELS: dict[str, str] = {
    "quality": "Quality",
    "quantity": "Quantity",
    "opportunity": "Opportunity (timeliness)",
    "price": "Price",
}

ALL_DEPARTMENTS = "All"
"""The pseudo-department that stands for every department together."""

SERVICE_COMPONENTS: tuple[str, ...] = (
    "product",
    "procedures",
    "facilities",
    "systems",
    "information",
    "people",
)
"""The six components of service; every classified complaint belongs to one of them."""

UNCLASSIFIED = "unclassified"

NOT_GIVEN = "not given"
"""The channel of a row whose ``channel`` is empty (or a dataset without one): a value of its
own in the per-channel indicators, never dropped (:mod:`indicators.channels`)."""


@dataclass(frozen=True)
class Indicator:
    id: str
    family: Family
    label: str
    unit: str
    direction: Direction
    formula: str
    sources: tuple[str, ...]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)``: the values this indicator can take (:func:`bounds`)."""
        return bounds(self.id)


INDICATORS: tuple[Indicator, ...] = (
    # quantity
    Indicator(
        "purchases", "quantity", "Purchases", "count", "higher",
        "number of purchases",
        ("purchases.purchase_id", "purchases.purchased_at"),
    ),
    Indicator(
        "revenue", "quantity", "Revenue", "money", "higher",
        "sum of amount",
        ("purchases.amount",),
    ),
    Indicator(
        "active_customers", "quantity", "Active customers", "count", "higher",
        "distinct customer_id with a purchase in the month",
        ("purchases.customer_id",),
    ),
    Indicator(
        "new_customers", "quantity", "New customers", "count", "higher",
        "active customers whose first stored purchase (in that department; for All, anywhere) "
        "falls in the month",
        ("purchases.customer_id", "purchases.purchased_at"),
    ),
    Indicator(
        "revenue_growth_mom", "quantity", "Revenue growth (month on month)", "%", "higher",
        "(revenue ÷ revenue of the previous month − 1) × 100",
        ("purchases.amount",),
    ),
    Indicator(
        "revenue_growth_yoy", "quantity", "Revenue growth (year on year)", "%", "higher",
        "(revenue ÷ revenue of the same month a year before − 1) × 100",
        ("purchases.amount",),
    ),
    Indicator(
        "returning_customers_rate", "quantity", "Returning customers", "%", "higher",
        "share of the month's active customers who also purchased (same department; for All, "
        "anywhere) in any of the 12 preceding months × 100",
        ("purchases.customer_id", "purchases.purchased_at"),
    ),
    Indicator(
        "retention_rate", "quantity", "Retention rate", "%", "higher",
        "(Σ customers_end − Σ new_customers) ÷ Σ customers_start × 100",
        ("retention.customers_start", "retention.customers_end", "retention.new_customers"),
    ),
    Indicator(
        "complaints", "quantity", "Complaints", "count", "lower",
        "number of complaints opened",
        ("complaints.complaint_id", "complaints.opened_at"),
    ),
    # quality
    Indicator(
        "complaint_rate", "quality", "Complaints per 100 purchases", "per 100", "lower",
        "complaints ÷ purchases × 100",
        ("complaints.complaint_id", "purchases.purchase_id"),
    ),
    Indicator(
        "estimated_dissatisfied", "quality", "Estimated dissatisfied customers", "count", "lower",
        "complaints × iceberg factor: 2 for complaints counted at the front line (the default), "
        "25 at head office (the evidence: 20 to 100), or a custom factor (settings "
        "iceberg_counted_at and iceberg_factor)",
        ("complaints.complaint_id",),
    ),
    Indicator(
        "revenue_at_risk", "quality", "Revenue at risk", "money", "lower",
        "estimated dissatisfied customers × the share of them who leave (setting "
        "dissatisfied_leave_share, 30 % by default: a planning assumption) ÷ 100 × revenue per "
        "customer (revenue ÷ active customers); missing without active customers",
        ("complaints.complaint_id", "purchases.amount", "purchases.customer_id"),
    ),
    Indicator(
        "repeat_complaint_rate", "quality", "Repeat complaints", "%", "lower",
        "among the month's complaints that carry a customer_id, the share whose customer had "
        "opened a complaint on the same component (unclassified counts as one) in the 90 days "
        "before, in any department × 100",
        ("complaints.customer_id", "complaints.component", "complaints.opened_at"),
    ),
    Indicator(
        "contacts_per_100_purchases", "quality", "Contacts per 100 purchases", "per 100", "lower",
        "(requests received + complaints opened) ÷ purchases × 100",
        ("responses.request_id", "complaints.complaint_id", "purchases.purchase_id"),
    ),
    Indicator(
        "first_contact_resolution", "quality", "First-contact resolution", "%", "higher",
        "among the month's resolved complaints and answered requests that carry a customer_id "
        "and have been judged, the share after which the same customer opened no complaint and "
        "made no request (any department) within the first-contact days (a setting, 7 by "
        "default) × 100; a contact is judged once the stored contacts reach that many days "
        "after it was closed, and the month once they reach that many days after its end "
        "(missing before)",
        ("complaints.customer_id", "complaints.opened_at", "complaints.resolved_at",
         "responses.customer_id", "responses.received_at", "responses.responded_at"),
    ),
    Indicator(
        "csat", "quality", "Customer satisfaction (CSAT)", "%", "higher",
        "share of csat answers scoring 4 or 5 × 100",
        ("surveys.kind", "surveys.score"),
    ),
    Indicator(
        "nps", "quality", "Net promoter score", "points", "higher",
        "% of nps answers scoring 9–10 minus % scoring 0–6",
        ("surveys.kind", "surveys.score"),
    ),
    Indicator(
        "ces", "quality", "Customer effort (CES, easy)", "%", "higher",
        "share of ces answers scoring 5, 6 or 7 (1 = very difficult, 7 = very easy) × 100",
        ("surveys.kind", "surveys.score"),
    ),
    Indicator(
        "ces_mean", "quality", "Customer effort (CES, mean score)", "score", "higher",
        "mean score of the ces answers (1 = very difficult … 7 = very easy)",
        ("surveys.kind", "surveys.score"),
    ),
    # opportunity
    Indicator(
        "response_time_median", "opportunity", "Response time (median)", "minutes", "lower",
        "median minutes from received_at to responded_at, answered requests received in the month",
        ("responses.received_at", "responses.responded_at"),
    ),
    Indicator(
        "response_time_p90", "opportunity", "Response time (90th percentile)", "minutes", "lower",
        "90th percentile (linear interpolation) of minutes from received_at to responded_at, "
        "answered requests received in the month",
        ("responses.received_at", "responses.responded_at"),
    ),
    Indicator(
        "promise_kept_rate", "opportunity", "Promise kept", "%", "higher",
        "share of requests received in the month answered within their promised minutes "
        "(promised_minutes, else the department's promise setting; unanswered = not kept) × 100",
        ("responses.received_at", "responses.responded_at", "responses.promised_minutes"),
    ),
    Indicator(
        "resolution_time_median", "opportunity", "Resolution time (median)", "hours", "lower",
        "median hours from opened_at to resolved_at, complaints opened in the month and resolved",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "unresolved_complaints_rate", "opportunity", "Unresolved complaints", "%", "lower",
        "share of the month's complaints with no resolved_at × 100",
        ("complaints.resolved_at",),
    ),
    Indicator(
        "complaints_resolved_within_promise", "opportunity", "Complaints resolved within the "
        "promise", "%", "higher",
        "share of the month's complaints resolved within the complaint promise (a setting per "
        "department, 3 business days by default): the business days after the day it was "
        "opened, up to and including the day it was resolved (local dates; Monday to Friday, "
        "less the holidays setting), at most the promise × 100",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "complaints_closed_3_business_days", "opportunity", "Closed within 3 business days "
        "(FCA)", "%", "higher",
        "share of the month's complaints resolved by the end of the 3rd business day after the "
        "day they were opened × 100 (the FCA's first band)",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "complaints_closed_8_weeks", "opportunity", "Closed after 3 business days, within 8 "
        "weeks (FCA)", "%", "higher",
        "share of the month's complaints resolved after the 3rd business day but at most 8 "
        "weeks (56 × 24 hours) after opened_at × 100",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "complaints_closed_later", "opportunity", "Closed after 8 weeks (FCA)", "%", "lower",
        "share of the month's complaints resolved more than 8 weeks after opened_at × 100 (the "
        "fourth band, still open, is the unresolved complaints)",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "complaint_backlog", "opportunity", "Complaint backlog", "count", "lower",
        "complaints open at the month's end: opened in or before the month, not resolved "
        "before the next month began",
        ("complaints.complaint_id", "complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "backlog_age_median", "opportunity", "Backlog age (median)", "days", "lower",
        "median days from opened_at to the month's end, complaints open at the month's end",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    Indicator(
        "backlog_over_8_weeks", "opportunity", "Backlog older than 8 weeks", "%", "lower",
        "share of the complaints open at the month's end opened more than 8 weeks (56 days) "
        "before it × 100",
        ("complaints.opened_at", "complaints.resolved_at"),
    ),
    # price
    Indicator(
        "average_ticket", "price", "Average ticket", "money", "higher",
        "revenue ÷ purchases",
        ("purchases.amount",),
    ),
    Indicator(
        "revenue_per_customer", "price", "Revenue per customer", "money", "higher",
        "revenue ÷ active customers",
        ("purchases.amount", "purchases.customer_id"),
    ),
    Indicator(
        "discount_rate", "price", "Discount rate", "%", "lower",
        "(1 − Σ amount ÷ Σ list_amount) × 100, over purchases that carry list_amount",
        ("purchases.amount", "purchases.list_amount"),
    ),
    Indicator(
        "compensation_per_complaint", "price", "Compensation per complaint", "money", "lower",
        "Σ compensation ÷ complaints (an empty compensation counts as none paid)",
        ("complaints.compensation",),
    ),
    Indicator(
        "compensation_share", "price", "Compensation share of revenue", "%", "lower",
        "Σ compensation ÷ revenue × 100",
        ("complaints.compensation", "purchases.amount"),
    ),
)

_BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
INDICATOR_IDS: tuple[str, ...] = tuple(_BY_ID)


def get(indicator_id: str) -> Indicator:
    """The catalog entry for ``indicator_id``; ``KeyError`` naming the known ids otherwise."""
    try:
        return _BY_ID[indicator_id]
    except KeyError:
        raise KeyError(
            f"unknown indicator {indicator_id!r}; known: {', '.join(INDICATOR_IDS)}"
        ) from None


_UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "count": (0.0, math.inf),
    "money": (0.0, math.inf),
    "minutes": (0.0, math.inf),
    "days": (0.0, math.inf),
    "hours": (0.0, math.inf),
    "per 100": (0.0, math.inf),
}
"""Bounds shared by every indicator of a unit; ``%`` and ``points`` are listed one by one."""

_SHARE = (0.0, 100.0)
_OWN_BOUNDS: dict[str, tuple[float, float]] = {
    "csat": _SHARE,
    "promise_kept_rate": _SHARE,
    "unresolved_complaints_rate": _SHARE,
    "repeat_complaint_rate": _SHARE,
    "discount_rate": _SHARE,
    "returning_customers_rate": _SHARE,
    "retention_rate": _SHARE,
    "first_contact_resolution": _SHARE,
    "ces": _SHARE,
    "ces_mean": (1.0, 7.0),
    "complaints_resolved_within_promise": _SHARE,
    "complaints_closed_3_business_days": _SHARE,
    "complaints_closed_8_weeks": _SHARE,
    "complaints_closed_later": _SHARE,
    "backlog_over_8_weeks": _SHARE,
    "nps": (-100.0, 100.0),
    "revenue_growth_mom": (-100.0, math.inf),
    "revenue_growth_yoy": (-100.0, math.inf),
    "compensation_share": (0.0, math.inf),
}


def bounds(indicator_id: str) -> tuple[float, float]:
    """``(low, high)`` of the indicator's values (``inf`` where there is no bound).

    >>> bounds("csat"), bounds("nps"), bounds("revenue_growth_mom")[0], bounds("revenue")
    ((0.0, 100.0), (-100.0, 100.0), -100.0, (0.0, inf))
    """
    ind = get(indicator_id)
    own = _OWN_BOUNDS.get(ind.id)
    if own is not None:
        return own
    try:
        return _UNIT_BOUNDS[ind.unit]
    except KeyError:
        raise KeyError(f"no value bounds for {indicator_id!r} (unit {ind.unit!r})") from None


def clamp(indicator_id: str, value: float) -> float:
    """``value`` moved into :func:`bounds`; a missing value (NaN) stays missing.

    >>> clamp("csat", 133.2), clamp("nps", -120.0), clamp("csat", 74.9), clamp("revenue", -5.0)
    (100.0, -100.0, 74.9, 0.0)
    """
    low, high = bounds(indicator_id)
    if math.isnan(value):
        return value
    return min(max(value, low), high)


def by_family(family: str) -> tuple[Indicator, ...]:
    """The indicators of one family, in catalog order."""
    return tuple(i for i in INDICATORS if i.family == family)


def is_better(indicator_id: str, new: float, old: float) -> bool:
    """Whether ``new`` is strictly better than ``old`` for this indicator's direction."""
    return new > old if get(indicator_id).higher_is_better else new < old
