"""(l) The page as a person gets it: from navigation to a fully drawn page in Chromium.

:func:`measure` starts the app (``streamlit run app.py`` on ``127.0.0.1``, ready when
``/_stcore/health`` answers) on a database and drives Debian's Chromium with Playwright on the
same machine.  For every page kind and department it makes *a load* (``python -m indicators
ingest`` of a month's files, in its own process as an analyst would, so the app's data version
changes), then times the page *cold* (its first visit after that load) and *warm* (the same
page opened again: a new session served from the app's caches).

**Drawn** (:data:`DRAWN`): the page's title is on screen, Streamlit's script state is
``notRunning`` (the run has ended), no loading skeleton or spinner is left, and every Plotly
chart has drawn its SVG.  Before any timing, every page is opened once (not timed), as by a
person who has used the app before: the app's modules are imported and the browser holds
Streamlit's scripts in its cache.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
)
VIEWPORT = {"width": 1440, "height": 900}
PATHS: dict[str, str] = {"scorecard": "", "family": "quality", "route": "route"}
"""The URL path of each page kind (``app.py``'s ``st.navigation``)."""
TIMEOUT_MS = 120_000
POLL_MS = 20
"""How often the page is asked whether it is drawn: the figures are this much too high at most."""

DRAWN = """(title) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app === null || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const heading = document.querySelector('[data-testid="stMain"] h1');
  if (heading === null || heading.textContent.trim() !== title) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) {
    return false;
  }
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (chart.querySelector('.main-svg') === null) return false;
  }
  return true;
}"""
"""True once the page titled ``title`` has run its script and drawn everything."""


def titles() -> dict[str, str]:
    """The ``h1`` of each page kind."""
    from indicators import catalog

    return {"scorecard": "Service scorecard", "family": catalog.FAMILY_LABELS["quality"],
            "route": "Route to targets"}


def page_url(base: str, kind: str, department: str) -> str:
    """The address of page ``kind`` showing ``department`` (the sidebar's URL parameter).

    >>> page_url("http://127.0.0.1:8501", "family", "Online store")
    'http://127.0.0.1:8501/quality?department=Online+store'
    """
    query = urllib.parse.urlencode({"department": department})
    return f"{base}/{PATHS[kind]}?{query}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(base: str) -> bool:
    """Whether the server at ``base`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@contextmanager
def app_server(db: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on ``db`` until the block ends: its base URL and process."""
    port = _free_port()
    options = {"server.address": "127.0.0.1", "server.port": port, "server.headless": "true",
               "browser.gatherUsageStats": "false"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py"]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SERVICE_DB": str(db.absolute())}
    # leaving the block waits for the server, which stops at SIGTERM
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as proc:
        try:
            deadline = time.monotonic() + 60
            while not _healthy(base):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("streamlit did not become healthy")
                time.sleep(0.2)
            yield base, proc
        finally:
            proc.terminate()


def load(db: Path, files: Sequence[Path]) -> float:
    """``python -m indicators ingest`` of ``files`` into ``db`` (a process of its own); the
    seconds it took, start-up included."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "indicators", "ingest", "--db", str(db), *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def drawn_seconds(pg: Any, url: str, title: str) -> float:
    """Seconds from navigating to ``url`` until the page is :data:`DRAWN`; an error if the
    page shows an exception instead."""
    started = time.perf_counter()
    pg.goto(url, wait_until="commit")
    pg.wait_for_function(DRAWN, arg=title, polling=POLL_MS, timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    if pg.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{url} shows an exception")
    return seconds


def measure(
    db: Path, files: Sequence[Path], *, kinds: Sequence[str], departments: Sequence[str]
) -> dict[str, Any]:
    """Cold (after a load of ``files``) and warm seconds of every page kind and department:
    ``{"pages": {kind: {department: {"seconds", "warm_seconds", "load_seconds"}}}}``, with the
    app server's peak memory (``server_peak_rss_mb``)."""
    from playwright.sync_api import sync_playwright

    from bench.steps import peak_rss_mb

    heads = titles()
    found: dict[str, dict[str, dict[str, float]]] = {}
    started = time.perf_counter()
    with app_server(db) as (base, proc), sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            context = chromium.new_context(viewport=VIEWPORT)
            pg = context.new_page()
            for kind in kinds:
                drawn_seconds(pg, page_url(base, kind, departments[0]), heads[kind])
            for kind in kinds:
                for department in departments:
                    url = page_url(base, kind, department)
                    loaded = load(db, files)
                    cold = drawn_seconds(pg, url, heads[kind])
                    warm = drawn_seconds(pg, url, heads[kind])
                    found.setdefault(kind, {})[department] = {
                        "seconds": cold, "warm_seconds": warm, "load_seconds": loaded,
                    }
            context.close()
        finally:
            chromium.close()
        server_rss = peak_rss_mb(proc.pid)
    return {"seconds": time.perf_counter() - started, "pages": found,
            "server_peak_rss_mb": server_rss}
