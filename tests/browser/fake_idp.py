"""A minimal OpenID Connect provider for the browser tests, so ``st.login`` runs for real.

It serves discovery, an authorize endpoint that signs in whoever :attr:`FakeIdP.email` names
(no password page: the test chooses the user), a token endpoint returning an RS256-signed ID
token that carries the request's ``nonce``, and the JWKS that Authlib verifies the token with.
Test-only: it trusts every request and must never face a network.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "dashboard-test"
CLIENT_SECRET = "dashboard-test-secret"


class FakeIdP:
    """Start with :meth:`start`, set :attr:`email`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.email = "nobody@example.com"
        self._key = RSAKey.generate_key(2048, parameters={"kid": "test", "use": "sig"})
        self._codes: dict[str, dict[str, Any]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> FakeIdP:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _id_token(self, code: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": code["email"], "iat": now,
            "exp": now + 600, "nonce": code["nonce"], "email": code["email"],
            "email_verified": True, "name": code["email"].split("@")[0],
        }
        return jwt.encode({"alg": "RS256", "kid": "test"}, claims, self._key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet test output
                pass

            def _json(self, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json({
                        "issuer": idp.issuer,
                        "authorization_endpoint": f"{idp.issuer}/authorize",
                        "token_endpoint": f"{idp.issuer}/token",
                        "jwks_uri": f"{idp.issuer}/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    })
                elif url.path == "/jwks":
                    self._json({"keys": [idp._key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = secrets.token_urlsafe(16)
                    idp._codes[code] = {"email": idp.email, "nonce": query.get("nonce")}
                    target = query["redirect_uri"] + "?" + urlencode(
                        {"code": code, "state": query.get("state", "")}
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                code = idp._codes.pop(form.get("code", ""), None)
                if urlparse(self.path).path != "/token" or code is None:
                    self.send_error(400)
                    return
                self._json({
                    "access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                    "expires_in": 600, "id_token": idp._id_token(code),
                })

        return Handler
