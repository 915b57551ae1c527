"""The app on a phone, in Chromium at 390 × 844 (touch, mobile viewport): the sidebar starts
collapsed and collapses after navigating, the department and month are on the first screen of
every page, scorecard cards go two to a row, and charts show no toolbar.  A desktop at 1440 px
is the control: there the sidebar stays open and the toolbar is there.

Chromium's own user agent is used, which Streamlit does not take for a phone (it closes the
sidebar after a tap on a link only for a phone's user agent), so these tests see the app's own
fix (:mod:`dashboard.phone`); one test repeats navigation with an iPhone's user agent, where
both would act, to check that the sidebar is not opened again.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from indicators import catalog
from tests.browser.conftest import skip_without_chromium, streamlit_server
from tests.browser.test_screenshots import DESKTOP, PAGES, PHONE, assert_rendered, settled

pytestmark = pytest.mark.browser

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
DATA_PAGES = ("scorecard", "route", *catalog.FAMILIES)
"""The pages whose figures depend on the department and month."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    skip_without_chromium()
    from indicators import demo

    db = tmp_path_factory.mktemp("phone") / "demo.duckdb"
    assert demo.run_cli(str(db)) == 0
    with streamlit_server(db) as base:
        yield base


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(**DESKTOP)
    yield context.new_page()
    context.close()


def open_page(pg, server: str, name: str) -> None:
    path, title = PAGES[name]
    pg.goto(f"{server}/{path}")
    settled(pg)
    assert_rendered(pg, title)


def sidebar_open(pg) -> bool:
    """Whether the sidebar covers part of the page (its right edge inside the window)."""
    box = pg.locator('[data-testid="stSidebar"]').bounding_box()
    return box is not None and box["x"] + box["width"] > 0


def wait_sidebar(pg, *, open_: bool) -> None:
    """The sidebar slides for 300 ms; wait until it has come to rest open or closed."""
    pg.wait_for_function(
        """(open) => {
          const box = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
          return open ? box.left >= 0 && box.width > 0 : box.right <= 0;
        }""",
        arg=open_,
        timeout=10_000,
    )
    pg.wait_for_timeout(400)


def expand_sidebar(pg) -> None:
    pg.locator('[data-testid="stExpandSidebarButton"]').click()
    wait_sidebar(pg, open_=True)
    assert sidebar_open(pg)


def navigate(pg, label: str) -> None:
    pg.locator('[data-testid="stSidebarNav"] a').filter(has_text=label).first.click()
    settled(pg)


# --- the sidebar ------------------------------------------------------------------------------


def test_the_sidebar_starts_collapsed(server, phone):
    open_page(phone, server, "scorecard")
    assert not sidebar_open(phone)
    assert phone.locator('[data-testid="stExpandSidebarButton"]').is_visible()


def test_the_sidebar_collapses_after_navigating(server, phone):
    open_page(phone, server, "scorecard")
    for label, path, title in (("Quality", "/quality", "Quality"),
                               ("Route to targets", "/route", "Route to targets")):
        expand_sidebar(phone)
        navigate(phone, label)
        assert urlparse(phone.url).path == path
        assert_rendered(phone, title)
        wait_sidebar(phone, open_=False)
        assert not sidebar_open(phone)


def test_with_a_phone_user_agent_the_sidebar_is_not_opened_again(server, browser):
    context = browser.new_context(**PHONE, user_agent=IPHONE_UA)
    try:
        pg = context.new_page()
        open_page(pg, server, "scorecard")
        expand_sidebar(pg)
        navigate(pg, "Price")
        assert urlparse(pg.url).path == "/price"
        pg.wait_for_timeout(1_000)  # both Streamlit and the app's script have acted
        assert not sidebar_open(pg)
    finally:
        context.close()


def test_a_sidebar_left_open_is_collapsed_on_the_next_visit(server, phone):
    open_page(phone, server, "scorecard")
    expand_sidebar(phone)  # Streamlit remembers this in the browser's storage
    phone.reload()
    settled(phone)
    wait_sidebar(phone, open_=False)
    assert not sidebar_open(phone)


def test_choosing_a_department_keeps_the_sidebar_open(server, phone):
    """Only navigation closes it: a filter is chosen in the sidebar, which must stay."""
    open_page(phone, server, "scorecard")
    expand_sidebar(phone)
    sidebar = phone.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("combobox", name="Department").click()
    phone.get_by_role("option", name="Call centre", exact=True).click()
    settled(phone)
    assert sidebar_open(phone)


def test_on_a_desktop_the_sidebar_stays_open(server, desktop):
    open_page(desktop, server, "scorecard")
    assert sidebar_open(desktop)
    navigate(desktop, "Quality")
    assert urlparse(desktop.url).path == "/quality"
    desktop.wait_for_timeout(800)
    assert sidebar_open(desktop)


# --- what the first screen shows --------------------------------------------------------------


@pytest.mark.parametrize("name", DATA_PAGES)
def test_department_and_month_are_on_the_first_screen(server, phone, name):
    open_page(phone, server, name)
    query = parse_qs(urlparse(phone.url).query)  # the filters' choice, mirrored in the URL
    department, month = query["department"][0], query["month"][0]
    caption = phone.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').filter(
        has_text=f"Department: {department}"
    ).first
    assert f"Month: {month}" in caption.inner_text()
    box = caption.bounding_box()
    height = phone.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height / 2
    assert not sidebar_open(phone)  # nothing covers it


# --- scorecard cards and charts -----------------------------------------------------------


def card_rows(pg, family: str) -> list[list[dict]]:
    """The family's cards (their metrics' boxes) grouped by row, top to bottom."""
    boxes = [m.bounding_box() for m in
             pg.locator(f'.st-key-scorecard-{family} [data-testid="stMetric"]').all()]
    rows: dict[int, list[dict]] = {}
    for box in boxes:
        rows.setdefault(round(box["y"]), []).append(box)
    return [sorted(rows[y], key=lambda b: b["x"]) for y in sorted(rows)]


def test_scorecard_cards_are_two_to_a_row(server, phone):
    open_page(phone, server, "scorecard")
    width = phone.viewport_size["width"]
    for family in catalog.FAMILIES:
        rows = card_rows(phone, family)
        cards = len(catalog.by_family(family))
        # Two a row, the last one alone when the family has an odd number of cards.
        assert [len(r) for r in rows] == [2] * (cards // 2) + [1] * (cards % 2), family
        for left, right in (r for r in rows if len(r) == 2):
            assert left["x"] + left["width"] <= right["x"], family
            assert right["x"] + right["width"] <= width, family
            assert left["width"] > width / 3, family  # each a half of the page, less margins


def test_on_a_desktop_the_cards_stay_three_to_a_row(server, desktop):
    open_page(desktop, server, "scorecard")
    assert [len(r) for r in card_rows(desktop, "quality")][0] == 3


def modebars(pg):
    pg.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    return pg.locator(".js-plotly-plot .modebar-btn")


def test_no_chart_toolbar_on_touch(server, phone):
    open_page(phone, server, "quality")
    chart = phone.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    chart.tap()
    phone.wait_for_timeout(500)
    bars = modebars(phone)
    assert bars.count() >= 1
    assert all(not bar.is_visible() for bar in bars.all())


def test_on_a_desktop_the_chart_toolbar_is_there(server, desktop):
    open_page(desktop, server, "quality")
    chart = desktop.locator(".js-plotly-plot").first
    chart.hover()
    assert modebars(desktop).first.is_visible()
