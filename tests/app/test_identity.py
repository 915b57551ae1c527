"""Who is who: an e-mail matches a role-map entry only if it is the same address.

``casefold()`` made different addresses equal: ``analyſt@…`` (U+017F, long s) signed in with
``analyst@…``'s rights, and K (U+212A, Kelvin sign) and ``ß`` collided the same way.  Now an
ASCII address is compared in lower case and any other address exactly as written; two role-map
entries that a person could not tell apart (equal under NFKC and case folding) close the app at
start-up, naming both entries; and a provider's ``email_verified`` claim must be true — when a
provider does not send it, the user is refused unless ``[auth] require_email_verified = false``.

Identity is simulated as in ``test_roles.py``: ``AppTest.secrets`` and ``AppTest.user``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, data
from dashboard.format import md_text
from indicators import store
from tests.app.conftest import APP
from tests.app.test_roles import SECRETS, build_roles_db, data_elements

LONG_S = "analy\u017ft@example.com"
"""``analyſt@example.com``: casefold() and NFKC both make it ``analyst@example.com``."""
KELVIN = "\u212aate@example.com"
"""``Kate@example.com`` written with the Kelvin sign U+212A (casefold: ``kate@…``)."""
SHARP_S = "stra\u00dfe@example.com"
"""``straße@example.com`` (casefold: ``strasse@…``)."""

MAP = {
    **SECRETS["roles"],
    "kate@example.com": {"role": "analyst"},
    "strasse@example.com": {"role": "analyst"},
    "j\u00f6rg@example.com": {"role": "executive"},
}


@pytest.fixture
def roles_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The role tests' database (North and South in every dataset)."""
    path = build_roles_db(tmp_path / "roles.duckdb")
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def signed_in(email: str, *, roles: dict[str, Any] | None = None,
              auth_extra: dict[str, Any] | None = None, **claims: Any) -> AppTest:
    """The app as ``email`` with exactly ``claims`` (no ``email_verified`` unless given)."""
    at = AppTest.from_file(APP, default_timeout=60)
    secrets = {"auth": {**SECRETS["auth"], **(auth_extra or {})}, "roles": roles or MAP}
    at.secrets = json.loads(json.dumps(secrets))
    at.user = {"is_logged_in": True, "email": email, **claims}
    return at.run()


def let_in(at: AppTest) -> bool:
    assert not at.exception, [e.value for e in at.exception]
    return any("Signed in as" in c.value for c in at.sidebar.caption)


def refused(at: AppTest) -> bool:
    assert not at.exception, [e.value for e in at.exception]
    return bool(at.warning) and "administrator" in at.warning[0].value and data_elements(at) == {}


# --- the compared form of an address (pure) ---------------------------------------------------


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Analyst@Example.COM", "analyst@example.com"),
        ("  ceo@example.com ", "ceo@example.com"),
        (LONG_S, LONG_S),  # not ASCII: exactly as written, never folded to analyst@…
        (KELVIN, KELVIN),
        (SHARP_S, SHARP_S),
        ("J\u00d6RG@example.com", "J\u00d6RG@example.com"),  # no case rule outside ASCII
    ],
)
def test_an_address_is_compared_in_ascii_lower_case_or_exactly(address, key):
    assert auth.email_key(address) == key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("analyst@example.com", LONG_S),
        ("kate@example.com", KELVIN),
        ("strasse@example.com", SHARP_S),
        ("ceo@example.com", "\uff43eo@example.com"),  # fullwidth c
    ],
    ids=["long-s", "kelvin", "sharp-s", "fullwidth"],
)
def test_look_alike_entries_in_the_role_map_are_refused_naming_both(first, second):
    roles = {"ceo.other@example.com": {"role": "executive"},
             first: {"role": "executive"}, second: {"role": "analyst"}}
    with pytest.raises(auth.RoleMapError, match=r"entries 2 and 3 .*look-alike") as err:
        auth.parse_role_map(roles)
    assert "@" not in str(err.value)  # the error page is seen by anonymous visitors


def test_the_same_address_twice_still_says_twice_and_names_both_entries():
    with pytest.raises(auth.RoleMapError, match=r"entries 1 and 2: the same email is listed twice"):
        auth.parse_role_map({"ceo@example.com": {"role": "executive"},
                             "CEO@example.com": {"role": "analyst"}})


# --- signing in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [LONG_S, KELVIN, SHARP_S], ids=["long-s", "kelvin", "sharp-s"])
def test_a_look_alike_address_gets_no_rights_of_the_real_one(roles_db, email):
    assert refused(signed_in(email, email_verified=True))


def test_an_ascii_address_still_matches_in_any_case(roles_db):
    at = signed_in("ANALYST@Example.COM", email_verified=True)
    assert let_in(at)
    assert any("Analyst" in c.value for c in at.sidebar.caption)


def test_a_non_ascii_address_matches_exactly_as_written(roles_db):
    assert let_in(signed_in("j\u00f6rg@example.com", email_verified=True))
    assert refused(signed_in("J\u00d6RG@example.com", email_verified=True))


def test_a_look_alike_role_map_closes_the_app_at_start(roles_db):
    roles = {"analyst@example.com": {"role": "executive"}, LONG_S: {"role": "analyst"}}
    at = signed_in("analyst@example.com", roles=roles, email_verified=True)
    assert not at.exception
    assert at.error and "sign-in configuration is invalid" in at.error[0].value
    assert "entries 1 and 2" in at.error[0].value
    assert data_elements(at) == {}


# --- email_verified -------------------------------------------------------------------------------


@pytest.mark.parametrize("verified", [False, "false", 0, "yes"], ids=repr)
def test_an_email_the_provider_has_not_verified_is_refused(roles_db, verified):
    assert refused(signed_in("ceo@example.com", email_verified=verified))


@pytest.mark.parametrize("verified", [True, "true", "TRUE"], ids=repr)
def test_a_verified_email_is_let_in(roles_db, verified):
    assert let_in(signed_in("ceo@example.com", email_verified=verified))


def test_a_missing_email_verified_claim_is_refused_by_default(roles_db):
    at = signed_in("ceo@example.com")
    assert refused(at)
    assert "did not say whether" in at.warning[0].value


def test_a_provider_that_never_sends_the_claim_can_be_trusted_by_setting(roles_db):
    trusted = {"require_email_verified": False}
    assert let_in(signed_in("ceo@example.com", auth_extra=trusted))
    # a claim that is sent is still obeyed
    assert refused(signed_in("ceo@example.com", auth_extra=trusted, email_verified=False))


def test_a_setting_that_is_not_true_or_false_closes_the_app(roles_db):
    at = signed_in("ceo@example.com", auth_extra={"require_email_verified": "no"},
                   email_verified=True)
    assert at.error and md_text("require_email_verified must be true or false") in at.error[0].value
    assert data_elements(at) == {}


def test_the_example_secrets_file_documents_the_setting():
    example = Path(APP).parent / ".streamlit" / "secrets.example.toml"
    assert "require_email_verified" in example.read_text(encoding="utf-8")
