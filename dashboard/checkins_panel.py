"""A target's story on its route card: owner, check-ins (asserted beside computed) and notes on
events, with the forms to add them for those the role rule lets write.

The words and the chart marks are pure functions (tested without Streamlit); :func:`story`
draws them.  The role rule is :mod:`indicators.checkins`' (checked again where it is written,
:mod:`dashboard.writes`): analysts always; team leads for their own departments; a target's
owner for that target.  Every stored text is shown through :func:`dashboard.format.md_text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth, data
from dashboard.format import md_text
from indicators import catalog, checkins, store

ALL = catalog.ALL_DEPARTMENTS


def _stored_department(department: str) -> str:
    return store.ANY_DEPARTMENT if department == ALL else department


def of_target(frame: pd.DataFrame, indicator: str, department: str) -> pd.DataFrame:
    """The check-ins of one target, oldest first (the frame's own order is month, then when)."""
    if frame.empty:
        return frame
    keep = (frame["indicator"] == indicator) & (frame["department"] == department)
    return frame[keep].reset_index(drop=True)


notes_for = checkins.notes_applying
"""The event notes that belong on a chart of an indicator in a department."""


def checkin_line(row: Mapping[str, Any], computed: str | None) -> str:
    """One check-in in words: month, the status asserted and (when it differs) the computed one,
    the note, who.

    >>> checkin_line({"month": "2025-11", "status": "off track", "note": "two agents on leave",
    ...               "author": "lead@x.org"}, "at risk")
    '2025-11 · off track (computed: at risk) — two agents on leave · lead@x.org'
    """
    status = str(row["status"])
    if computed and computed != status:
        status += f" (computed: {computed})"
    author = row.get("author")
    by = f" · {author}" if isinstance(author, str) and author else ""
    return f"{row['month']} · {status} — {row['note']}{by}"


def marks(checkins_of_target: pd.DataFrame, notes: pd.DataFrame) -> tuple[
    list[tuple[str, str]], list[tuple[str, str]]
]:
    """``(check-in marks, note marks)`` for :func:`indicators.charts.make_route_figure`: the latest
    check-in only (the card's story lists the rest) and every note."""
    latest = []
    if not checkins_of_target.empty:
        last = checkins_of_target.iloc[-1]
        latest = [(str(last["month"]), f"check-in: {last['status']} — {last['note']}")]
    return latest, [(str(m), str(n)) for m, n in zip(notes["month"], notes["note"], strict=True)]


def may_write_checkin(row: Mapping[str, Any], who: auth.Access) -> bool:
    owner = row.get("owner")
    return checkins.may_write_checkin(
        who.role, who.departments, who.user, department=_stored_department(str(row["department"])),
        owner=owner if isinstance(owner, str) else None)


def may_write_note(department: str, who: auth.Access) -> bool:
    return checkins.may_write_note(who.role, who.departments,
                                   department=_stored_department(department))


def story(
    row: Mapping[str, Any], history: pd.DataFrame, notes: pd.DataFrame,
    computed: Mapping[str, str], months: Sequence[str],
) -> None:
    """Owner and latest check-in on the card; the history, the notes and the forms in an
    expander, drawn once it is opened.

    ``computed`` maps a month to the route's status then; ``months`` are the route's months (the
    choices of a form, the latest month with data preselected)."""
    owner = row.get("owner")
    st.caption(f":material/person: Owner: {md_text(owner)}" if isinstance(owner, str) and owner
               else ":material/person: No owner named yet (set one on the Targets page).")
    if not history.empty:
        last = history.iloc[-1].to_dict()
        st.info(md_text("Latest check-in: "
                        + checkin_line(last, computed.get(str(last["month"])))),
                icon=":material/flag:")
    key = f"{row['indicator']}-{row['department']}"
    who = auth.current()
    # Drawn when opened (on_change="rerun"): a page of cards draws no forms until asked.
    # A fixed label: a label that changed with the counts would close it after each save.
    opened = st.expander("Check-ins and notes", icon=":material/forum:", key=f"story-{key}",
                         on_change="rerun")
    if not opened.open:
        return
    with opened:
        for item in history.iloc[::-1].to_dict("records"):
            st.markdown("- " + md_text(checkin_line(item, computed.get(str(item["month"])))))
        for item in notes.to_dict("records"):
            where = "every indicator" if pd.isna(item["indicator"]) else "this indicator"
            st.markdown("- " + md_text(f"{item['month']} · note ({where}, {item['department']}): "
                                       f"{item['note']}"))
        if history.empty and notes.empty:
            st.caption("No check-ins or notes yet.")
        latest = row.get("latest_month")
        default = months.index(latest) if isinstance(latest, str) and latest in months else \
            len(months) - 1
        if may_write_checkin(row, who) and months:
            _checkin_form(row, key, months, default, computed)
        if may_write_note(str(row["department"]), who) and months:
            _note_form(row, key, months, default, who)


def _checkin_form(row: Mapping[str, Any], key: str, months: Sequence[str], default: int,
                  computed: Mapping[str, str]) -> None:
    with st.form(f"checkin-form-{key}", clear_on_submit=True, border=True):
        st.markdown("**Add a check-in**")
        month = st.selectbox("Month", months, index=default, key=f"checkin-month-{key}")
        suggested = computed.get(str(months[default]))
        statuses = list(checkins.CHECKIN_STATUSES)
        status = st.selectbox(
            "Status you assert", statuses,
            index=statuses.index(suggested) if suggested in statuses else 0,
            key=f"checkin-status-{key}")
        note = st.text_area("Why, and what is being done", max_chars=checkins.MAX_NOTE_CHARS,
                            key=f"checkin-note-{key}",
                            placeholder="off track: two agents on leave; hiring in March")
        if st.form_submit_button("Save the check-in", icon=":material/flag:"):
            _saved(lambda: data.add_checkin(
                indicator=str(row["indicator"]), department=_stored_department(
                    str(row["department"])), month=str(month), status=str(status), note=note))


def _note_form(row: Mapping[str, Any], key: str, months: Sequence[str], default: int,
               who: auth.Access) -> None:
    label = catalog.get(str(row["indicator"])).label
    with st.form(f"note-form-{key}", clear_on_submit=True, border=True):
        st.markdown("**Add a note on an event**")
        month = st.selectbox("Month", months, index=default, key=f"note-month-{key}")
        every_indicator = st.checkbox(f"For every indicator, not only {label}",
                                      key=f"note-all-{key}")
        every_department = False
        if who.departments is None and row["department"] != ALL:
            every_department = st.checkbox("For every department", key=f"note-everywhere-{key}")
        note = st.text_area("What happened", max_chars=checkins.MAX_NOTE_CHARS,
                            key=f"note-text-{key}", placeholder="new ticket system")
        if st.form_submit_button("Save the note", icon=":material/sticky_note_2:"):
            department = ALL if every_department else str(row["department"])
            _saved(lambda: data.add_note(
                month=str(month), note=note,
                indicator=None if every_indicator else str(row["indicator"]),
                department=_stored_department(department)))


def _saved(save: Any) -> None:
    try:
        save()
    except (checkins.CheckinError, checkins.CheckinForbidden, auth.Forbidden,
            data.DatabaseUnavailable) as exc:
        st.error(md_text(str(exc)))
        return
    st.toast("Saved.", icon=":material/check:")
    st.rerun()


def route_months(rows: pd.DataFrame) -> list[str]:
    """The months a form offers: the route's, from the baseline month on."""
    return [str(m) for m in rows["month"]]


LATEST_CHECKIN_COLUMNS: tuple[str, ...] = (
    "checkin_month", "checkin_status", "checkin_note", "checkin_author",
)
"""What the route summary's download adds per target: its latest check-in."""


def with_latest_checkin(summary: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each target's latest check-in (empty cells without one)."""
    frame = summary.reset_index(drop=True)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in history.to_dict("records"):  # oldest first: the last one stays
        latest[(str(item["indicator"]), str(item["department"]))] = item
    picked = [latest.get((str(i), str(d)), {})
              for i, d in zip(frame["indicator"], frame["department"], strict=True)]
    extra = {column: pd.Series([p.get(column.removeprefix("checkin_")) for p in picked],
                               dtype=object)
             for column in LATEST_CHECKIN_COLUMNS}
    return frame.assign(**extra)


STORY_COLUMNS: tuple[str, ...] = (
    "kind", "month", "indicator", "department", "status", "note", "author", "written_at",
)


def story_table(history: pd.DataFrame, notes: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Every check-in and note in one table, by month (the page's table and its download)."""
    parts = []
    if not history.empty:
        parts.append(history.assign(kind="check-in"))
    if not notes.empty:
        parts.append(notes.assign(kind="note", status=None))
    if not parts:
        return pd.DataFrame(columns=list(STORY_COLUMNS)), "checkins-and-notes"
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["month", "kind", "written_at"], kind="mergesort")
    frame["written_at"] = frame["written_at"].astype(str)
    return frame[list(STORY_COLUMNS)].reset_index(drop=True), "checkins-and-notes"
