"""Playwright drives Debian's Chromium against a running ``streamlit run app.py``.

The server runs on a free port with ``SERVICE_DB`` pointing at a fresh demo database; every
page is opened, the department filter is changed and must survive navigation and appear in the
URL, a good and a bad file are uploaded.  No page may show an exception box.  A screenshot of
every page lands in ``tests/browser/artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest

from tests.browser.conftest import ARTIFACTS, skip_without_chromium, streamlit_server

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "",
    "route": "route",
    "quality": "quality",
    "quantity": "quantity",
    "opportunity": "opportunity",
    "price": "price",
    "upload": "upload",
    "targets": "targets",
}
DEPARTMENT = "Call centre"

GOOD_CSV = (
    "purchase_id,purchased_at,customer_id,department,amount\n"
    "b1,2026-01-05T10:00:00,x1,Browser test,10.00\n"
    "b2,2026-01-06T11:00:00,x2,Browser test,20.50\n"
)
BAD_CSV = (
    "purchase_id,purchased_at,customer_id,department,amount\n"
    "z1,2026-01-05T10:00:00,x1,Browser test,-5\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    skip_without_chromium()
    from indicators import demo

    db = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    demo.run_cli(str(db))
    with streamlit_server(db) as base:
        yield base


def wait_idle(pg) -> None:
    """Wait until the page has a title and Streamlit's "Running…" widget is gone."""
    pg.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    pg.wait_for_timeout(300)
    pg.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=60_000)
    pg.wait_for_timeout(500)


def assert_no_exception(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def choose(pg, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label``."""
    sidebar_combo(pg, label).click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def sidebar_combo(pg, label: str):
    """The sidebar selectbox (a combobox) labelled ``label``."""
    return pg.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_opens_without_an_exception(server, page, name):
    page.goto(f"{server}/{PAGES[name]}")
    wait_idle(page)
    shot(page, name)
    assert_no_exception(page)
    assert sidebar_combo(page, "Department").input_value() == "All"


def test_department_filter_sticks_across_navigation_and_in_the_url(server, page):
    page.goto(server)
    wait_idle(page)
    choose(page, "Department", DEPARTMENT)
    assert f"department={DEPARTMENT}" in unquote_plus(page.url)

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Quality").click()
    wait_idle(page)
    assert "/quality" in page.url
    assert f"department={DEPARTMENT}" in unquote_plus(page.url)
    assert sidebar_combo(page, "Department").input_value() == DEPARTMENT
    assert_no_exception(page)
    shot(page, "quality-call-centre")

    # A copied link opens the same view in a new session.
    link = page.url
    fresh = page.context.new_page()
    fresh.goto(link)
    wait_idle(fresh)
    assert sidebar_combo(fresh, "Department").input_value() == DEPARTMENT
    assert fresh.get_by_role("heading", name="Quality").count() >= 1
    assert_no_exception(fresh)


def test_upload_a_good_and_a_bad_file(server, page, tmp_path):
    good = tmp_path / "browser_purchases.csv"
    bad = tmp_path / "browser_bad.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    bad.write_text(BAD_CSV, encoding="utf-8")

    page.goto(f"{server}/upload")
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [str(good), str(bad)]
    )
    page.get_by_text("browser_bad.csv").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Validate and load").click()
    page.get_by_text("nothing was stored").wait_for(timeout=60_000)
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_text("accepted as").count() == 1
    assert main.get_by_text("nothing was stored").count() == 1
    assert_no_exception(page)
    shot(page, "upload-result")

    # The new month is there without a restart, but a month of one department's purchases is
    # incomplete: the app still opens on 2025-12, and the new month is labelled when chosen.
    page.goto(server)
    wait_idle(page)
    assert sidebar_combo(page, "Month").input_value() == "2025-12"
    choose(page, "Month", "2026-01 · incomplete")
    assert "month=2026-01" in page.url
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Incomplete month:").first.wait_for(timeout=30_000)
    assert main.get_by_text("— not loaded").count() > 0
    assert main.get_by_text("Last loads: purchases").count() == 1
    assert_no_exception(page)
    shot(page, "incomplete-month")


def test_tables_export_only_through_the_neutralised_download(server, page):
    """A table's own toolbar offers no CSV download (nor a copy of its cells): that file would
    carry a department called ``=HYPERLINK(…)`` as a formula.  The download under every table
    (:func:`dashboard.widgets.table`) is neutralised and stays."""
    page.goto(f"{server}/quality")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    grid = main.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    grid.hover()
    toolbar = main.locator('[data-testid="stElementToolbar"]').filter(has=page.get_by_role(
        "button", name="Fullscreen")).first
    toolbar.wait_for(timeout=10_000)  # the table's toolbar is shown: its buttons are there
    assert toolbar.get_by_role("button", name="Download as CSV").count() == 0
    assert toolbar.get_by_role("button", name="Search").count() == 1
    assert main.get_by_role("button", name="Download CSV").count() >= 1
    assert_no_exception(page)
