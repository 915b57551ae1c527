"""The analysts' panel for complete months: what is missing, marking by hand, what is expected.

A month is complete for a department when every dataset it is expected to deliver has rows in
it (:mod:`indicators.completeness`).  Here an analyst sees the recent months that are not (and
the ones marked complete by hand), marks one complete when a dataset is really empty that month
(no complaints in a quiet month is a real zero), or removes the mark, and sets which datasets a
department is expected to deliver.  Every write goes through :mod:`dashboard.data`, which
checks the role again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, widgets
from dashboard.format import md_text
from indicators import catalog, store
from indicators.completeness import MarkError, describe_missing
from indicators.schema import MONTH_DATASETS

RECENT_MONTHS = 24
"""How many of the newest months the panel lists."""
_DONE_KEY = "months-panel-done"
"""What the last change did, shown after the rerun that redraws the panel with it."""

EVERY = "every department (default)"


def open_months(status: pd.DataFrame, *, recent: int = RECENT_MONTHS) -> pd.DataFrame:
    """The rows of a completeness frame within the ``recent`` newest months that are incomplete
    or marked complete by hand, newest first (All first within a month), with ``what`` in words.

    >>> s = pd.DataFrame({"month": ["2025-01", "2025-02", "2025-02"],
    ...                   "department": ["All", "All", "North"], "complete": [True, False, False],
    ...                   "missing": [(), ("surveys",), ("surveys",)], "marked": [False] * 3,
    ...                   "incomplete_departments": [(), ("North",), ()]})
    >>> open_months(s)["what"].tolist()
    ['surveys not yet loaded for 2025-02 (North)', 'surveys not yet loaded for 2025-02']
    """
    months = sorted(set(status["month"]), reverse=True)[:recent]
    rows = status[status["month"].isin(months)
                  & (~status["complete"].astype(bool) | status["marked"].astype(bool))]
    rows = rows.assign(
        _all=rows["department"] != catalog.ALL_DEPARTMENTS,
        what=[
            "marked complete by hand" if marked
            else describe_missing(missing, month, departments=tuple(gone))
            for month, missing, marked, gone in zip(
                rows["month"], rows["missing"], rows["marked"].astype(bool),
                rows["incomplete_departments"], strict=True,
            )
        ],
    )
    rows = rows.sort_values(["month", "_all", "department"], ascending=[False, True, True])
    return rows.drop(columns=["_all"]).reset_index(drop=True)


def _entry_label(row: pd.Series) -> str:
    where = "All (every department)" if row["department"] == catalog.ALL_DEPARTMENTS else row["department"]
    return f"{row['month']} · {where} — {row['what']}"


def panel() -> None:
    """The panel (analysts only; nothing for anyone else or without data)."""
    if not auth.current().can_edit or not data.state().ready:
        return
    st.subheader("Complete months")
    done = st.session_state.pop(_DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    st.markdown(
        "The dashboard opens on the latest **complete** month: one in which every dataset a "
        "department has delivered before (or is expected to deliver, below) has rows. Mark a "
        "month complete when a dataset is really empty that month; marking *All* marks every "
        "department."
    )
    listed = open_months(data.completeness())
    if listed.empty:
        st.caption(f"Every one of the last {RECENT_MONTHS} months is complete.")
    else:
        widgets.table(
            listed[["month", "department", "what"]], "incomplete-months",
            column_config={"month": "Month", "department": "Department", "what": "Status"},
        )
        _mark(listed)
    _expected()


def _mark(listed: pd.DataFrame) -> None:
    # (month, department) as the option: the choice stays on its row when the list changes.
    rows = {(r["month"], r["department"]): r for _, r in listed.iterrows()}
    choice = st.selectbox(
        "Month and department", list(rows), key="months-panel-entry",
        format_func=lambda key: _entry_label(rows[key]),
    )
    if choice is None:
        return
    row = rows[choice]
    marked = bool(row["marked"])
    label = "Remove the mark" if marked else "Mark complete"
    if st.button(label, key="months-panel-mark"):
        try:
            data.mark_month_complete(row["month"], row["department"], not marked)
        except MarkError as exc:
            st.error(f"Not changed: {md_text(exc)}", icon=":material/error:")
        except data.DatabaseUnavailable as exc:
            st.error(str(exc))
        else:
            done = "no longer marked complete" if marked else "marked complete"
            _changed(f"{row['month']} {md_text(row['department'])}: {done}.")


def _expected() -> None:
    st.markdown("**Datasets each department is expected to deliver**")
    settings = data.settings()
    departments = [d for d in data.departments() if d != catalog.ALL_DEPARTMENTS]
    who = st.selectbox(
        "Department", [store.ANY_DEPARTMENT, *departments], key="months-panel-department",
        format_func=lambda d: EVERY if d == store.ANY_DEPARTMENT else d,
    )
    own = settings.expected_datasets.get(who, ())
    chosen = st.multiselect(
        "Expected datasets", list(MONTH_DATASETS), default=list(own),
        key=f"months-panel-expected-{who}",
        help="Empty: the datasets the department has delivered before"
        + ("." if who == store.ANY_DEPARTMENT else ", or the default if one is set."),
    )
    if not own:
        fallback = settings.expected_datasets.get(store.ANY_DEPARTMENT, ())
        if who != store.ANY_DEPARTMENT and fallback:
            st.caption(f"Not set: the default applies ({', '.join(fallback)}).")
        else:
            st.caption("Not set: every dataset the department has delivered before.")
    if st.button("Save expected datasets", key="months-panel-save-expected"):
        try:
            if chosen:
                data.save_setting("expected_datasets", ",".join(chosen), department=who)
            else:
                data.clear_expected_datasets(who)
        except store.SettingError as exc:
            st.error(f"Not saved: {md_text(exc)}", icon=":material/error:")
        except data.DatabaseUnavailable as exc:
            st.error(str(exc))
        else:
            whom = EVERY if who == store.ANY_DEPARTMENT else md_text(who)
            what = ", ".join(chosen) if chosen else "not set"
            _changed(f"Expected datasets for {whom}: {what}.")


def _changed(message: str) -> None:
    """Redraw the page with the change (the list above was drawn before it), then say so."""
    st.session_state[_DONE_KEY] = message
    st.rerun()
