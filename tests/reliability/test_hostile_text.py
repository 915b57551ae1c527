"""Hostile text: department names built to run SQL or script are stored verbatim, shown as plain
text on every page, and exported CSV cells that a spreadsheet would run are neutralised.

The names go in the way analysts' data does, through ingest (parameterised SQL); the pages are
run with AppTest (the text must appear literally).  The browser side (no dialog, no injected
element) is in ``test_app_server.py``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.format import WORD_JOINER
from indicators import export, store
from tests.reliability.procs import count, ingest_now, many_purchases, purchases_csv

ROOT = Path(__file__).resolve().parents[2]
SQL = "x'); DROP TABLE purchases; --"
HTML = "<img src=x onerror=alert(1)><script>alert(2)</script>"
HOSTILE = (SQL, HTML)
PAGES = (
    "app_pages/overview.py", "app_pages/route.py", "app_pages/quality.py",
    "app_pages/quantity.py", "app_pages/opportunity.py", "app_pages/price.py",
    "app_pages/upload.py", "app_pages/targets.py",
)


def hostile_db(path: Path, folder: Path) -> Path:
    """Purchases and a target for both hostile departments (and one plain one), via ingest."""
    rows = many_purchases("n", "North", "2025-01", 4)
    for i, name in enumerate(HOSTILE):
        rows += many_purchases(f"h{i}-", name, "2025-01", 3) + many_purchases(f"g{i}-", name, "2025-02", 2)
    targets = folder / "targets.csv"
    frame = pd.DataFrame({
        "indicator": ["purchases"] * 2, "department": list(HOSTILE),
        "baseline_month": ["2025-01"] * 2, "target_month": ["2025-06"] * 2, "target": [10, 10],
    })
    frame.to_csv(targets, index=False)
    ingest_now(path, purchases_csv(folder / "hostile.csv", rows), targets)
    return path


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = hostile_db(tmp_path / "service.duckdb", tmp_path)
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def test_hostile_names_are_stored_verbatim_and_nothing_ran(db):
    con = store.connect(db, read_only=True)
    try:
        stored = {r[0] for r in con.execute("SELECT DISTINCT department FROM purchases").fetchall()}
    finally:
        con.close()
    assert stored == {"North", *HOSTILE}
    assert count(db) == 4 + 2 * 5


def unescaped(markdown: str) -> str:
    """Markdown source as the reader sees it: backslash escapes and invisible word joiners
    (which keep ``--`` from being typeset as a dash) removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def visible_text(at: AppTest) -> str:
    """Every text the page shows: markdown-like elements unescaped, table cells as they are."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning",
                 "success", "error"):
        parts += [unescaped(str(e.value)) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.text]
    for frame in at.dataframe:
        parts += [str(v) for v in frame.value.astype(str).to_numpy().ravel()]
    for editor in at.get("arrow_data_frame"):
        parts += [str(v) for v in editor.value.astype(str).to_numpy().ravel()]
    return "\n".join(parts)


@pytest.mark.parametrize("name", HOSTILE, ids=["sql", "html"])
def test_every_page_shows_a_hostile_name_as_plain_text(db, name):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert set(HOSTILE) <= set(at.sidebar.selectbox(key="department").options)
    at.sidebar.selectbox(key="department").set_value(name).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.sidebar.selectbox(key="department").value == name, page
        assert name in visible_text(at), page
    assert count(db) == 4 + 2 * 5  # the purchases table is still there, whole


# --- CSV export --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "department",
    ["=1+1", "-5", "+5", "@SUM(A1)", "\t=1", "\r=1", "North\r=1", "North\n=1",
     "=HYPERLINK(\"http://x\")", SQL, HTML],
)
def test_an_exported_department_is_text_and_a_negative_value_stays_a_number(department):
    frame = pd.DataFrame({"department": [department], "value": [-5.0], "count": [-3]})
    text = export.to_csv_bytes(frame).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    cell = back["department"].iloc[0]
    assert not str(cell).startswith(export.FORMULA_PREFIXES), cell
    # only quotes were added, each before a formula start (a field can begin after ; or a tab)
    assert re.sub(r"'(?=[-=+@\t\r])", "", str(cell)) == department
    assert back["value"].iloc[0] == -5.0 and back["count"].iloc[0] == -3
    assert back["value"].dtype == "float64" and back["count"].dtype == "int64"
