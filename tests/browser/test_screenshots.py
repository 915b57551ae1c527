"""A full-page screenshot of every page at 1440 × 900 (a desktop) and 390 × 844 (a phone) on the
demo database, for a person to look at: ``tests/browser/artifacts/<page>-1440.png`` and
``<page>-390.png``.  Each page must have rendered: its title, no exception box, no error.

The phone is emulated as one (touch, mobile viewport) with Chromium's own user agent.  A page
scrolls inside Streamlit's main element, not the document, so a full-page shot first makes the
viewport as tall as the page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indicators import catalog
from tests.browser.conftest import ARTIFACTS, skip_without_chromium, streamlit_server
from tests.browser.test_app_browser import assert_no_exception, wait_idle

pytestmark = pytest.mark.browser

PAGES: dict[str, tuple[str, str]] = {
    "scorecard": ("", "Service scorecard"),
    "route": ("route", "Route to targets"),
    "explain": ("explain?indicator=csat", "What moved it"),
    "chain": ("chain", "The service chain"),
    "records": ("records?indicator=promise_kept_rate", "Rows behind a number"),
    **{family: (family, catalog.FAMILY_LABELS[family]) for family in catalog.FAMILIES},
    "upload": ("upload", "Upload data"),
    "targets": ("targets", "Targets and settings"),
}
"""Page name → (URL path, title)."""

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SIZES = {1440: DESKTOP, 390: PHONE}
MAX_SHOT_HEIGHT = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    skip_without_chromium()
    from indicators import demo

    db = tmp_path_factory.mktemp("screenshots") / "demo.duckdb"
    assert demo.run_cli(str(db)) == 0
    with streamlit_server(db) as base:
        yield base


SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
    && document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stSpinner"]')
       .length === 0;
}"""
"""The script run has ended (Streamlit's own run state on its root) and every element has
drawn: no loading skeleton and no spinner (a cold cache computes behind one) left."""


def settled(pg) -> None:
    """Wait until the page's script run has ended and everything it drew is on screen."""
    wait_idle(pg)
    pg.wait_for_function(SETTLED, timeout=120_000)
    pg.wait_for_timeout(500)


def full_page_shot(pg, name: str) -> None:
    """A screenshot of the whole page, however long, at the viewport's width."""
    size = pg.viewport_size
    height = pg.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"]')]"
        ".map(e => e.scrollHeight))"
    )
    pg.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]),
                                                                 MAX_SHOT_HEIGHT)})
    pg.wait_for_timeout(1_000)  # charts redraw at the new size
    ARTIFACTS.mkdir(exist_ok=True)
    # A tall page with many charts takes a while to paint on a busy machine.
    pg.screenshot(
        path=str(ARTIFACTS / f"{name}.png"), full_page=True, animations="disabled",
        timeout=180_000,
    )
    pg.set_viewport_size(size)


def assert_rendered(pg, title: str) -> None:
    heading = pg.locator('[data-testid="stMain"] h1').first
    assert heading.inner_text().strip() == title
    assert_no_exception(pg)
    assert pg.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]').count() == 0


@pytest.mark.parametrize("width", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_and_is_photographed(server, browser, name, width):
    path, title = PAGES[name]
    context = browser.new_context(**SIZES[width])
    try:
        pg = context.new_page()
        pg.goto(f"{server}/{path}")
        settled(pg)
        assert_rendered(pg, title)
        full_page_shot(pg, f"{name}-{width}")
    finally:
        context.close()
    shot = ARTIFACTS / f"{name}-{width}.png"
    assert shot.stat().st_size > 10_000  # a picture of a page, not of an empty frame


@pytest.mark.parametrize("width", list(SIZES))
def test_the_route_of_a_seasonal_target_with_its_check_in(server, browser, width):
    """The demo's Online store purchases target follows its season and has its owner's
    check-in: linked from the scorecard, its card comes first with its picture drawn."""
    context = browser.new_context(**SIZES[width])
    try:
        pg = context.new_page()
        pg.goto(f"{server}/route?target=purchases@Online%20store")
        settled(pg)
        assert_rendered(pg, "Route to targets")
        card = pg.locator(".st-key-route-focused")
        text = card.inner_text().replace("\u2060", "")  # md_text's invisible word joiners
        assert "Planned route: follows the season of 2024-01 … 2024-12" in text
        assert "Latest check-in: 2025-11 · on track" in text
        assert "Owner: online.lead@example.com" in text
        legend = " ".join(card.locator(".legend text.legendtext").all_text_contents())
        assert "Planned route (seasonal)" in legend and "Check-in" in legend
        full_page_shot(pg, f"route-seasonal-checkin-{width}")
    finally:
        context.close()
    assert (ARTIFACTS / f"route-seasonal-checkin-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", list(SIZES))
def test_the_waterfall_of_what_moved_complaints(server, browser, width):
    """From a scorecard card's link: the complaint rate's change split by department, one bar
    per department between the two months' values, names readable on the axis."""
    context = browser.new_context(**SIZES[width])
    try:
        pg = context.new_page()
        pg.goto(f"{server}/explain?indicator=complaint_rate")
        settled(pg)
        assert_rendered(pg, "What moved it")
        chart = pg.locator('[data-testid="stPlotlyChart"]').first
        assert chart.locator(".trace.waterfall, g.waterfalllayer .trace").count() >= 1
        ticks = chart.locator(".yaxislayer-above .ytick text").all_text_contents()
        assert {"2025-11", "2025-12", "Online store", "Field service"} <= set(ticks)
        full_page_shot(pg, f"explain-waterfall-{width}")
    finally:
        context.close()
    assert (ARTIFACTS / f"explain-waterfall-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", list(SIZES))
def test_the_service_chain_draws_its_nine_nodes(server, browser, width):
    context = browser.new_context(**SIZES[width])
    try:
        pg = context.new_page()
        pg.goto(f"{server}/chain")
        settled(pg)
        assert_rendered(pg, "The service chain")
        assert pg.locator('[data-testid="stMain"] [data-testid="stMetric"]').count() == 9
        for title in ("The iceberg", "The promise", "Loyalty"):
            assert pg.get_by_role("heading", name=title).count() == 1
        full_page_shot(pg, f"service-chain-{width}")
    finally:
        context.close()
    assert (ARTIFACTS / f"service-chain-{width}.png").stat().st_size > 10_000
