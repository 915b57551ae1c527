"""Streamlit's ``clear_cache`` message is obeyed only for an analyst's session.

A raw websocket client (the ``websockets`` package Streamlit installs) talks to a real
``streamlit run`` server on 127.0.0.1 in Streamlit's own protocol (``BackMsg`` /
``ForwardMsg`` from ``streamlit.proto``).  Sign-in is on (a secrets file with ``[auth]`` and a
role map); who a client is comes from ``server.trustedUserHeaders``, a Streamlit setting that
fills ``st.user`` from request headers (as behind a signing-in proxy), so no identity provider
is needed.  Whether a cache was cleared is read from the server's ``/_stcore/metrics``: the
misses of ``dashboard.data._total_rows``, which every page run reads once.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

from tests.app.conftest import build_fixture_db
from tests.browser.conftest import free_port, streamlit_server

pytest.importorskip("authlib")

WAIT = 60.0
ANALYST = "analyst@example.com"
EXECUTIVE = "ceo@example.com"
HEADERS = {"X-Test-Email": "email", "X-Test-Logged-In": "is_logged_in"}
PROBE = "dashboard.loaders.total_rows"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("cache-message")
    db = build_fixture_db(tmp / "service.duckdb")
    port = free_port()
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "cache-message-test-cookie-secret"
client_id = "unused"
client_secret = "unused"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
# the trusted headers carry no email_verified claim
require_email_verified = false

[roles]
"{ANALYST}" = {{ role = "analyst" }}
"{EXECUTIVE}" = {{ role = "executive" }}
""",
        encoding="utf-8",
    )
    args = ["--secrets.files", str(secrets), "--server.trustedUserHeaders", json.dumps(HEADERS)]
    with streamlit_server(db, port=port, extra_args=args) as base:
        yield base


@contextmanager
def session(base: str, email: str | None) -> Iterator[ClientConnection]:
    """A websocket session, signed in as ``email`` (``None``: signed out)."""
    headers = {} if email is None else {"X-Test-Email": email, "X-Test-Logged-In": "true"}
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    with connect(url, subprotocols=["streamlit"], additional_headers=headers) as ws:
        yield ws


def run_app(ws: ClientConnection) -> None:
    """Ask for a run of the app's default page and wait until the script has finished."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    ws.send(msg.SerializeToString())
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        forward = ForwardMsg()
        forward.ParseFromString(ws.recv(timeout=WAIT))
        if forward.WhichOneof("type") == "script_finished":
            return
    raise AssertionError(f"the app's run did not finish within {WAIT:g} s")


def clear_cache(ws: ClientConnection) -> None:
    msg = BackMsg()
    msg.clear_cache = True
    ws.send(msg.SerializeToString())


def lookups(base: str) -> dict[str, int]:
    """``hit`` and ``miss`` counts of :data:`PROBE` from the server's metrics."""
    with urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=10) as r:
        text = r.read().decode("utf-8")
    pattern = re.compile(
        r'^cache_lookups_total\{cache="' + re.escape(PROBE) + r'",[^}]*result="(hit|miss)"\} (\d+)$',
        re.MULTILINE,
    )
    return {kind: int(n) for kind, n in pattern.findall(text)}


def test_clear_cache_from_a_signed_out_client_or_an_executive_is_ignored(server):
    with session(server, ANALYST) as analyst:
        run_app(analyst)
        before = lookups(server)
        assert before["miss"] >= 1
        with session(server, None) as outsider:
            clear_cache(outsider)
            run_app(outsider)  # handled in order: the clear came first; the gate stops the run
        with session(server, None) as silent:
            clear_cache(silent)  # a client that never ran the app
            clear_cache(silent)
        with session(server, EXECUTIVE) as executive:
            run_app(executive)  # the same unscoped cache entries: a hit
            clear_cache(executive)
            run_app(executive)
        run_app(analyst)
        after = lookups(server)
    # Nothing was computed again: every later run found the analyst's cached row count.
    assert after["miss"] == before["miss"], (before, after)
    assert after["hit"] > before["hit"], (before, after)


def test_an_analyst_may_clear_the_caches(server):
    with session(server, ANALYST) as analyst:
        run_app(analyst)
        before = lookups(server)
        clear_cache(analyst)
        run_app(analyst)
        after = lookups(server)
    assert after["miss"] == before["miss"] + 1, (before, after)
