"""The targets editor for people: indicators by name and unit, departments from the data,
incomplete rows listed and refused (never dropped), an unknown department saved only when
confirmed, and the route of the edited target drawn before saving.

The fixture database (``tests/app/conftest.py``) holds North and South and one target: CSAT
for North, 70 by 2025-03 from a baseline of 60 in 2025-01.  Edits are seeded as the browser
sends them (``edited_rows`` / ``added_rows`` / ``deleted_rows`` under the editor's key).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import targets_editor
from dashboard.format import md_text
from indicators import catalog, store

CSAT = "Customer satisfaction (CSAT) · %"
REVENUE = "Revenue · money"
COMPLETE_ROW = {
    "indicator": REVENUE, "department": "South", "baseline_month": "2025-01",
    "target_month": "2025-06", "target": 50.0,
}


def stored(path: Path) -> tuple[pd.DataFrame, int]:
    """The stored targets and the number of upload-log entries."""
    con = store.connect(path, read_only=True)
    try:
        return store.read_targets(con), len(store.read_upload_log(con))
    finally:
        con.close()


def editor_page(fixture_db: Path, edits: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/targets.py").run()
    if edits is not None:
        at.session_state["targets_editor"] = {
            "edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits,
        }
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def save(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Save targets").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


# --- what the table shows -------------------------------------------------------------------


def test_indicators_are_shown_by_label_and_unit_never_by_id(fixture_db):
    at = editor_page(fixture_db)
    (editor,) = at.data_editor
    assert editor.value["indicator"].tolist() == [CSAT]
    config = json.loads(editor.proto.columns)
    options = config["indicator"]["type_config"]["options"]
    assert len(options) == len(catalog.INDICATOR_IDS) == 24 + 1 + 11  # the seeds', revenue at risk, the service manager's
    assert "Complaints per 100 purchases · per 100" in options
    assert "Response time (median) · minutes" in options
    assert not set(options) & set(catalog.INDICATOR_IDS)


def test_departments_are_chosen_from_the_data_and_the_star(fixture_db):
    at = editor_page(fixture_db)
    config = json.loads(at.data_editor[0].proto.columns)
    assert config["department"]["type_config"]["options"] == ["*", "North", "South"]


def test_labels_map_back_to_ids_and_text_is_trimmed():
    edited = pd.DataFrame({
        "indicator": [CSAT, "complaint_rate", None], "department": [" North ", "*", ""],
        "baseline_month": ["2025-01", "2025-02", None], "target_month": ["2025-06", "2025-09", ""],
        "target": [80.0, 2.0, float("nan")],
    })
    rows = targets_editor.from_editor(edited)
    assert rows["indicator"].tolist()[:2] == ["csat", "complaint_rate"]
    assert rows["department"].tolist()[:2] == ["North", "*"]
    assert rows.iloc[2][["indicator", "department", "target_month"]].isna().all()
    assert rows["tolerance"].isna().all()


def test_money_is_labelled_with_the_currency_when_one_is_set():
    assert targets_editor.indicator_label("revenue") == "Revenue · money"
    assert targets_editor.indicator_label("revenue", currency="€") == "Revenue · €"
    assert targets_editor.indicator_label("average_ticket", currency="EUR") == "Average ticket · EUR"


# --- incomplete rows --------------------------------------------------------------------------


def test_an_incomplete_row_is_listed_and_nothing_is_saved(fixture_db):
    before = stored(fixture_db)
    partial = {"indicator": REVENUE, "department": "South", "baseline_month": "2025-01"}
    at = editor_page(fixture_db, {"added_rows": [partial]})
    # The stored target is row 1, the added one row 2.
    assert "Row 2: no target month or target" in texts(at.warning)
    save(at)
    assert "Targets not saved: 1 incomplete row (2)" in texts(at.error)
    assert not at.success
    after = stored(fixture_db)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1]  # not even a rejected entry in the upload log


def test_an_empty_added_row_is_listed_too_and_a_blanked_cell_is_missing(fixture_db):
    before = stored(fixture_db)
    at = editor_page(fixture_db, {"edited_rows": {0: {"department": None}}, "added_rows": [{}]})
    warning = texts(at.warning)
    assert "Row 1: no department" in warning
    assert "Row 2 is empty: fill it in or delete it" in warning
    save(at)
    assert "Targets not saved: 2 incomplete rows (1, 2)" in texts(at.error)
    pd.testing.assert_frame_equal(stored(fixture_db)[0], before[0])


def test_once_the_row_is_complete_both_targets_are_saved(fixture_db):
    at = save(editor_page(fixture_db, {"added_rows": [COMPLETE_ROW]}))
    assert not at.warning and not at.error
    assert "Saved 2 targets." in texts(at.success)  # the stored one and the added one
    targets, _ = stored(fixture_db)
    assert targets[["indicator", "department", "target"]].values.tolist() == [
        ["csat", "North", 70.0], ["revenue", "South", 50.0],
    ]


def test_a_deleted_incomplete_row_no_longer_blocks_saving(fixture_db):
    edits = {"edited_rows": {0: {"department": None}}, "deleted_rows": [0],
             "added_rows": [COMPLETE_ROW]}
    at = save(editor_page(fixture_db, edits))
    assert "Saved 1 target." in texts(at.success)  # the stored row was deleted, one added
    assert stored(fixture_db)[0]["indicator"].tolist() == ["revenue"]


def test_problems_found_on_saving_are_numbered_as_the_table_shows_rows(fixture_db):
    late = {**COMPLETE_ROW, "baseline_month": "2025-09"}  # the target month comes before it
    at = save(editor_page(fixture_db, {"added_rows": [late]}))
    assert "Targets not saved" in texts(at.error)
    (problems,) = [d.value for d in at.dataframe if d.editing_mode == "read_only"]
    assert problems.columns.tolist() == ["Row", "Column", "Value", "Problem"]
    assert problems["Row"].tolist() == [2]  # the file's row 3 (a header first) is the table's 2
    assert problems["Column"].tolist() == ["Target month"]


# --- departments without data -----------------------------------------------------------------


@pytest.fixture
def atlantis(fixture_db):
    return editor_page(fixture_db, {"added_rows": [{**COMPLETE_ROW, "department": "Atlantis"}]})


def test_an_unknown_department_is_refused_without_the_confirmation(fixture_db, atlantis):
    before = stored(fixture_db)
    assert "No data for “Atlantis”: check the spelling" in texts(atlantis.warning)
    (box,) = atlantis.checkbox
    assert box.label == "I know this department has no data yet" and not box.value
    save(atlantis)
    assert "Targets not saved: no data for “Atlantis”" in texts(atlantis.error)
    pd.testing.assert_frame_equal(stored(fixture_db)[0], before[0])


def test_an_unknown_department_is_saved_when_confirmed(fixture_db, atlantis):
    atlantis.checkbox[0].check().run()
    save(atlantis)
    assert "Saved 2 targets." in texts(atlantis.success)
    # The save's own report warns, as for a targets file (shown as text: markdown escaped).
    expected = "targets for 1 department without any data: 'Atlantis'"
    assert md_text(expected) in texts(atlantis.warning)
    assert sorted(stored(fixture_db)[0]["department"]) == ["Atlantis", "North"]


def test_a_confirmation_holds_only_for_the_names_it_was_given_for(fixture_db, atlantis):
    atlantis.checkbox[0].check().run()
    atlantis.session_state["targets_editor"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{**COMPLETE_ROW, "department": "Atlantis"},
                       {**COMPLETE_ROW, "indicator": CSAT, "department": "Atlantiss"}],
    }
    atlantis.run()
    (box,) = atlantis.checkbox
    assert box.label == "I know these departments have no data yet" and not box.value
    save(atlantis)
    assert "Targets not saved" in texts(atlantis.error)


def test_a_department_without_data_can_be_added_to_the_choices(fixture_db):
    at = editor_page(fixture_db)
    at.text_input(key="targets_new_department").input("  New branch ").run()
    next(b for b in at.button if b.label == "Add to the choices").click().run()
    config = json.loads(at.data_editor[0].proto.columns)
    assert config["department"]["type_config"]["options"] == ["*", "North", "South", "New branch"]


# --- the route preview ------------------------------------------------------------------------


def planned_route(at: AppTest) -> list[float]:
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    (planned,) = [t for t in figure["data"] if t["name"] == "Planned route"]
    return planned["y"]


def test_the_preview_draws_the_stored_target_route(fixture_db):
    at = editor_page(fixture_db)
    assert at.selectbox(key="targets_preview_row").options == [
        "Row 1 · Customer satisfaction (CSAT) · % · North · 70.0 % by 2025-03"
    ]
    # 60 in 2025-01 to 70 in 2025-03: 60 + (70 - 60) × k ÷ 2 for k = 0, 1, 2.
    assert planned_route(at) == [60.0, 60 + 10 * 1 / 2, 70.0]


def test_the_preview_follows_an_edit_before_it_is_saved(fixture_db):
    before = stored(fixture_db)
    at = editor_page(fixture_db, {"edited_rows": {0: {"target": 80.0}}})
    assert planned_route(at) == [60.0, 60 + 20 * 1 / 2, 80.0]
    pd.testing.assert_frame_equal(stored(fixture_db)[0], before[0])


def test_the_preview_of_an_added_row_measures_its_baseline(fixture_db):
    added = {"indicator": REVENUE, "department": "North", "baseline_month": "2025-01",
             "target_month": "2025-03", "target": 100.0}
    at = editor_page(fixture_db, {"added_rows": [added, {}]})
    preview = at.selectbox(key="targets_preview_row")
    assert len(preview.options) == 2  # the empty row cannot be drawn
    preview.set_value(1).run()
    # North's revenue in 2025-01 is 10 + 20.5 = 30.5, the measured baseline.
    baseline = 10 + 20.5
    assert planned_route(at) == [baseline, baseline + (100 - baseline) / 2, 100.0]


def test_the_module_examples_hold():
    import doctest

    result = doctest.testmod(targets_editor)
    assert result.attempted >= 4 and result.failed == 0


def test_every_indicator_has_its_own_label():
    labels = targets_editor.indicator_options()
    assert list(labels.values()) == list(catalog.INDICATOR_IDS)
    assert labels["Retention rate · %"] == "retention_rate"
    assert labels["Resolution time (median) · hours"] == "resolution_time_median"


def test_the_editor_round_trips_the_stored_targets(fixture_db):
    con = store.connect(fixture_db, read_only=True)
    try:
        stored_targets = store.read_targets(con)
    finally:
        con.close()
    shown = targets_editor.to_editor(stored_targets)
    back = targets_editor.from_editor(shown)
    assert back["indicator"].tolist() == stored_targets["indicator"].tolist() == ["csat"]
    assert back[["target", "baseline"]].values.tolist() == [[70.0, 60.0]]
