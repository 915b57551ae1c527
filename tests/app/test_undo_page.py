"""AppTest: an analyst undoes an upload from the upload page; nobody else can.

The database holds two uploads of purchases, written out below: ``a.csv`` (#1: North and South
in January) and ``b.csv`` (#2: North in January again, replacing a.csv's North row).  Only #2
can be undone (#1 is overlapped by it); after #2's undo, #1 can.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.format import md_text
from indicators import ingest, store
from tests.app.test_roles import EXECUTIVE, LEAD_NORTH, SECRETS, as_user

UPLOAD = "app_pages/upload.py"
HEADER = "purchase_id,purchased_at,customer_id,department,amount\n"
A_CSV = HEADER + "p1,2025-01-05T10:00:00,c1,North,10\np2,2025-01-06T10:00:00,c2,South,20\n"
B_CSV = HEADER + "p3,2025-01-07T10:00:00,c3,North,30\np4,2025-01-08T10:00:00,c4,North,40\n"


@pytest.fixture
def two_uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "service.duckdb"
    con = store.connect(db)
    try:
        for name, text in (("a.csv", A_CSV), ("b.csv", B_CSV)):
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            assert ingest.ingest_file(con, path, user="ana").accepted
    finally:
        con.close()
    monkeypatch.setenv(store.DB_ENV, str(db))
    data.clear_caches()
    return db


def purchases(db: Path) -> list[tuple[str, str, float]]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(
            "SELECT purchase_id, department, amount FROM purchases ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def log_table(at: AppTest):
    (frame,) = [df.value for df in at.dataframe if "Outcome" in df.value.columns]
    return frame


def upload_page() -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(UPLOAD).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_analyst_undoes_an_upload_after_confirming(two_uploads):
    at = upload_page()
    log = log_table(at)
    assert list(log.columns) == [
        "#", "Uploaded (UTC)", "By", "File", "Dataset", "Slices replaced", "Rows", "Outcome",
        "Warnings", "Details",
    ]
    assert log[["#", "File", "Rows", "Outcome"]].values.tolist() == [
        [2, "b.csv", 2, "accepted"], [1, "a.csv", 2, "accepted"],
    ]
    choice = at.selectbox(key="undo_choice")
    assert choice.value == 2
    (label,) = choice.options  # #1 is overlapped by #2: not offered
    assert label.startswith("#2 · ") and label.endswith(" UTC · b.csv · purchases · 2025-01 North")

    at.button(key="undo_ask").click().run()
    (warning,) = [w.value for w in at.warning]
    assert warning == (
        f"Undo upload #2 (**{md_text('b.csv')}**, purchases)? This puts back the 1 row it "
        "replaced and removes the rows it loaded."
    )
    assert purchases(two_uploads) == [("p2", "South", 20.0), ("p3", "North", 30.0),
                                      ("p4", "North", 40.0)], "nothing changes before the yes"

    at.button(key="undo_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [
        md_text("undid upload #2 (b.csv): restored 1 row, removed 2 (logged as #3).")
    ]
    assert purchases(two_uploads) == [("p1", "North", 10.0), ("p2", "South", 20.0)]
    assert log_table(at)[["#", "Outcome"]].values.tolist() == [
        [3, "undo of #2"], [2, "accepted, undone by #3"], [1, "accepted"],
    ]
    (label,) = at.selectbox(key="undo_choice").options  # now #1 can be undone
    assert label.startswith("#1 · ") and "a.csv" in label
    assert not at.warning, "the confirmation is gone"


def test_cancel_changes_nothing(two_uploads):
    before = purchases(two_uploads)
    at = upload_page()
    at.button(key="undo_ask").click().run()
    assert at.warning
    at.button(key="undo_no").click().run()
    assert not at.warning and not at.success
    assert purchases(two_uploads) == before
    assert log_table(at)["Outcome"].tolist() == ["accepted", "accepted"]


def test_nothing_to_undo_is_said(two_uploads):
    con = store.connect(two_uploads)
    con.execute("DELETE FROM upload_slices")  # as if both were older than the kept loads
    con.close()
    at = upload_page()
    assert "undo_choice" not in [s.key for s in at.selectbox]
    assert "undo_ask" not in [b.key for b in at.button]
    assert any(c.value == "No upload can be undone now." for c in at.caption)


@pytest.mark.parametrize("email", [EXECUTIVE, LEAD_NORTH])
def test_executives_and_team_leads_cannot_reach_the_undo(two_uploads, email):
    at = as_user(email).run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(UPLOAD)


def _try_to_undo() -> None:
    """An AppTest script: call the glue's undo directly and say what happened."""
    import streamlit as st

    from dashboard import auth, data

    for name, attempt in (("undo", lambda: data.undo_upload(2)),
                          ("undoable", data.undoable_uploads)):
        try:
            attempt()
        except auth.Forbidden:
            st.text(f"{name}: forbidden")
        else:
            st.text(f"{name}: done")


@pytest.mark.parametrize("email", [EXECUTIVE, LEAD_NORTH])
def test_the_glue_refuses_an_undo_to_anyone_but_an_analyst(two_uploads, email):
    before = two_uploads.read_bytes()
    at = AppTest.from_function(_try_to_undo, default_timeout=60)
    at.secrets = json.loads(json.dumps(SECRETS))
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.text] == ["undo: forbidden", "undoable: forbidden"]
    assert two_uploads.read_bytes() == before
    assert purchases(two_uploads) == [("p2", "South", 20.0), ("p3", "North", 30.0),
                                      ("p4", "North", 40.0)]


def test_the_log_helpers_examples_hold():
    import doctest

    from dashboard import uploads

    result = doctest.testmod(uploads)
    assert result.attempted == 5 and result.failed == 0
