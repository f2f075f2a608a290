"""A small OpenID Connect provider on loopback, for the tests.

It serves what a server or a client of the OpenID plugin talks to: the
discovery document, an authorization endpoint that consents at once for
the user the test chose (or refuses, or answers an error), a token endpoint
trading codes for RS256-signed JWT access and ID tokens, a userinfo
endpoint and the JWKS. Tokens can be expired or revoked, the provider
stopped and restarted on the same port, and every call is counted.

    provider = OpenIDProvider().start()
    token = provider.issue_token({"sub": "alice", "email": "alice@example.com"})
    ...
    provider.stop()
"""

import base64
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "kinto-client"
CLIENT_SECRET = "kinto-client-secret"
AUDIENCE = "https://kinto.example.com"


class OpenIDProvider:
    def __init__(self, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, audience=AUDIENCE):
        self.client_id, self.client_secret, self.audience = client_id, client_secret, audience
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = "test-key"
        self.user = {"sub": "alice", "email": "alice@example.com", "name": "Alice"}
        self.refuse = None  # an OAuth2 error code the authorization endpoint answers instead of a code
        self.userinfo_status = None  # force an answer of userinfo (500, 503...)
        self.delay_seconds = 0.0  # before each answer (a provider that hangs)
        self.tokens = {}  # access token -> (profile, expires at)
        self.codes = {}  # code -> (profile, redirect_uri)
        self.calls = []  # (method, path, query or form)
        self._server = None
        self.port = 0

    # Running.

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        handler = type("Handler", (_Handler,), {"provider": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Shut the provider down (connections to its port are refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def calls_to(self, path):
        return [call for call in self.calls if call[1] == path]

    # Tokens.

    def issue_token(self, profile=None, expires_in=3600, audience=None):
        """A signed JWT access token that userinfo accepts until it expires."""
        profile = dict(profile or self.user)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": profile["sub"],
            "iat": now,
            "exp": now + expires_in,
            "jti": secrets.token_hex(8),
        }
        token = self.sign(claims)
        self.tokens[token] = (profile, now + expires_in)
        return token

    def sign(self, claims, key=None):
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.key_id})

    def revoke(self, token):
        self.tokens.pop(token, None)

    def discovery(self):
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "userinfo_endpoint": base + "/userinfo",
            "jwks_uri": base + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def jwks(self):
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}


class _Handler(BaseHTTPRequestHandler):
    provider = None  # set on the subclass made by OpenIDProvider.start

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self._answer("GET", url.path, query)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        self._answer("POST", url.path, form)

    def _answer(self, method, path, params):
        provider = self.provider
        provider.calls.append((method, path, params))
        if provider.delay_seconds:
            time.sleep(provider.delay_seconds)
        routes = {
            ("GET", "/.well-known/openid-configuration"): lambda: (200, provider.discovery()),
            ("GET", "/jwks"): lambda: (200, provider.jwks()),
            ("GET", "/authorize"): lambda: self._authorize(params),
            ("POST", "/token"): lambda: self._token(params),
            ("GET", "/userinfo"): self._userinfo,
        }
        route = routes.get((method, path))
        status, body = route() if route else (404, {"error": "not_found"})
        if status in (302, 303):
            self.send_response(status)
            self.send_header("Location", body)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        self.end_headers()
        self.wfile.write(payload)

    def _authorize(self, params):
        provider = self.provider
        if params.get("client_id") != provider.client_id or params.get("response_type") != "code":
            return 400, {"error": "invalid_request"}
        redirect_uri = params["redirect_uri"]
        answer = {"state": params.get("state", "")}
        if provider.refuse:
            answer.update(error=provider.refuse, error_description="The user refused")
        else:
            code = secrets.token_urlsafe(16)
            provider.codes[code] = (dict(provider.user), redirect_uri)
            answer["code"] = code
        return 302, redirect_uri + "?" + urllib.parse.urlencode(answer)

    def _token(self, form):
        provider = self.provider
        if (form.get("client_id"), form.get("client_secret")) != (provider.client_id, provider.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        profile, redirect_uri = provider.codes.pop(form.get("code"), (None, None))
        if profile is None or redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        access_token = provider.issue_token(profile)
        now = int(time.time())
        id_token = provider.sign(
            {"iss": provider.issuer, "aud": provider.client_id, "iat": now, "exp": now + 3600, **profile}
        )
        return 200, {"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": 3600}

    def _userinfo(self):
        provider = self.provider
        if provider.userinfo_status:
            return provider.userinfo_status, {"error": "server_error"}
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        profile, expires_at = provider.tokens.get(token, (None, 0))
        if scheme.lower() != "bearer" or profile is None or expires_at <= time.time():
            return 401, {"error": "invalid_token"}
        return 200, profile


def decode_tokens(fragment):
    """The provider's token answer a client receives after ``#tokens=``."""
    return json.loads(base64.b64decode(urllib.parse.unquote(fragment)))
