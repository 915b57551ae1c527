"""Sign-in and roles: what each role sees and may do, and that scoping holds where data is read.

Identity is simulated with Streamlit's own AppTest API: ``AppTest.secrets`` (the ``[auth]`` and
``[roles]`` sections, replacing ``st.secrets`` for the run) and ``AppTest.user`` (what the run
reads as ``st.user``). The app has no test hook of its own.

The database is the hand-checkable fixture of ``conftest.py`` plus rows for South in every
dataset, a South target and a South promise, so that a leak of South would show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, data
from dashboard.format import md_text
from indicators import export, store
from tests.app.conftest import APP, build_fixture_db
from tests.app.test_pages import PAGES

EXECUTIVE = "ceo@example.com"
ANALYST = "analyst@example.com"
LEAD_NORTH = "lead.north@example.com"
LEAD_SOUTH = "lead.south@example.com"
STRANGER = "stranger@example.com"

SECRETS: dict[str, Any] = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-test-secret-that-is-long-enough",
        "client_id": "test-client",
        "client_secret": "test-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    },
    "roles": {
        EXECUTIVE: {"role": "executive"},
        # Mixed case on purpose: emails are matched without regard to case.
        "Analyst@Example.com": {"role": "analyst"},
        LEAD_NORTH: {"role": "team_lead", "departments": ["North"]},
        LEAD_SOUTH: {"role": "team_lead", "departments": ["South"]},
    },
}

ANALYST_PAGES = ["app_pages/upload.py", "app_pages/targets.py"]
VIEW_PAGES = [p for p in PAGES if p not in ANALYST_PAGES]


def build_roles_db(path: Path) -> Path:
    """The conftest fixture plus South in every dataset, a South target and a South promise."""
    build_fixture_db(path)
    con = store.connect(path)
    try:
        con.execute(
            """INSERT INTO complaints (complaint_id, opened_at, department, customer_id, component,
                                       month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, DATE '2025-02-01')""",
            ["k3", "2025-02-11 08:00:00", "South", "c3", "facilities"],
        )
        con.execute(
            """INSERT INTO surveys (survey_id, answered_at, department, kind, score, month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, DATE '2025-02-01')""",
            ["s4", "2025-02-12 08:00:00", "South", "csat", 3],
        )
        con.executemany(
            """INSERT INTO responses (request_id, department, received_at, responded_at, month)
               VALUES (?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), DATE '2025-02-01')""",
            [
                ["r1", "North", "2025-02-01 09:00:00", "2025-02-01 09:20:00"],
                ["r2", "South", "2025-02-01 09:00:00", "2025-02-01 11:00:00"],
            ],
        )
        con.execute(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target)
               VALUES (?, ?, DATE '2025-01-01', DATE '2025-06-01', ?)""",
            ["revenue", "South", 99.0],
        )
        store.write_setting(con, "promised_minutes", 30, department="South")
    finally:
        con.close()
    return path


@pytest.fixture
def roles_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_roles_db(tmp_path / "roles.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def as_user(email: str | None, *, secrets: dict[str, Any] | None = None, **claims: Any) -> AppTest:
    """The app as ``email`` signed in (``None``: not signed in), with the test role map."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = json.loads(json.dumps(SECRETS if secrets is None else secrets))
    at.user = {"is_logged_in": False} if email is None else {
        "is_logged_in": True, "email": email, "email_verified": True, **claims,
    }
    return at


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def rendered_text(at: AppTest, *, skip: tuple[str, ...] = ()) -> str:
    """Everything the run sent to the browser, as text: every element's message and table."""
    parts: list[str] = []
    for root in (at.main, at.sidebar):
        for node in walk(root):
            proto = getattr(node, "proto", None)
            if proto is not None and getattr(node, "type", None) not in skip:
                parts.append(str(proto))
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(parts)


def data_elements(at: AppTest) -> dict[str, int]:
    """How many elements of each kind that carry data the run drew."""
    kinds = ("dataframe", "metric", "plotly_chart", "selectbox", "download_button", "table")
    return {k: len(at.get(k)) for k in kinds if len(at.get(k))}


def departments_in(value: Any) -> set[str]:
    """Every department named in a loader's result (frames, tuples of frames, settings)."""
    if isinstance(value, pd.DataFrame):
        return set(value["department"].astype(str)) if "department" in value else set()
    if isinstance(value, tuple):
        return set().union(*(departments_in(v) for v in value))
    if isinstance(value, store.Settings):
        return set(value.promised_minutes)
    if isinstance(value, list):
        return {str(v) for v in value}
    return set()


LOADERS = ("indicators", "settings", "targets", "row_counts", "complaint_mix",
           "response_histogram", "route", "departments", "unusual")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What every public loader returned, and every CSV export's bytes, during the test."""
    seen: dict[str, list[Any]] = {name: [] for name in (*LOADERS, "csv")}

    def record(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            seen[name].append(result)
            return result
        return wrapper

    for name in LOADERS:
        monkeypatch.setattr(data, name, record(name, getattr(data, name)))
    monkeypatch.setattr(export, "to_csv_bytes", record("csv", export.to_csv_bytes))
    return seen


# --- the role map ----------------------------------------------------------------------


def test_the_role_map_is_read_case_insensitively():
    grants = auth.parse_role_map(SECRETS["roles"])
    assert grants[ANALYST] == auth.Grant("analyst")
    assert grants[LEAD_NORTH] == auth.Grant("team_lead", ("North",))


@pytest.mark.parametrize(
    ("roles", "says"),
    [
        ({}, "at least one user"),
        ({"ceo": {"role": "executive"}}, "email address"),
        ({EXECUTIVE: "executive"}, "must be a table"),
        ({EXECUTIVE: {"role": "boss"}}, "role must be one of"),
        ({LEAD_NORTH: {"role": "team_lead"}}, "needs departments"),
        ({LEAD_NORTH: {"role": "team_lead", "departments": []}}, "needs departments"),
        ({LEAD_NORTH: {"role": "team_lead", "departments": ["All"]}}, "always shown"),
        ({EXECUTIVE: {"role": "executive", "departments": ["North"]}}, "only a team_lead"),
        ({EXECUTIVE: {"role": "executive", "dept": ["North"]}}, "unknown field"),
        ({EXECUTIVE: {"role": "executive"}, "CEO@example.com": {"role": "analyst"}}, "twice"),
    ],
)
def test_a_malformed_role_map_is_refused_by_entry_not_by_email(roles, says):
    with pytest.raises(auth.RoleMapError, match=says) as err:
        auth.parse_role_map(roles)
    assert "@" not in str(err.value)  # the error page is seen by anonymous visitors


@pytest.mark.parametrize(
    "secrets",
    [
        {**SECRETS, "roles": {EXECUTIVE: {"role": "boss"}}},
        {"roles": SECRETS["roles"]},  # a role map without sign-in must not mean "all rights"
        {"auth": SECRETS["auth"]},  # sign-in without a map: nobody could enter
    ],
    ids=["bad-role", "roles-without-auth", "auth-without-roles"],
)
def test_a_bad_configuration_is_an_error_page_not_a_traceback(roles_db, secrets):
    at = as_user(EXECUTIVE, secrets=secrets).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and "sign-in configuration is invalid" in at.error[0].value
    assert data_elements(at) == {}


# --- who gets in -----------------------------------------------------------------------


def test_sign_in_off_is_one_local_user_with_every_right(roles_db, app):
    app.run()
    assert not app.exception
    assert any("Sign-in is off" in c.value for c in app.sidebar.caption)
    assert app.selectbox(key="department").options == ["All", "North", "South"]
    for page in ANALYST_PAGES:
        app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]


def test_not_signed_in_sees_a_sign_in_button_and_no_data(roles_db):
    at = as_user(None).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert data_elements(at) == {}
    assert "North" not in rendered_text(at)


def test_named_providers_get_one_button_each(roles_db):
    auth_section = {k: v for k, v in SECRETS["auth"].items()
                    if k in ("redirect_uri", "cookie_secret")}
    auth_section["microsoft"] = {"client_id": "x", "client_secret": "y",
                                 "server_metadata_url": "https://login.example/.well-known"}
    at = as_user(None, secrets={**SECRETS, "auth": auth_section}).run()
    assert [b.label for b in at.button] == ["Sign in with Microsoft"]


@pytest.mark.parametrize(
    ("email", "claims"),
    [(STRANGER, {}), (EXECUTIVE, {"email_verified": False}), ("", {})],
    ids=["not-in-the-map", "unverified-email", "no-email"],
)
def test_a_user_without_a_role_gets_nothing_but_a_way_out(roles_db, recorded, email, claims):
    at = as_user(email, **claims).run()
    assert not at.exception
    assert at.warning and "administrator" in at.warning[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert data_elements(at) == {}
    text = rendered_text(at)
    assert "North" not in text and "South" not in text
    assert all(not calls for calls in recorded.values()), "no loader ran"


def test_sign_out_is_offered_to_signed_in_users(roles_db):
    at = as_user(EXECUTIVE).run()
    assert any(f"Signed in as {md_text(EXECUTIVE)}" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="logout").click().run()
    assert at.user == {"is_logged_in": False}


# --- executives -------------------------------------------------------------------------


def test_an_executive_sees_every_department_but_no_analyst_page(roles_db):
    at = as_user(EXECUTIVE).run()
    assert not at.exception
    assert at.selectbox(key="department").options == ["All", "North", "South"]
    for page in VIEW_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    for page in ANALYST_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def _try_every_write() -> None:
    """An AppTest script: call each write of the glue and say what happened."""
    import pandas as pd
    import streamlit as st

    from dashboard import auth, data

    attempts = {
        "upload": lambda: data.ingest_uploads([data.Upload("x.csv", b"a\n1\n")],
                                              encoding="utf-8", date_format="ISO"),
        "targets": lambda: data.save_targets(pd.DataFrame()),
        "setting": lambda: data.save_setting("iceberg_factor", 3),
        "upload_log": data.upload_log,
    }
    for name, attempt in attempts.items():
        try:
            attempt()
        except auth.Forbidden:
            st.text(f"{name}: forbidden")
        else:
            st.text(f"{name}: done")


@pytest.mark.parametrize("email", [EXECUTIVE, LEAD_NORTH])
def test_writes_check_the_role_in_the_glue_too(roles_db, email):
    before = roles_db.read_bytes()
    at = AppTest.from_function(_try_every_write, default_timeout=60)
    at.secrets = json.loads(json.dumps(SECRETS))
    at.user = {"is_logged_in": True, "email": email}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.text] == [
        "upload: forbidden", "targets: forbidden", "setting: forbidden", "upload_log: forbidden",
    ]
    assert roles_db.read_bytes() == before


# --- team leads -------------------------------------------------------------------------


def visit_every_page(at: AppTest) -> list[str]:
    """Run each page; return what each drew, as text."""
    texts = []
    for page in VIEW_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        texts.append(rendered_text(at))
    return texts


def test_a_team_lead_gets_no_row_of_another_department_even_from_a_warm_cache(
    roles_db, recorded
):
    south = as_user(LEAD_SOUTH).run()
    assert south.selectbox(key="department").options == ["All", "South"]
    south.selectbox(key="department").set_value("South").run()
    visit_every_page(south)
    assert any(recorded.values()), "the South lead warmed the caches"
    for calls in recorded.values():
        calls.clear()

    north = as_user(LEAD_NORTH).run()
    assert north.selectbox(key="department").options == ["All", "North"]
    texts = visit_every_page(north)
    north.selectbox(key="department").set_value("North").run()
    texts += visit_every_page(north)

    for name in LOADERS:
        if name not in ("targets", "row_counts"):  # read on the analysts' pages only
            assert recorded[name], f"{name} was not called"
        for result in recorded[name]:
            assert departments_in(result) <= {"All", "North", "*"}, (name, result)
    for blob in recorded["csv"]:
        assert b"South" not in blob
    for page, text in zip(VIEW_PAGES * 2, texts, strict=True):
        assert "South" not in text, page
    # The organisation-wide figure is there: All's revenue in January includes South's 5.00.
    indicators = recorded["indicators"][-1]
    all_jan = indicators[(indicators["department"] == "All") & (indicators["month"] == "2025-01")
                         & (indicators["indicator"] == "revenue")]
    assert all_jan["value"].tolist() == [10 + 20.5 + 5]


def test_a_link_naming_another_department_falls_back_with_a_warning(roles_db, recorded):
    at = as_user(LEAD_NORTH)
    at.query_params["department"] = "South"
    at.run()
    assert not at.exception
    assert at.selectbox(key="department").value == "All"
    assert at.query_params["department"] == "All"
    warning = " ".join(w.value for w in at.warning)
    assert "South" in warning and "not in your view" in warning
    for name in LOADERS:
        for result in recorded[name]:
            assert departments_in(result) <= {"All", "North", "*"}, name
    # The warning repeats the user's own link; nothing else may name South.
    assert "South" not in rendered_text(at, skip=("warning",))


def test_the_cached_loaders_filter_by_the_scope_they_are_given(roles_db):
    path, version = str(roles_db), data.data_version(roles_db)
    north = data._indicators(path, version, ("North",))
    assert set(north["department"]) == {"All", "North"}
    assert set(data._indicators(path, version, None)["department"]) == {"All", "North", "South"}
    _, summary = data._route(path, version, ("North",))
    assert set(summary["department"]) <= {"All", "North"}
    assert "South" not in data._stored(path, version, "settings", ("North",)).promised_minutes
    for what, allowed in (("targets", {"North", "*"}), ("row_counts", {"North"})):
        frame = data._stored(path, version, what, ("North",))
        assert set(frame["department"]) <= allowed, what
        assert "South" in set(data._stored(path, version, what, None)["department"]), what
    assert data._stored(path, version, "upload_log", ("North",)).empty
    with pytest.raises(auth.Forbidden):
        data._histogram(path, version, "2025-02", "South", ("North",))


def test_a_team_lead_ranks_only_their_departments_against_all(roles_db):
    at = as_user(LEAD_NORTH).run()
    at.switch_page("app_pages/quantity.py").run()
    table = at.dataframe[0].value
    assert table["department"].tolist() == ["All", "North"]
    assert any("your departments" in c.value for c in at.caption)


def test_a_team_lead_has_no_analyst_page(roles_db):
    at = as_user(LEAD_NORTH).run()
    for page in ANALYST_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


# --- analysts ---------------------------------------------------------------------------


PURCHASES_CSV = (
    b"purchase_id,purchased_at,customer_id,department,amount\n"
    b"p9,2025-03-02T10:00:00,c9,North,7.5\n"
)


def test_an_analyst_uploads_and_the_log_names_them(roles_db):
    at = as_user("ANALYST@example.com").run()  # any case signs in
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception
    at.file_uploader(key="upload_files").upload("march.csv", PURCHASES_CSV, "text/csv")
    at.run()
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("accepted" in s.value for s in at.success), [e.value for e in at.error]
    # the upload log, with human headers (the complete-months panel below it has a table too)
    log = next(df.value for df in at.dataframe if "File" in df.value.columns)
    assert log.iloc[0]["File"] == "march.csv"
    assert log.iloc[0]["By"] == ANALYST


def test_targets_saved_by_an_analyst_are_logged_under_their_email(roles_db):
    at = as_user(ANALYST).run()
    at.switch_page("app_pages/targets.py").run()
    save = next(b for b in at.button if b.label == "Save targets")
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved 2 targets" in s.value for s in at.success)
    con = store.connect(roles_db, read_only=True)
    try:
        log = store.read_upload_log(con)
    finally:
        con.close()
    assert log.iloc[0]["file_name"] == "targets editor"
    assert log.iloc[0]["user"] == ANALYST


def test_with_sign_in_off_the_log_says_local(roles_db):
    frame = data.targets()
    assert data.save_targets(frame).accepted
    con = store.connect(roles_db, read_only=True)
    try:
        assert store.read_upload_log(con).iloc[0]["user"] == auth.LOCAL_USER
    finally:
        con.close()


def test_an_unreadable_secrets_file_closes_the_app_instead_of_turning_sign_in_off(
    tmp_path, monkeypatch
):
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    bad = tmp_path / "secrets.toml"
    bad.write_text('[roles]\nceo@example.com = { role = "executive" }\n', encoding="utf-8")
    saved = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(bad)])
    monkeypatch.setattr(secrets_singleton, "_secrets", None)
    try:
        who = auth.resolve()
    finally:
        config.set_option("secrets.files", saved)
    assert isinstance(who, auth.Refusal)
    assert who.kind == "config" and "cannot be read" in who.message
