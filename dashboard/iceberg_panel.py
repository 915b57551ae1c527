"""The analysts' iceberg settings: where complaints are counted (front line ×2, head office ×25,
or a custom factor), each with its evidence, and the share of dissatisfied customers who leave
(:mod:`indicators.iceberg`).  Saved together, all or none, through :mod:`dashboard.data`, which
checks the role again; the stored indicators follow in the same transaction.
"""

from __future__ import annotations

import streamlit as st

from dashboard import widgets
from indicators import iceberg, store

CHOICES: tuple[str, ...] = tuple(iceberg.COUNTED_AT)


def option_caption(counted_at: str, *, custom: float) -> str:
    """The words under one choice: its factor, its range on the evidence and why.

    >>> option_caption("head_office", custom=10.0)
    '×25 (×20–×100 on the evidence): only 1–5 % of the customers with a problem reach head office'
    >>> option_caption("custom", custom=12.5)
    '×12.5 now: your own number of dissatisfied customers per complaint'
    """
    choice = iceberg.COUNTED_AT[counted_at]
    factor = iceberg.factor(counted_at, custom=custom)
    span = iceberg.factor_range(counted_at)
    words = f"×{factor:g}" + (" now" if choice.factor is None else "")
    if span is not None:
        words += f" (×{span[0]:g}–×{span[1]:g} on the evidence)"
    return f"{words}: {choice.gist}"


def evidence_help() -> str:
    """The help text of the choice: every option's evidence and where it comes from."""
    lines = [f"**{c.title}**: {c.evidence}" for c in iceberg.COUNTED_AT.values()]
    return "\n\n".join([*lines, f"Source: {iceberg.CITATION}; docs/indicators.md lists them."])


def values_to_save(counted_at: str, custom: float, leave_share: float) -> dict[str, str | float]:
    """The settings the panel's button writes: the custom factor only with ``custom``.

    >>> values_to_save("front_line", 10.0, 30.0)
    {'iceberg_counted_at': 'front_line', 'dissatisfied_leave_share': 30.0}
    """
    values: dict[str, str | float] = {"iceberg_counted_at": counted_at}
    if counted_at == "custom":
        values["iceberg_factor"] = custom
    values["dissatisfied_leave_share"] = leave_share
    return values


def draw(current: store.Settings) -> None:
    """The panel: the choice with its evidence, the custom factor when chosen, the leave share
    and the button that saves them."""
    counted_at = st.radio(
        "Complaints are counted at", CHOICES, index=CHOICES.index(current.iceberg_counted_at),
        format_func=lambda c: iceberg.COUNTED_AT[c].title, key="iceberg_counted_at",
        captions=[option_caption(c, custom=current.custom_iceberg_factor) for c in CHOICES],
        help=evidence_help(),
    )
    custom = current.custom_iceberg_factor
    if counted_at == "custom":
        custom = st.number_input(
            "Iceberg factor (custom)", min_value=0.0, value=float(custom), step=1.0,
            key="iceberg_factor",
            help="Dissatisfied customers per complaint, from your own evidence (10 unless set).",
        )
    leave_share = st.number_input(
        "Dissatisfied customers who leave (%)", min_value=0.0, max_value=100.0,
        value=float(current.dissatisfied_leave_share), step=5.0, key="dissatisfied_leave_share",
        help=iceberg.LEAVE_SHARE_EVIDENCE,
    )
    if st.button("Save iceberg"):
        widgets.save_settings(values_to_save(counted_at, custom, leave_share))
