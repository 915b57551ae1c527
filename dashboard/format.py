"""How a value is written on screen, by the catalog unit (pure, no Streamlit).

* ``count``   — an integer with thousands separators: ``1,234``;
* ``money``   — two decimals with thousands separators: ``1,234.50``;
* ``%``       — one decimal and a percent sign: ``12.5 %``; a change is in points: ``+1.2 pp``;
* ``per 100`` / ``points`` — one decimal: ``33.3``;
* ``minutes`` — ``42 min`` under an hour, ``1 h 35 min`` from an hour on;
* ``hours``   — ``5.5 h`` under two days, ``3.2 days`` from two days on;
* missing (``None`` / NaN) — ``—``: a missing value is never written as 0.

Examples
--------
>>> format_value(1234.0, "count"), format_value(10 + 20.5, "money"), format_value(1 / 3 * 100, "per 100")
('1,234', '30.50', '33.3')
>>> format_value(95.0, "minutes"), format_value(float("nan"), "%")
('1 h 35 min', '—')
>>> format_delta(2.0, 3.5, "%")
'+1.5 pp'
"""

from __future__ import annotations

import math

from indicators import catalog

MISSING = "—"


def is_missing(value: object) -> bool:
    """``None``, NaN, ``pd.NA`` or anything that is not a number."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def format_value(value: object, unit: str) -> str:
    """``value`` written for its unit; ``—`` when missing."""
    if is_missing(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "money":
        return f"{v:,.2f}"
    if unit == "%":
        return f"{v:.1f} %"
    if unit == "minutes":
        return _minutes(v)
    if unit == "hours":
        return f"{v:,.1f} h" if abs(v) < 48 else f"{v / 24:,.1f} days"
    return f"{v:,.1f}"


def _minutes(v: float) -> str:
    if abs(v) < 10:
        return f"{v:.1f} min"
    if abs(v) < 60:
        return f"{v:.0f} min"
    total = round(abs(v))
    hours, minutes = divmod(total, 60)
    sign = "-" if v < 0 else ""
    return f"{sign}{hours} h {minutes:02d} min" if minutes else f"{sign}{hours} h"


def format_indicator(value: object, indicator_id: str) -> str:
    """``value`` written in the unit the catalog gives ``indicator_id``."""
    return format_value(value, catalog.get(indicator_id).unit)


def format_delta(old: object, new: object, unit: str) -> str | None:
    """The change from ``old`` to ``new`` with its sign, or ``None`` when either is missing.

    Percentages change by percentage points (``pp``), not by percent.
    """
    if is_missing(old) or is_missing(new):
        return None
    d = float(new) - float(old)  # type: ignore[arg-type]
    magnitude = abs(d)
    if unit == "count":
        text = f"{magnitude:,.0f}"
    elif unit == "money":
        text = f"{magnitude:,.2f}"
    elif unit == "%":
        text = f"{magnitude:.1f} pp"
    elif unit == "minutes":
        text = _minutes(magnitude)
    elif unit == "hours":
        text = f"{magnitude:,.1f} h"
    else:
        text = f"{magnitude:,.1f}"
    if not any(ch in "123456789" for ch in text):
        # Rounds to nothing: no sign, so it is not shown as a rise or a fall.
        return text
    return ("+" if d > 0 else "-") + text


def delta_color(indicator_id: str) -> str:
    """``st.metric``'s ``delta_color``: green means better, whatever the direction."""
    return "normal" if catalog.get(indicator_id).higher_is_better else "inverse"


STATUS_COLOURS: dict[str, str] = {
    "achieved": "green",
    "on track": "blue",
    "at risk": "orange",
    "off track": "red",
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
