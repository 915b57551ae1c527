"""The iceberg with its evidence: where complaints are counted sets the factor, and a share of the
dissatisfied customers leave, which puts revenue at risk (pure, no database).

**The factor is a choice of where complaints are counted** (the setting ``iceberg_counted_at``):

===============  ======  ============  ==========================================================
choice           factor  range         why
===============  ======  ============  ==========================================================
``front_line``   ×2      —             about half of the customers who have a problem tell a
                                       front-line person (a counter, a call, a shop)
``head_office``  ×25     ×20 – ×100    only 1–5 % take it to a local manager or the corporate
                                       complaint desk: 1 ÷ 5 % = 20 … 1 ÷ 1 % = 100
``custom``       yours   —             the ``iceberg_factor`` setting (10 unless set)
===============  ======  ============  ==========================================================

The figures are TARP's (Technical Assistance Research Programs, the studies for the US Office
of Consumer Affairs from 1979, replicated in the 1980s), as John Goodman of TARP set them straight in 2005
(:data:`SOURCES`): the often-quoted "only 4 % of dissatisfied customers complain" dropped two
qualifiers, *small-ticket* problems and complaints *to headquarters*.  ×25 (1 ÷ 4 %) is a point
inside the head-office range, which is why the pages give that range beside it.  A front-line
count keeps about ×2 with no range: the evidence says "about half".

**Revenue at risk** = estimated dissatisfied customers × the share of them who leave (the
setting ``dissatisfied_leave_share``, a percent, :data:`DEFAULT_LEAVE_SHARE` unless set) ÷ 100
× revenue per customer.  The default, 30 %, is the low end of what the studies found (more than
30 % of dissatisfied customers stopped buying altogether; 63–91 % of customers with a problem
who did not complain would not buy again, by the size of the problem): a planning assumption,
to be replaced by the organisation's own figure.

A database made before the choice existed reads as ``custom`` (:data:`LEGACY_COUNTED_AT`): its
numbers were computed with its own factor, 10 unless set, and stay so.

Examples
--------
>>> factor("head_office", custom=7.0), factor("custom", custom=7.0)
(25.0, 7.0)
>>> factor_range("head_office"), factor_range("front_line")
((20.0, 100.0), None)
>>> 38 * factor("head_office", custom=10.0), [38 * f for f in factor_range("head_office")]
(950.0, [760.0, 3800.0])
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountedAt:
    """One answer to *where are the complaints counted?*"""

    key: str
    title: str
    """The choice's name on the settings page: ``Front line``."""
    where: str
    """Words after *complaints counted*: ``at the front line``; empty for a custom factor."""
    factor: float | None
    """Dissatisfied customers per complaint counted there; None: the analyst's own number."""
    low: float | None = None
    high: float | None = None
    """The factors the evidence allows (None: it gives one figure, or none)."""
    gist: str = ""
    """The evidence in a few words, beside the choice."""
    evidence: str = ""


COUNTED_AT: dict[str, CountedAt] = {
    "front_line": CountedAt(
        "front_line", "Front line", "at the front line", 2.0,
        gist="about half of the customers with a problem tell a front-line person",
        evidence="About half of the customers who have a problem tell a front-line person "
        "(across industries, 50 % of consumers; 75 % of business customers), so a complaint "
        "counted where customers are served stands for about 2 dissatisfied customers.",
    ),
    "head_office": CountedAt(
        "head_office", "Head office", "at head office", 25.0, 20.0, 100.0,
        gist="only 1–5 % of the customers with a problem reach head office",
        evidence="Only 1–5 % of customers with a problem take it to a local manager or the "
        "corporate complaint desk (for small-ticket problems 96 % never reach headquarters), "
        "so a complaint counted there stands for 20 to 100 dissatisfied customers: ×25 is a "
        "point in that range.",
    ),
    "custom": CountedAt(
        "custom", "Custom", "", None,
        gist="your own number of dissatisfied customers per complaint",
        evidence="Your own number of dissatisfied customers per complaint (the iceberg factor), "
        "e.g. from a survey of your customers who had a problem.",
    ),
}
"""Every choice of ``iceberg_counted_at``, in the order the settings page offers them."""

DEFAULT_COUNTED_AT = "front_line"
"""The choice of a new database (and of :class:`indicators.store.Settings` ()."""
LEGACY_COUNTED_AT = "custom"
"""The choice of a database that holds no ``iceberg_counted_at`` row: made before the choice
existed, its numbers were computed with its ``iceberg_factor`` (10 unless set)."""
DEFAULT_CUSTOM_FACTOR = 10.0
"""The ``iceberg_factor`` setting's number unless set (the factor before the choice existed)."""
DEFAULT_LEAVE_SHARE = 30.0
"""Percent of dissatisfied customers assumed to leave unless set: the low end of the evidence."""

CITATION = ("TARP's studies for the US Office of Consumer Affairs (from 1979), as John Goodman "
            "set their quoting straight in 2005")
"""The evidence in one phrase, for a caption."""

SOURCES: tuple[str, ...] = (
    "TARP (Technical Assistance Research Programs) for the US Office of Consumer Affairs, "
    "*Consumer Complaint Handling in America: Final Report* (September 1979), the national "
    "survey replicated in the 1980s "
    "(<https://fhmagazine.org/financial-history-150-summer-2024/0594642001721734026/p32>).",
    "John Goodman (TARP), letter \"Misquoted Data Cause Questions, Confusion\", *Quality "
    "Progress*, November 2005 (QP Mailbag): on average 50 % of consumers complain to a "
    "front-line person (75 % in business to business); 96 % of consumers with a small-ticket "
    "problem do not complain to headquarters "
    "(<http://asq.org/quality-progress/2005/11/qp-mailbag.html>).",
    "John Goodman, *Basic Facts on Customer Complaint Behavior* (TARP): only 1–5 % of "
    "customers escalate to a local manager or corporate headquarters (5–10 % for large-ticket "
    "items), as noted at "
    "<https://customerservicereader.typepad.com/customer_service_reader/surveys/page/2/>.",
    "TARP figures as quoted in \"What Makes Us Loyal II\", *Fast Company*, 9 December 2003: of "
    "customers with a problem who did not complain, 37 % (a loss under $5) and 9 % (a loss over "
    "$100) stayed loyal, so 63–91 % did not (<https://www.fastcompany.com/663494/what-makes-us-loyal-ii>).",
    "The Coca-Cola study of 1980 (John Goodman one of its authors), as Jeff Toister reports "
    "it in \"Interview with John Goodman About Strategic Customer Service\" (Toister "
    "Solutions blog, 2019): more than 30 % of dissatisfied customers stopped buying "
    "altogether, roughly 75 % bought less (<https://www.toistersolutions.com/blog>).",
)
"""Where the factors and the leave share come from (docs/indicators.md, *The iceberg*)."""

LEAVE_SHARE_EVIDENCE = (
    "More than 30 % of dissatisfied customers stopped buying altogether (Coca-Cola, 1980); of "
    "customers with a problem who did not complain, 63 % (a loss under 5 dollars) to 91 % "
    "(over 100 dollars) would not buy again (TARP). 30 % is the low end: a planning "
    "assumption, replace it with your own figure."
)
"""The leave share's evidence in words for the settings page (no ``$``: Markdown math)."""


def factor(counted_at: str, *, custom: float) -> float:
    """Dissatisfied customers per complaint counted at ``counted_at`` (``custom``: ``custom``)."""
    fixed = COUNTED_AT[counted_at].factor
    return float(custom) if fixed is None else fixed


def factor_range(counted_at: str) -> tuple[float, float] | None:
    """``(low, high)`` factors the evidence gives for ``counted_at``; None when it gives one."""
    choice = COUNTED_AT[counted_at]
    return None if choice.low is None or choice.high is None else (choice.low, choice.high)


def choice_text(counted_at: str, *, custom: float) -> str:
    """The choice in a few words: ``Head office ×25 (×20–×100 on the evidence)``.

    >>> choice_text("front_line", custom=10.0), choice_text("custom", custom=12.5)
    ('Front line ×2', 'Custom ×12.5')
    >>> choice_text("head_office", custom=10.0)
    'Head office ×25 (×20–×100 on the evidence)'
    """
    words = f"{COUNTED_AT[counted_at].title} ×{factor(counted_at, custom=custom):g}"
    span = factor_range(counted_at)
    return words if span is None else f"{words} (×{span[0]:g}–×{span[1]:g} on the evidence)"
