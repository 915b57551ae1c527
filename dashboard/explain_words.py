"""What moved it, in words and in the order people read it (pure: no Streamlit).

The "What moved it" page (``app_pages/explain.py``) draws an
:class:`indicators.explain.Explanation`: a headline ("Customer satisfaction (CSAT) fell from 85.0 % in 2025-11 to
80.0 % in 2025-12 (-5.0 pp)"), the biggest contributor with its mix and rate effects, the
waterfall's steps (largest first, the smallest beyond :data:`WATERFALL_STEPS` as one bar) and the
table.  Numbers are written as on the cards (:mod:`dashboard.format`); segment names are data,
so callers pass the sentences through :func:`dashboard.format.md_text`-safe paths: every name
here is already escaped with it.

Examples
--------
>>> from indicators.explain import Explanation, Part
>>> r = Explanation("csat", "All", "department", "2025-12", "2025-11", 85.0, 80.0,
...                 (Part("North", 90, 90, 27.0, 27.0, 0.0), Part("South", 80, 40, -32.0, -18.0, -14.0)))
>>> headline(r)
'Customer satisfaction (CSAT) fell from 85.0 % in 2025-11 to 80.0 % in 2025-12 (-5.0 pp).'
>>> waterfall_steps(r)
[('South', -32.0), ('North', 27.0)]
"""

from __future__ import annotations

import math

import pandas as pd

from dashboard.format import format_delta, format_indicator, md_text
from indicators import catalog, explain
from indicators.explain import Explanation, Part

WATERFALL_STEPS = 10
"""Segments drawn one by one; the rest are one bar ("12 other segments")."""
SPLITS = {"department": "department", "channel": "channel", "component": "service component"}
"""What a change can be split by on the page, in words."""
AGAINST = {
    "previous": "the previous month",
    "year": "the same month a year earlier",
    "target": "the target's planned value",
}
PAGE = "app_pages/explain.py"
INDICATOR_KEY = "indicator"
"""The query parameter naming the indicator explained (the scorecard cards' link; the same as
:data:`dashboard.links.INDICATOR_KEY`)."""


def split_options(indicator: str, department: str, *, channels: bool = False) -> list[str]:
    """How ``indicator``'s change in ``department`` can be split: by department for All, by
    channel when the rows carry channels (``channels``) and the indicator is computed per
    channel, by component for the complaint indicators.

    >>> split_options("complaints", "All"), split_options("complaints", "North")
    (['department', 'component'], ['component'])
    >>> split_options("csat", "North"), split_options("csat", "North", channels=True)
    ([], ['channel'])
    """
    from indicators.channels import CHANNEL_INDICATORS

    options = []
    if department == catalog.ALL_DEPARTMENTS:
        options.append("department")
    if channels and indicator in CHANNEL_INDICATORS:
        options.append("channel")
    if indicator in explain.COMPONENT_INDICATORS:
        options.append("component")
    return options


def why_no_split(indicator: str, department: str, *, channels: bool = False) -> str | None:
    """Why the page has nothing to split, in words; None when it has.

    >>> why_no_split("csat", "North").startswith("For one department, only the complaint")
    True
    """
    refusal = explain.why_not(indicator)
    if refusal:
        return refusal.replace(indicator, catalog.get(indicator).label, 1) + "."
    if not split_options(indicator, department, channels=channels):
        return ("For one department, only the complaint indicators split (by service "
                "component); choose All departments to see each department's part.")
    return None


def _label(indicator: str) -> str:
    return catalog.get(indicator).label


def _value(result: Explanation, value: float) -> str:
    return format_indicator(value, result.indicator)


def _change(result: Explanation, change: float) -> str:
    return format_delta(0.0, change, catalog.get(result.indicator).unit) or ""


def headline(result: Explanation) -> str:
    """The change in one sentence (the month compared with, or the plan).

    >>> from indicators.explain import Explanation
    >>> headline(Explanation("complaints", "North", "component", "2025-12", "target", 12.0,
    ...                      12.0, ()))
    'Complaints are 12 in 2025-12, exactly as planned (12).'
    """
    label, now, then = _label(result.indicator), result.value_after, result.value_before
    change = _change(result, result.total_change)
    if result.compared_with == explain.TARGET:
        verb = "are" if label.endswith("s") else "is"
        if now == then:
            return (f"{label} {verb} {_value(result, now)} in {result.month}, exactly as "
                    f"planned ({_value(result, then)}).")
        return (f"{label} {verb} {_value(result, now)} in {result.month} against "
                f"{_value(result, then)} planned ({change}).")
    if now == then:
        return (f"{label} stayed at {_value(result, now)} from {result.compared_with} to "
                f"{result.month}.")
    verb = "rose" if now > then else "fell"
    return (f"{label} {verb} from {_value(result, then)} in {result.compared_with} to "
            f"{_value(result, now)} in {result.month} ({change}).")


def is_ratio(result: Explanation) -> bool:
    """Whether the parts carry mix and rate effects (a ratio split by department)."""
    return any(not math.isnan(p.mix_effect) for p in result.parts)


def biggest(result: Explanation) -> str | None:
    """The segment that moved it most, with its effects for a ratio; None without parts.

    >>> from indicators.explain import Explanation, Part
    >>> biggest(Explanation("csat", "All", "department", "2025-12", "2025-11", 85.0, 80.0,
    ...                     (Part("South", 80, 40, -32.0, -18.0, -14.0),)))
    'Most of it: South, -32.0 pp (its weight moved: -18.0 pp; its own rate: -14.0 pp).'
    """
    moved = [p for p in result.parts if p.contribution != 0]
    if not moved:
        return None
    top = max(moved, key=lambda p: (abs(p.contribution), p.segment))
    text = f"Most of it: {md_text(top.segment)}, {_change(result, top.contribution)}"
    if not math.isnan(top.mix_effect) and result.compared_with != explain.TARGET:
        text += (f" (its weight moved: {_change(result, top.mix_effect)}; its own rate: "
                 f"{_change(result, top.rate_effect)})")
    return text + "."


def effects(result: Explanation) -> str | None:
    """For a ratio against a month: how much of the change is mix and how much rates."""
    if not is_ratio(result) or result.compared_with == explain.TARGET:
        return None
    mix = sum(p.mix_effect for p in result.parts)
    rate = sum(p.rate_effect for p in result.parts)
    return (f"Mix effect (the {SPLITS.get(result.by, result.by)}s' weights moved): "
            f"{_change(result, mix)} · rate effect (their own rates moved): "
            f"{_change(result, rate)}.")


def waterfall_steps(result: Explanation, *, top: int = WATERFALL_STEPS) -> list[tuple[str, float]]:
    """``(segment, contribution)``, largest first (ties by name); beyond ``top`` one step
    "N other segments" carrying the rest, so the steps always add up to the change.
    Segments that did not move are left out."""
    moved = sorted((p for p in result.parts if p.contribution != 0),
                   key=lambda p: (-abs(p.contribution), p.segment))
    steps = [(p.segment, p.contribution) for p in moved[:top]]
    rest = moved[top:]
    if rest:
        steps.append((f"{len(rest)} other segments", sum(p.contribution for p in rest)))
    return steps


def start_label(result: Explanation) -> str:
    return "planned" if result.compared_with == explain.TARGET else result.compared_with


def table_frame(result: Explanation) -> pd.DataFrame:
    """The parts as people read them: before, after and each contribution in the card's units
    (mix and rate for a ratio against a month)."""
    then = "Planned" if result.compared_with == explain.TARGET else result.compared_with

    def row(p: Part) -> dict[str, str]:
        out = {SPLITS.get(result.by, result.by).capitalize(): p.segment,
               then: _value(result, p.before), result.month: _value(result, p.after),
               "Contribution": _change(result, p.contribution)}
        if is_ratio(result) and result.compared_with != explain.TARGET:
            out["Mix effect"] = _change(result, p.mix_effect)
            out["Rate effect"] = _change(result, p.rate_effect)
        return out

    rows = [row(p) for p in sorted(result.parts, key=lambda p: (-abs(p.contribution),
                                                                p.segment))]
    total = Part("Total", result.value_before, result.value_after, result.total_change,
                 sum(p.mix_effect for p in result.parts), sum(p.rate_effect for p in result.parts))
    rows.append(row(total))
    return pd.DataFrame(rows)
