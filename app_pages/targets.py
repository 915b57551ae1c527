"""Targets and settings: analysts edit the targets table (checked, with a preview of a route
before saving), the iceberg (where complaints are counted, who leaves), promises, zone."""

import hashlib

import pandas as pd
import streamlit as st

from dashboard import data, iceberg_panel, targets_editor, widgets
from dashboard.format import current_currency, md_text
from dashboard.route_words import route_words
from indicators import charts, store, units
from indicators.route import route_tables

st.title("Targets and settings")
widgets.freshness_line()
status = data.state()
if status.error:
    widgets.unavailable(status.error, busy=status.busy)
    st.stop()

st.subheader("Targets")
st.markdown(
    "One row per indicator and department (`*` = all departments together), each target in "
    "the unit its indicator names. Saving replaces every stored target; the whole table is "
    "checked first and nothing changes if any row is refused. Baseline empty = the value "
    "measured in the baseline month; tolerance empty = 10 % of the distance from baseline to "
    "target."
)
currency = current_currency()
currency_text = currency.symbol or currency.code
known = data.departments()[1:] if status.ready else []
stored = data.targets() if status.exists else pd.DataFrame(columns=list(targets_editor.COLUMNS))
added: list[str] = st.session_state.setdefault("_targets_added_departments", [])
with st.expander("Set a target for a department that has no data yet"):
    st.caption(
        "The name joins the department choices of the table. Add it before editing: the table "
        "is drawn again, and edits not yet saved are lost."
    )
    new_name = st.text_input("Department name", key="targets_new_department", max_chars=200)
    if st.button("Add to the choices", key="targets_add_department") and new_name.strip():
        added.append(new_name.strip())
labels = {c: targets_editor.COLUMN_LABELS[c] for c in targets_editor.COLUMNS}
edited = st.data_editor(
    targets_editor.to_editor(stored, currency=currency_text),
    num_rows="dynamic",
    hide_index=True,
    height="content",  # every target in view: no scrolling inside the table to find a row
    key="targets_editor",
    placeholder="—",
    # Nothing is required here: the editor would hold back an incomplete row without a word,
    # so every row comes through and incomplete ones are listed below instead.
    column_config={
        "indicator": st.column_config.SelectboxColumn(
            labels["indicator"], options=list(targets_editor.indicator_options(currency=currency_text)),
            help="The indicator, and the unit its target, baseline and tolerance are typed in.",
        ),
        "department": st.column_config.SelectboxColumn(
            labels["department"],
            options=targets_editor.department_options(known, [*stored["department"], *added]),
            help="A department with data, or * for all departments together.",
        ),
        "baseline_month": st.column_config.TextColumn(labels["baseline_month"], help="YYYY-MM"),
        "target_month": st.column_config.TextColumn(labels["target_month"], help="YYYY-MM"),
        "target": st.column_config.NumberColumn(labels["target"]),
        "baseline": st.column_config.NumberColumn(labels["baseline"], help="Empty = measured"),
        "tolerance": st.column_config.NumberColumn(labels["tolerance"], min_value=0.0),
        "shape": st.column_config.SelectboxColumn(
            labels["shape"], options=list(targets_editor.SHAPES),
            help="Empty = straight. Seasonal: the indicator's profile of the 12 months before "
            "the baseline month. Steps: the planned values in the Steps column.",
        ),
        "steps": st.column_config.TextColumn(
            labels["steps"], max_chars=2000,
            help="With shape steps: YYYY-MM=value; … for months after the baseline month and "
            "before the target month, e.g. 2025-03=120; 2025-06=150",
        ),
        "owner": st.column_config.TextColumn(
            labels["owner"], max_chars=200, help="Who answers for the target: a name or e-mail",
        ),
    },
)
rows = targets_editor.from_editor(edited, currency=currency_text)
incomplete = targets_editor.incomplete_rows(rows)
unknown = targets_editor.unknown_departments(rows, known)
if incomplete:
    st.warning(
        "**Incomplete rows: nothing is saved until each is filled in or deleted.**\n\n"
        + "\n".join(f"- {targets_editor.describe(r)}" for r in incomplete),
        icon=":material/edit_note:",
    )
confirmed = False
if unknown:
    names = ", ".join(f"“{md_text(d)}”" for d in unknown)
    st.warning(
        f"No data for {names}: check the spelling. A target for a department without data "
        "shows nothing until its files are loaded.",
        icon=":material/help:",
    )
    # The key names the departments: a confirmation holds for these names, not a later typo.
    digest = hashlib.sha256("\n".join(unknown).encode()).hexdigest()[:16]
    confirmed = st.checkbox(
        "I know this department has no data yet" if len(unknown) == 1
        else "I know these departments have no data yet",
        key=f"targets_confirm_{digest}",
    )

with st.container(border=True, key="target-preview"):
    st.markdown("**The route of a target, before saving**")
    choices = targets_editor.previewable_rows(rows)
    if not status.ready:
        st.caption("The preview needs data: load the month's files first.")
    elif not choices:
        st.caption("Fill in a row to see its route here.")
    else:
        pick = st.selectbox(
            "Target", choices, key="targets_preview_row",
            format_func=lambda i: targets_editor.row_title(rows, i, currency=currency_text),
        )
        one = rows.iloc[[pick]]
        indicator_table = data.indicators()
        try:
            preview_rows, preview_summary = route_tables(one, indicator_table)
            preview = preview_summary.iloc[0].to_dict()
        except ValueError as exc:
            st.info(f"Row {pick + 1} cannot be drawn yet: {md_text(exc)}")
        else:
            if preview_rows.empty:
                st.info(md_text(preview["note"] or "This target has no route to draw."))
            else:
                badge, words = st.columns([1, 5], vertical_alignment="center")
                with badge:
                    widgets.status_badge(preview["status"])
                words.markdown(route_words(preview).headline)
                widgets.chart(
                    charts.make_route_figure(preview_rows, preview, currency=currency),
                    "target-preview", key="target-preview-chart",
                )

if st.button("Save targets", type="primary"):
    refused = targets_editor.refusal(incomplete, unknown, confirmed=confirmed)
    if refused:
        st.error(refused, icon=":material/error:")
    else:
        try:
            result = data.save_targets(rows)
        except data.DatabaseUnavailable as exc:
            st.error(str(exc))
        else:
            if result.accepted:
                st.success(
                    f"Saved {result.rows:,} target{'' if result.rows == 1 else 's'}.",
                    icon=":material/check_circle:",
                )
                for warning in result.warnings:
                    st.warning(md_text(warning), icon=":material/warning:")
            else:
                st.error(f"Targets not saved: {md_text(result.message)}", icon=":material/error:")
                widgets.table(
                    targets_editor.problems_table(result.problems_frame()), "target-problems"
                )
widgets.download(stored, "targets", label="Download the stored targets (CSV)")

st.subheader("Settings")
current = data.settings() if status.ready else store.Settings()
departments = data.departments()[1:] if status.ready else []
left, middle, right = st.columns(3, border=True)
with left:
    iceberg_panel.draw(current)
with middle:
    scope = st.selectbox(
        "Promise for", [store.ANY_DEPARTMENT, *departments],
        format_func=lambda d: "every department (default)" if d == store.ANY_DEPARTMENT else d,
    )
    minutes = st.number_input(
        "Promised response time (minutes)", min_value=0.0,
        value=float(current.promise_for(scope)), step=5.0,
    )
    if st.button("Save promise"):
        widgets.save_setting("promised_minutes", minutes, department=scope)
with right:
    zones = data.time_zones()
    zone = st.selectbox(
        "Time zone", zones,
        index=zones.index(current.time_zone) if current.time_zone in zones else None,
        help=store.TIME_ZONE_CHANGE,
    )
    st.caption("A change moves stored events to their months in the new zone; if any moves, "
               "the undo history is cleared.")
    if st.button("Save time zone"):
        widgets.save_setting("time_zone", zone or "")

st.markdown("**Complaint handling**")
promise_box, holiday_box, fcr_box = st.columns(3, border=True)
with promise_box:
    complaint_scope = st.selectbox(
        "Complaint promise for", [store.ANY_DEPARTMENT, *departments], key="complaint-scope",
        format_func=lambda d: "every department (default)" if d == store.ANY_DEPARTMENT else d,
    )
    promise_days = st.number_input(
        "Resolved within (business days)", min_value=1, max_value=9999, step=1,
        value=int(current.complaint_promise_for(complaint_scope)), key="complaint-days",
        help="A complaint is resolved within the promise when it is resolved by the end of this "
        "many business days after the day it was opened (3 by default, the FCA's first band).",
    )
    if st.button("Save complaint promise"):
        widgets.save_setting("complaint_promise_days", promise_days, department=complaint_scope)
with holiday_box:
    holidays = st.text_area(
        "Holidays (not business days)", key="holidays",
        value=", ".join(d.isoformat() for d in current.holidays),
        help="Dates written YYYY-MM-DD, separated by commas or lines. Saturdays and Sundays are "
        "never business days.",
    )
    if st.button("Save holidays"):
        widgets.save_setting("holidays", holidays)
with fcr_box:
    fcr_days = st.number_input(
        "First-contact days", min_value=1, max_value=9999, step=1, value=int(current.fcr_days),
        key="fcr-days",
        help="A resolved complaint or answered request is resolved at the first contact when "
        "the customer makes no new contact in this many days after it (7 by default).",
    )
    if st.button("Save first-contact days"):
        widgets.save_setting("fcr_days", fcr_days)

st.markdown("**How numbers are written**")
money, volume = st.columns(2, border=True)
with money:
    symbol = st.text_input(
        "Currency symbol", value=current.currency_symbol, max_chars=store.MAX_CURRENCY_SYMBOL,
        key="currency_symbol", help="Written before money figures (€1,235). Empty = none.",
    )
    code = st.text_input(
        "Currency code", value=current.currency_code, max_chars=3, key="currency_code",
        help="ISO 4217, e.g. EUR: written after money figures (1,235 EUR) when there is no "
        "symbol. Empty = none.",
    )
    example = units.number_text(
        1234.5, "money", currency=units.Currency(symbol.strip(), code.strip().upper())
    )
    st.caption(f"Money reads: {md_text(example)} (no cents from 1,000 on, 12.50 below).")
    if st.button("Save currency"):
        widgets.save_settings({"currency_symbol": symbol, "currency_code": code.strip().upper()})
with volume:
    min_volume = st.number_input(
        "Minimum rows to rank a department", min_value=0, value=int(current.min_volume), step=1,
        key="min_volume",
        help="A department with fewer rows in the month (of the indicator's data) is listed "
        "but not ranked, flagged n = 4. 0 ranks every department.",
    )
    if st.button("Save minimum volume"):
        widgets.save_setting("min_volume", int(min_volume))
    threshold = st.number_input(
        "Unusual from (MAD)", min_value=0.0, value=float(current.unusual_threshold), step=0.5,
        key="unusual_threshold",
        help="How far from its usual value (median absolute deviations from the median of its "
        "own history) a value must lie to be flagged unusual; values from fewer rows than the "
        "minimum above are never flagged. 5 by default.",
    )
    if st.button("Save unusual threshold"):
        widgets.save_setting("unusual_threshold", threshold)
