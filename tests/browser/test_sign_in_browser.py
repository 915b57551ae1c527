"""Sign-in end to end: a real server, Chromium, ``st.login`` against a local fake OIDC provider.

The server reads a secrets file written for the test (``--secrets.files``) with ``[auth]``
pointing at :mod:`tests.browser.fake_idp` and a ``[roles]`` map. The provider signs in whoever
the test names, so each role is seen as a user would see it. Screenshots of the sign-in page,
a team lead's view and the no-access page land in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, free_port, skip_without_chromium, streamlit_server
from tests.browser.fake_idp import CLIENT_ID, CLIENT_SECRET, FakeIdP
from tests.browser.test_app_browser import wait_idle

pytestmark = pytest.mark.browser

LEAD = "lead.callcentre@example.com"
EXECUTIVE = "ceo@example.com"
LEAD_DEPARTMENT = "Call centre"


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdP]:
    provider = FakeIdP().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, idp: FakeIdP) -> Iterator[str]:
    skip_without_chromium()
    pytest.importorskip("authlib")
    from indicators import demo

    tmp = tmp_path_factory.mktemp("sign-in")
    db = tmp / "demo.duckdb"
    demo.run_cli(str(db))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        f"""[auth]
redirect_uri = "{base}/oauth2callback"
cookie_secret = "browser-test-cookie-secret-long-enough"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{idp.metadata_url}"

[roles]
"{EXECUTIVE}" = {{ role = "executive" }}
"{LEAD}" = {{ role = "team_lead", departments = ["{LEAD_DEPARTMENT}"] }}
""",
        encoding="utf-8",
    )
    with streamlit_server(db, port=port, extra_args=["--secrets.files", str(secrets)]) as url:
        yield url


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=False)
    return path


def sign_in(pg, base: str, idp: FakeIdP, email: str) -> None:
    idp.email = email
    pg.goto(base)
    wait_idle(pg)
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(f"{base}/**", timeout=30_000)
    pg.wait_for_selector('[data-testid="stSidebar"] >> text=Signed in as', timeout=60_000)
    wait_idle(pg)


def test_a_visitor_sees_only_the_sign_in_page(server, page):
    page.goto(server)
    wait_idle(page)
    assert page.get_by_role("button", name="Sign in").is_visible()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    shot(page, "sign-in")


def test_a_team_lead_signs_in_and_sees_only_their_department_and_all(server, page, idp):
    sign_in(page, server, idp, LEAD)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "Team lead" in sidebar.inner_text()
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Upload data" not in nav and "Targets and settings" not in nav
    page.locator('[data-testid="stSelectbox"]').first.click()
    options = page.locator('[role="option"]').all_inner_texts()
    assert options == ["All", LEAD_DEPARTMENT]
    page.keyboard.press("Escape")
    page.goto(f"{server}/quantity?department={LEAD_DEPARTMENT.replace(' ', '+')}")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_timeout(1500)
    assert "Retail stores" not in page.locator('[data-testid="stMain"]').inner_text()
    shot(page, "team-lead-quantity")


def test_a_team_lead_link_to_another_department_or_the_upload_page_opens_nothing_of_it(
    server, page, idp
):
    sign_in(page, server, idp, LEAD)
    page.goto(f"{server}/?department=Retail+stores")
    wait_idle(page)
    page.wait_for_selector("text=not in your view", timeout=60_000)
    assert "department=All" in page.url
    shot(page, "team-lead-forbidden-link")
    page.goto(f"{server}/upload")
    wait_idle(page)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert page.locator("h1").first.inner_text() != "Upload data"


def test_an_unknown_user_gets_the_no_access_page_and_can_sign_out(server, page, idp):
    idp.email = "stranger@example.com"
    page.goto(server)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=has no access", timeout=60_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    shot(page, "no-access")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("button:has-text('Sign in')", timeout=60_000)
