"""Department names written in Plotly's pseudo-HTML stay text in every chart.

Plotly draws ``<a href=…>``, ``<b>``, ``<i>``, ``<span style=…>``, ``<sub>``, ``<sup>`` and
``<br>`` in any text it is given (trace names, categories, hovers, titles, annotations) as
links and styled ``tspan`` elements.  The figures pass every user-supplied string through
:func:`indicators.charts.plotly_text`, so such a name is drawn as the characters typed.

The unit tests read every string of each figure the app builds; the browser tests load the
names through ``ingest`` and count ``<a>`` and styled ``tspan`` elements in the plots' SVG of
every page that charts departments (the real app on 127.0.0.1, Debian's Chromium).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
import pytest

from indicators import charts
from tests.browser.conftest import streamlit_server
from tests.reliability.procs import ingest_now, many_purchases, purchases_csv

LINK = '<a href="https://evil.example/">Call centre</a>'
BOLD = "<b>Bold</b> stores"
SPAN = '<span style="color:red;font-size:40px">Red</span>'
BREAK = "Line<br>break"
ITALIC = "<i>Italic</i>"
SUBSUP = "H<sub>2</sub>O<sup>2</sup>"
ENTITY = "R&amp;D &lt;b&gt;"
"""Already written as entities: must show as typed, not as ``R&D <b>``."""
NAMES = (LINK, BOLD, SPAN, BREAK, ITALIC, SUBSUP, ENTITY)
CHART_PAGES = ("quantity", "price", "quality", "opportunity")
"""Pages that chart departments (the overview has metrics only; the route names no department)."""

# --- the function and the figure objects ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LINK, '&lt;a href="https://evil.example/"&gt;Call centre&lt;/a&gt;'),
        (BREAK, "Line&lt;br&gt;break"),
        (ENTITY, "R&amp;amp;D &amp;lt;b&amp;gt;"),
        ("R&D", "R&amp;D"),
        ("North", "North"),
        ("", ""),
    ],
)
def test_plotly_text_escapes_the_three_characters_plotly_reads(text, expected):
    assert charts.plotly_text(text) == expected


def _table(names: tuple[str, ...]) -> pd.DataFrame:
    rows = [
        (month, dept, ind, value)
        for month in ("2025-01", "2025-02")
        for dept in (*names, "All")
        for ind, value in (("revenue", 10.0), ("csat", 70.0))
    ]
    return pd.DataFrame(rows, columns=["month", "department", "indicator", "value"])


def _mix(names: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [("2025-01", d, "product", 2, 100.0) for d in names],
        columns=["month", "department", "component", "complaints", "share"],
    )


def every_figure(name: str) -> Iterator[go.Figure]:
    """Each figure the pages build, with ``name`` as the chosen department among others."""
    table = _table((name, "North"))
    yield charts.make_trend_figure(table, "revenue", name, target=12.0, target_month="2025-06")
    yield charts.make_trend_figure(table, "csat", name, title=None)
    yield charts.make_ranking_figure(table, "revenue", "2025-02", highlight=name)
    yield charts.make_complaint_mix_figure(_mix((name,)), name)
    hist = pd.DataFrame({"bin_start": [0.0, 30.0], "bin_end": [30.0, 60.0], "requests": [3, 1],
                         "kept": [3, 0], "not_kept": [0, 1]})
    yield charts.make_response_histogram_figure(hist, 30.0)
    route = pd.DataFrame({"month": ["2025-01", "2025-02"], "planned": [10.0, 11.0],
                          "actual": [10.0, 10.5]})
    yield charts.make_route_figure(route, {
        "indicator": "revenue", "target": 12.0, "target_month": "2025-06",
        "latest_month": "2025-02", "latest_actual": 10.5, "forecast_at_target": 11.5,
    })


def strings(node: Any) -> Iterator[str]:
    """Every string anywhere in a figure's JSON (data, layout, templates, categories)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from strings(value)


OWN_MARKUP = "<extra></extra>"
"""The one tag the app writes itself (it hides a hover's trace-name box)."""


@pytest.mark.parametrize("name", NAMES)
def test_no_figure_carries_a_tag_or_entity_from_the_data(name):
    for fig in every_figure(name):
        for s in strings(fig.to_plotly_json()):
            bare = s.replace(OWN_MARKUP, "")
            assert "<" not in bare and ">" not in bare, (fig.layout.title.text, s)
            # every "&" starts one of the three entities plotly_text writes
            assert bare.count("&") == sum(bare.count(e) for e in ("&amp;", "&lt;", "&gt;")), s


def test_the_chosen_department_is_escaped_in_legend_categories_and_kept_for_colour():
    table = _table((LINK, "North"))
    trend = charts.make_trend_figure(table, "revenue", LINK)
    assert [t.name for t in trend.data] == [charts.plotly_text(LINK), "All"]
    ranking = charts.make_ranking_figure(table, "revenue", "2025-02", highlight=LINK)
    (bars,) = ranking.data
    escaped = '&lt;a href="https://evil.example/"&gt;Call centre&lt;/a&gt;'
    assert set(bars.y) == {escaped, "North"}
    # the highlight is matched on the real name, before escaping
    assert bars.marker.color[list(bars.y).index(escaped)] == charts.HIGHLIGHT_COLOUR
    assert bars.marker.color[list(bars.y).index("North")] != charts.HIGHLIGHT_COLOUR


def test_a_target_month_in_the_annotation_is_escaped_too():
    fig = charts.make_trend_figure(_table(("North",)), "revenue", "North", target=12.0,
                                   target_month="<b>2025-06</b>")
    assert fig.layout.annotations[0].text == "Target 12.00 by &lt;b&gt;2025-06&lt;/b&gt;"


# --- the real app in Chromium ----------------------------------------------------------------


def hostile_chart_db(path: Path, folder: Path) -> Path:
    """Purchases, complaints and answered requests for every hostile name, loaded by ingest."""
    rows = many_purchases("n", "North", "2025-01", 3) + many_purchases("m", "North", "2025-02", 3)
    complaints = [("kn", "2025-02-03T09:00:00", "North", "c1", "product")]
    responses = [("rn", "North", "2025-02-03T09:00:00", "2025-02-03T09:20:00")]
    for i, name in enumerate(NAMES):
        rows += many_purchases(f"a{i}-", name, "2025-01", 2) + many_purchases(f"b{i}-", name, "2025-02", 3)
        complaints.append((f"k{i}", "2025-02-04T09:00:00", name, "c1", "people"))
        responses.append((f"r{i}", name, "2025-02-04T09:00:00", "2025-02-04T10:30:00"))
    files = [
        purchases_csv(folder / "purchases.csv", rows),
        _csv(folder / "complaints.csv",
             ("complaint_id", "opened_at", "department", "customer_id", "component"), complaints),
        _csv(folder / "responses.csv",
             ("request_id", "department", "received_at", "responded_at"), responses),
    ]
    ingest_now(path, *files)
    return path


def _csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("chart-text")
    db = hostile_chart_db(folder / "service.duckdb", folder)
    with streamlit_server(db) as base:
        yield base


WAIT_MS = 60_000
# Styled tspans are counted outside titles: Streamlit's Plotly theme draws every title in bold
# (``<b>`` around the text it is given), so a title's own bold is not the data's.
PLOT_SVG = '[data-testid="stPlotlyChart"] .js-plotly-plot svg'

_COUNTS = """sel => {
    const svgs = [...document.querySelectorAll(sel)];
    const all = q => svgs.flatMap(s => [...s.querySelectorAll(q)]);
    return {
        links: all('a').length,
        styled: all('tspan[style]').filter(t => !t.closest('.gtitle'))
            .map(t => t.getAttribute('style')),
        title_styles: [...new Set(all('.gtitle tspan[style]').map(t => t.getAttribute('style')))],
        titles: all('.gtitle').map(t => t.getAttribute('data-unformatted')),
        ticks: all('.ytick text').map(t => t.textContent),
        legend: all('.legendtext').map(t => t.textContent),
        hover: all('.hoverlayer text').map(t => t.textContent),
    };
}"""


def plot_counts(pg) -> dict[str, Any]:
    return pg.evaluate(_COUNTS, PLOT_SVG)


def open_charts(pg, base: str, path: str) -> None:
    """The page with ``LINK`` chosen, once every chart of it is drawn."""
    pg.goto(f"{base}/{path}?department={quote(LINK, safe='')}")
    pg.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Department").wait_for(
        timeout=WAIT_MS)
    pg.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=WAIT_MS)
    # the ranking's category axis lists every department once its chart is drawn
    pg.wait_for_function(
        """([sel, n]) => [...document.querySelectorAll(sel + ' .ytick text')].length >= n""",
        arg=[PLOT_SVG, len(NAMES) + 1], timeout=WAIT_MS,
    )
    # and every chart of the page has drawn its SVG
    pg.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
            .every(c => c.querySelector('.js-plotly-plot .xtick'))""",
        timeout=WAIT_MS,
    )


_MARK_PROBED = """([n, name]) => {
    const plots = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
    const ranking = plots.find(p => p.querySelectorAll('.ytick').length >= n);
    const trend = plots.find(p => [...p.querySelectorAll('.legendtext')]
        .some(t => t.textContent === name));
    for (const p of [ranking, trend]) if (p) p.setAttribute('data-probe', '');
}"""
_CENTRE = """el => {
    el.scrollIntoView({block: 'center'});
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? [r.x + r.width / 2, r.y + r.height / 2] : null;
}"""


def hover_every_bar_and_point(pg) -> list[dict[str, Any]]:
    """Hover each bar of the first ranking and each point of the first trend of ``LINK``."""
    pg.evaluate(_MARK_PROBED, [len(NAMES) + 1, LINK])
    marks = pg.locator("[data-probe] .barlayer .point path, [data-probe] .scatterlayer .point")
    seen = []
    for i in range(marks.count()):
        centre = marks.nth(i).evaluate(_CENTRE)
        if centre is None:  # a missing value has no bar to hover
            continue
        pg.mouse.move(*centre)
        pg.wait_for_timeout(80)
        seen.append(plot_counts(pg))
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("path", CHART_PAGES)
def test_hostile_names_are_plain_text_in_every_chart(server, page, path):
    open_charts(page, server, path)
    drawn = plot_counts(page)
    assert drawn["links"] == 0, path
    # nor anywhere else on the page: markdown would link the name's bare URL by itself
    assert page.get_by_text("month by month").count() >= 1, path
    assert page.locator('a[href*="evil.example"]').count() == 0, path
    assert drawn["styled"] == [], path
    # Streamlit's theme wraps each figure title in <b>…</b>; nothing else styles a title
    assert set(drawn["title_styles"]) <= {"font-weight:bold"}, path
    assert [t for t in drawn["titles"] if "<" in re.sub(r"</?b>", "", t)] == [], path
    # the categories read as typed (the ranking of every indicator lists them all)
    for name in NAMES:
        assert name in drawn["ticks"], (path, name, drawn["ticks"])
    assert LINK in drawn["legend"], (path, drawn["legend"])
    hovers = hover_every_bar_and_point(page)
    assert hovers, path
    for state in hovers:
        assert state["links"] == 0 and state["styled"] == [], (path, state)
    shown = "\n".join(t for state in hovers for t in state["hover"])
    for name in NAMES:  # every category's hover, and the trend's unified hover, read as typed
        assert name in shown, (path, name, shown)
