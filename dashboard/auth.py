"""Who is using the app and what they may do: Streamlit's OpenID Connect sign-in and a role map.

Sign-in is **off** unless ``.streamlit/secrets.toml`` has an ``[auth]`` section: the embedded
demo then has one user, ``local``, with every right (an analyst who sees every department).

When ``[auth]`` is present, users sign in with :func:`st.login` and the ``[roles]`` table of the
same secrets file gives each email a role::

    [roles]
    "ceo@example.com"        = { role = "executive" }
    "analyst@example.com"    = { role = "analyst" }
    "north.lead@example.com" = { role = "team_lead", departments = ["North"] }

* ``executive`` — views every department; no upload, no editing;
* ``analyst``   — views every department, uploads files, edits targets and settings;
* ``team_lead`` — views only the listed departments and *All* (the organisation-wide figure);
  no upload, no editing.

An ASCII email is matched without regard to case; any other email only exactly as written
(:func:`email_key`), so ``analyſt@…`` (long s) or ``Kate@…`` with the Kelvin sign never gets the
rights of ``analyst@…`` or ``kate@…``.  Two entries a person could not tell apart — equal once
NFKC-normalised and case-folded (:func:`look_alike_key`) — are a configuration error naming
both entries.  The provider's ``email_verified`` claim must be true; a provider that does not
send it is refused unless ``[auth] require_email_verified = false`` says it verifies every
address itself (Microsoft Entra ID sends no such claim).  A signed-in user who is not in the map
gets no access.  The map is checked on every run (it is tiny, and Streamlit reloads the secrets file
when it changes): a malformed map, a map without ``[auth]`` or ``[auth]`` without a map is a
:class:`Refusal` of kind ``"config"`` for everyone — fail closed, never "all rights".

Identity comes from ``st.user`` only, and tests drive it through Streamlit's own
``AppTest.user`` and ``AppTest.secrets`` (no hook of our own that a browser could reach).

:func:`current` is what the data glue calls before every read and write, so scoping and rights
are enforced where the data is, not only by which pages and widgets are drawn.
"""

from __future__ import annotations

import importlib.util
import logging
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from dashboard.format import md_text
from indicators import catalog

_LOG = logging.getLogger(__name__)

EXECUTIVE = "executive"
ANALYST = "analyst"
TEAM_LEAD = "team_lead"
ROLES: tuple[str, ...] = (EXECUTIVE, ANALYST, TEAM_LEAD)
ROLE_LABELS: dict[str, str] = {EXECUTIVE: "Executive", ANALYST: "Analyst", TEAM_LEAD: "Team lead"}

LOCAL_USER = "local"
"""The user name written to the upload log when sign-in is off."""

Scope = tuple[str, ...] | None
"""Departments a user may see besides *All*, sorted; ``None`` = every department."""


class Forbidden(PermissionError):
    """The current user may not read or write this."""


class RoleMapError(ValueError):
    """The ``[roles]`` table breaks its format; the message names the entry, not the email."""


@dataclass(frozen=True)
class Grant:
    """One entry of the role map."""

    role: str
    departments: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Access:
    """A user who may use the app, and what they may do."""

    user: str
    """The email as compared (:func:`email_key`) when signed in; :data:`LOCAL_USER` when off."""
    role: str
    departments: Scope = None
    signed_in: bool = False

    @property
    def scope(self) -> Scope:
        """The cache-key-friendly department scope (``None`` = everything)."""
        return self.departments

    @property
    def can_edit(self) -> bool:
        """Upload files, edit targets and settings."""
        return self.role == ANALYST

    @property
    def restricted(self) -> bool:
        return self.departments is not None

    def sees(self, department: str) -> bool:
        """Whether ``department`` (or *All*) is inside this user's view."""
        return (
            self.departments is None
            or department == catalog.ALL_DEPARTMENTS
            or department in self.departments
        )


LOCAL = Access(user=LOCAL_USER, role=ANALYST)
"""Sign-in off: the embedded demo's single user with every right."""


@dataclass(frozen=True)
class Refusal:
    """Why the app shows nothing: not signed in, not in the role map, or misconfigured."""

    kind: Literal["sign_in", "unknown_user", "config"]
    message: str
    email: str | None = None


# --- the role map (pure) ---------------------------------------------------------------


def email_key(address: str) -> str:
    """The form in which an email is compared: ASCII in lower case, anything else as written.

    Only an address that is ASCII as given is lower-cased.  Folding or normalising any other
    address could make it equal to someone else's: ``casefold``, ``lower`` and NFKC turn ``ſ``
    into ``s`` and the Kelvin sign into ``k``, and even NFC turns the Kelvin sign into ``K``.  A
    provider that sends a non-ASCII address in another case or normalisation than the role map
    has is refused, never let in as someone else.

    >>> email_key(" Ana@Example.org "), email_key("J\u00d6RG@example.org")
    ('ana@example.org', 'JÖRG@example.org')
    """
    address = address.strip()
    return address.lower() if address.isascii() else address


def look_alike_key(address: str) -> str:
    """``address`` NFKC-normalised and case-folded: equal here means a person sees one address.

    >>> look_alike_key("analy\u017ft@x.org") == look_alike_key("Analyst@X.org")
    True
    """
    folded = unicodedata.normalize("NFKC", address.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def _check_distinct(keys: list[str]) -> None:
    """Refuse two entries whose emails look alike, naming both (by position, not by email)."""
    first: dict[str, tuple[int, str]] = {}
    for n, key in enumerate(keys, start=1):
        seen = first.setdefault(look_alike_key(key), (n, key))
        if seen[0] == n:
            continue
        where = f"[roles] entries {seen[0]} and {n}"
        if seen[1] == key:
            raise RoleMapError(f"{where}: the same email is listed twice (case is ignored).")
        raise RoleMapError(
            f"{where} are look-alike emails (the same once case and look-alike characters such "
            "as ſ and s, \u212a and K, ß and ss are ignored): their users could not be told apart, "
            "so keep one."
        )


def parse_role_map(raw: object) -> dict[str, Grant]:
    """Check the ``[roles]`` table and return ``{email_key(email): Grant}``.

    Raises :class:`RoleMapError` naming the entry by position (emails stay out of a page that
    anonymous visitors can see).

    >>> parse_role_map({"A@x.org": {"role": "team_lead", "departments": ["North"]}})
    {'a@x.org': Grant(role='team_lead', departments=('North',))}
    """
    if not isinstance(raw, Mapping) or not raw:
        raise RoleMapError("[roles] must be a table with at least one user.")
    keys = [email_key(str(email)) for email in raw]
    for n, key in enumerate(keys, start=1):
        if "@" not in key or any(ch.isspace() for ch in key):
            raise RoleMapError(f"[roles] entry {n}: the key must be an email address in quotes.")
    _check_distinct(keys)
    return {
        key: _grant(f"[roles] entry {n}", entry)
        for n, (key, entry) in enumerate(zip(keys, raw.values(), strict=True), start=1)
    }


def _grant(where: str, entry: object) -> Grant:
    """One entry's value, checked: ``{ role = …, departments = […] }``."""
    if not isinstance(entry, Mapping):
        raise RoleMapError(f'{where}: the value must be a table such as {{ role = "executive" }}.')
    unknown = sorted(set(entry) - {"role", "departments"})
    if unknown:
        raise RoleMapError(f"{where}: unknown field(s) {', '.join(unknown)}.")
    role = entry.get("role")
    if role not in ROLES:
        raise RoleMapError(f"{where}: role must be one of {', '.join(ROLES)}; got {role!r}.")
    departments = entry.get("departments")
    if role != TEAM_LEAD:
        if departments is not None:
            raise RoleMapError(f"{where}: only a team_lead has departments ({role} sees all).")
        return Grant(role)
    if (
        not isinstance(departments, list)
        or not departments
        or not all(isinstance(d, str) and d.strip() for d in departments)
    ):
        raise RoleMapError(
            f"{where}: a team_lead needs departments = [\"…\"], a non-empty list of names."
        )
    if catalog.ALL_DEPARTMENTS in departments:
        raise RoleMapError(
            f"{where}: “{catalog.ALL_DEPARTMENTS}” is always shown; list real departments."
        )
    return Grant(role, tuple(sorted({d.strip() for d in departments})))


def require_email_verified(auth: Mapping[str, Any]) -> bool:
    """``[auth] require_email_verified`` (default true): refuse a sign-in without the claim."""
    value = auth.get("require_email_verified", True)
    if not isinstance(value, bool):
        raise RoleMapError("[auth] require_email_verified must be true or false.")
    return value


# --- reading the configuration --------------------------------------------------------


def _secrets() -> Mapping[str, Any]:
    """The secrets as a plain mapping; a secrets file that exists but cannot be read raises.

    Streamlit treats an unreadable secrets file like a missing one; here that would silently
    turn sign-in off and give everyone every right, so it is an error instead.
    """
    if st.secrets.load_if_toml_exists():
        return st.secrets.to_dict()
    for name in st.get_option("secrets.files"):
        path = Path(name)
        if path.is_file():
            try:
                tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise RoleMapError(f"{path.name} cannot be read: {exc}") from None
    return {}


def sign_in_configured(secrets: Mapping[str, Any]) -> bool:
    return isinstance(secrets.get("auth"), Mapping) and bool(secrets["auth"])


def providers(auth: Mapping[str, Any]) -> list[str]:
    """Named providers (``[auth.google]`` …); empty = the unnamed default in ``[auth]``."""
    return [k for k, v in auth.items() if isinstance(v, Mapping) and k != "client_kwargs"]


def _claims() -> Mapping[str, Any]:
    """The identity token's claims from ``st.user``; empty outside a script run."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    # Outside a run (a test calling the glue directly) st.user would log a warning per call.
    if get_script_run_ctx(suppress_warning=True) is None:
        return {}
    return dict(st.user.to_dict())


def resolve() -> Access | Refusal:
    """Who is here: an :class:`Access`, or a :class:`Refusal` saying why not."""
    try:
        secrets = _secrets()
        if not sign_in_configured(secrets):
            if "roles" in secrets:
                raise RoleMapError(
                    "A [roles] table is set but sign-in is not: add an [auth] section "
                    "(see .streamlit/secrets.example.toml) or remove [roles]."
                )
            return LOCAL
        if importlib.util.find_spec("authlib") is None:
            raise RoleMapError("Sign-in needs the Authlib package: pip install -r requirements.txt.")
        if "roles" not in secrets:
            raise RoleMapError("Sign-in is on but there is no [roles] table, so nobody may enter.")
        grants = parse_role_map(secrets["roles"])
        verified = require_email_verified(secrets["auth"])
    except RoleMapError as exc:
        _LOG.error("Access configuration refused: %s", exc)
        return Refusal("config", str(exc))

    return signed_in(_claims(), grants, require_verified=verified)


def signed_in(
    claims: Mapping[str, Any], grants: Mapping[str, Grant], *, require_verified: bool
) -> Access | Refusal:
    """The signed-in user's access from their identity claims, or why they have none."""
    if not claims.get("is_logged_in"):
        return Refusal("sign_in", "Sign in to see the dashboard.")
    email = email_key(str(claims.get("email") or ""))
    if not email:
        return Refusal("unknown_user", "Your identity provider did not share an email address.")
    verified = claims.get("email_verified")
    if verified is None and require_verified:
        return Refusal(
            "unknown_user", "Your identity provider did not say whether this email is verified.",
            email,
        )
    if verified is not None and not _is_true(verified):
        return Refusal("unknown_user", "Your identity provider has not verified this email.", email)
    grant = grants.get(email)
    if grant is None:
        return Refusal("unknown_user", "This account has no access to the dashboard.", email)
    return Access(user=email, role=grant.role, departments=grant.departments, signed_in=True)


def _is_true(claim: object) -> bool:
    """``True``, or the text ``"true"`` that some providers send (AWS Cognito)."""
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def current() -> Access:
    """The current user's access; :class:`Forbidden` when there is none."""
    who = resolve()
    if isinstance(who, Refusal):
        raise Forbidden(who.message)
    return who


def require_editor() -> Access:
    """The current user if they may write (upload, targets, settings); else :class:`Forbidden`."""
    who = current()
    if not who.can_edit:
        raise Forbidden(f"A {ROLE_LABELS[who.role].lower()} cannot change data or settings.")
    return who


# --- what the entrypoint draws --------------------------------------------------------


def gate() -> Access:
    """The current user's access; otherwise draw why not (with sign-in/out) and stop the run."""
    who = resolve()
    if isinstance(who, Access):
        return who
    st.title("Service strategy dashboard")
    if who.kind == "config":
        st.error(
            "The sign-in configuration is invalid, so the dashboard is closed. "
            f"{md_text(who.message)}",
            icon=":material/error:",
        )
        st.caption("An administrator can fix .streamlit/secrets.toml; the server log has details.")
    elif who.kind == "sign_in":
        st.info(who.message, icon=":material/lock:")
        auth_section = _secrets().get("auth", {})
        names = providers(auth_section)
        if names:
            for name in names:
                if st.button(f"Sign in with {name.capitalize()}", key=f"login-{name}", type="primary"):
                    st.login(name)
        elif st.button("Sign in", key="login", type="primary"):
            st.login()
    else:
        account = f" Signed in as {md_text(who.email)}." if who.email else ""
        st.warning(
            f"{md_text(who.message)}{account} Ask an administrator to add this email to the "
            "role map, or sign out and sign in with another account.",
            icon=":material/block:",
        )
        if st.button("Sign out", key="logout"):
            st.logout()
    st.stop()
    raise AssertionError("unreachable: st.stop() ends the run")  # pragma: no cover


def sidebar_account(who: Access) -> None:
    """Who is signed in, their role and scope, and the sign-out button."""
    with st.sidebar:
        if not who.signed_in:
            st.caption("Sign-in is off: local use, every right.")
            return
        scope = "" if who.departments is None else " · " + ", ".join(who.departments)
        st.caption(f"Signed in as {md_text(who.user)} · {ROLE_LABELS[who.role]}{md_text(scope)}")
        if st.button("Sign out", key="logout"):
            st.logout()
