"""How a value is written on screen, by the catalog unit, in the organisation's currency.

The rules live in :mod:`indicators.units` — one :class:`~indicators.units.Unit` per catalog
unit (its module docstring has the table: ``1,234``, ``€1,235``, ``12.5 %`` and ``+1.2 pp``,
``95 min`` / ``5.2 h`` / ``3.4 days``, ``—`` for a missing value, never 0), which the charts
read too.  This module adds the currency of the current script run, so pages, route words and
cards need not pass it around.

**The currency of a run.**  :data:`CURRENCY` is a :class:`contextvars.ContextVar` (default: no
currency) that ``app.py`` sets once per script run from the settings (:func:`use_currency`).
Streamlit runs each session's script in that session's own script thread, and a new thread
starts with an empty context, so one session's currency never shows in another's, and a
script that never sets it (a test, the command line) writes plain numbers.
:func:`currency_context` sets it for a block and restores it after.

Examples
--------
>>> format_value(1234.0, "count"), format_value(10 + 20.5, "money"), format_value(1 / 3 * 100, "per 100")
('1,234', '30.50', '33.3')
>>> format_value(95.0, "minutes"), format_value(5 * 60 + 14, "minutes"), format_value(float("nan"), "%")
('95 min', '5.2 h', '—')
>>> format_delta(2.0, 3.5, "%")
'+1.5 pp'
>>> with currency_context(Currency(symbol="€")):
...     format_value(1234.5, "money"), format_delta(10.0, 22.5, "money")
('€1,235', '+€12.50')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from indicators import catalog, units
from indicators.units import NO_CURRENCY, Currency

MISSING = units.MISSING

CURRENCY: ContextVar[Currency] = ContextVar("currency", default=NO_CURRENCY)
"""The currency money is written in during this script run (see the module docstring)."""


def use_currency(symbol: str = "", code: str = "") -> None:
    """Write money in this currency for the rest of the script run (``app.py``, once a run)."""
    CURRENCY.set(Currency(symbol=symbol, code=code))


@contextmanager
def currency_context(currency: Currency) -> Iterator[None]:
    """Write money in ``currency`` inside the block; the previous currency after it."""
    token = CURRENCY.set(currency)
    try:
        yield
    finally:
        CURRENCY.reset(token)


def current_currency() -> Currency:
    """The currency of this script run (what charts are given as ``currency=``)."""
    return CURRENCY.get()


is_missing = units.is_missing
"""The one test for a missing value (:func:`indicators.units.is_missing`), here for the pages."""


def format_value(value: object, unit: str) -> str:
    """``value`` written for its unit, money in the run's currency; ``—`` when missing."""
    return units.number_text(value, unit, currency=CURRENCY.get())


def format_indicator(value: object, indicator_id: str) -> str:
    """``value`` written in the unit the catalog gives ``indicator_id``."""
    return units.unit_of(indicator_id).text(value, currency=CURRENCY.get())


def format_delta(old: object, new: object, unit: str) -> str | None:
    """The change from ``old`` to ``new`` with its sign, or ``None`` when either is missing.

    Percentages change by percentage points (``pp``), not by percent; money and durations are
    written by the rules above on the size of the change (``+€1,235``, ``-25 min``).  A change
    that rounds to nothing has no sign.
    """
    return units.change_text(old, new, unit, currency=CURRENCY.get())


def promise_headline(summary: Mapping[str, object] | None, *, month: str, setting: float) -> str:
    """The service promise in words (markdown), from one row of
    :func:`indicators.compute.promise_summary` (``None``: no requests in the month).

    Requests that all carry one promise: "Respond within **60 min**. Kept for **74.9 %** of
    requests in 2025-06 (median wait 45 min)."  Requests that carry different promises (their
    own ``promised_minutes``): "Promises vary (median **122 h**): kept for **74.9 %** of
    requests in 2025-06, median wait 167 h."  No requests: the promise ``setting`` (minutes)
    and that there were none.  Every request is judged by its own promise, so the rate and the
    words never disagree.

    >>> promise_headline({"promises_vary": False, "promise_median": 60.0, "kept_rate": 75.0,
    ...                   "wait_median": 45.0}, month="2025-06", setting=30.0)
    'Respond within **60 min**. Kept for **75.0 %** of requests in 2025-06 (median wait 45 min).'
    """
    if summary is None:
        return (f"Respond within **{format_value(setting, 'minutes')}** (the promise setting). "
                f"No requests in {month}.")
    rate = format_indicator(summary["kept_rate"], "promise_kept_rate")
    wait = format_value(summary["wait_median"], "minutes")
    promise = format_value(summary["promise_median"], "minutes")
    if summary["promises_vary"]:
        return (f"Promises vary (median **{promise}**): kept for **{rate}** of requests in "
                f"{month}, median wait {wait}.")
    return f"Respond within **{promise}**. Kept for **{rate}** of requests in {month} (median wait {wait})."


def delta_color(indicator_id: str) -> str:
    """``st.metric``'s ``delta_color``: green means better, whatever the direction."""
    return "normal" if catalog.get(indicator_id).higher_is_better else "inverse"


STATUS_COLOURS: dict[str, str] = {
    "achieved": "green",
    "on track": "blue",
    "at risk": "orange",
    "off track": "red",
    "missed": "red",
    "no data": "gray",
}
"""``st.badge`` colour per route status."""


WORD_JOINER = "\u2060"
_MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~:$"


def md_text(text: object) -> str:
    """User data (e.g. a department name) made inert inside Streamlit markdown.

    Every markdown-special character is backslash-escaped, so a name such as
    ``[x](http://evil)`` or ``**loud**`` is shown literally, never as a link or styling.

    Streamlit's markdown also typesets ``--`` as a dash even when escaped, so a word joiner
    (U+2060, invisible) goes between consecutive hyphens: ``--`` still reads as ``--``.

    >>> md_text("[x](y) *a*")
    '\\\\[x\\\\]\\\\(y\\\\) \\\\*a\\\\*'
    >>> md_text("https://x.org") == "https\\\\:" + WORD_JOINER + "//x\\\\." + WORD_JOINER + "org"
    True
    >>> md_text("a--b") == "a\\\\-" + WORD_JOINER + "\\\\-b"
    True
    """
    escaped = "".join(_md_char(ch) for ch in str(text))
    return escaped.replace("\\-\\-", "\\-" + WORD_JOINER + "\\-").replace(
        "\\-\\-", "\\-" + WORD_JOINER + "\\-"
    )


_AUTOLINK_BREAKS = ":.@"
"""After these a word joiner goes too: GitHub-flavoured markdown turns ``https://…``, ``www.…``
and ``name@host.org`` into links by themselves, escaped or not, and a joiner right after the
``:``, the ``.`` or the ``@`` leaves no text that such a link can start from."""


def _md_char(ch: str) -> str:
    escaped = "\\" + ch if ch in _MARKDOWN_SPECIALS else ch
    return escaped + WORD_JOINER if ch in _AUTOLINK_BREAKS else escaped
