"""OpenID Connect (kinto.plugins.openid), against the loopback provider of
tests/oidc_provider.py: Bearer tokens, the login dance, a provider that is
down, slow or refusing, and JWT audience checks."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from webtest import TestApp

from kinto_server import main
from kinto_server.settings import ConfigurationError
from tests.oidc_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, OpenIDProvider
from tests.support import ALICE, BASE_SETTINGS, SECRET, assert_error

CALLBACK = "http://localhost:3000/#tokens="
QUOTED = urllib.parse.quote(CALLBACK, safe="")


@pytest.fixture(scope="module")
def running_provider():
    provider = OpenIDProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(running_provider):
    running_provider.__dict__.update(
        refuse=None, userinfo_status=None, delay_seconds=0.0, calls=[], user=dict(OpenIDProvider().user)
    )
    if running_provider._server is None:
        running_provider.start()
    return running_provider


def openid_settings(provider, name="auth0", **extra):
    settings = {
        "kinto.includes": "kinto.plugins.openid kinto.plugins.default_bucket",
        "multiauth.policies": f"{name} basicauth",
        f"multiauth.policy.{name}.use": "kinto.plugins.openid.OpenIDConnectPolicy",
        f"multiauth.policy.{name}.issuer": provider.issuer,
        f"multiauth.policy.{name}.client_id": CLIENT_ID,
        f"multiauth.policy.{name}.client_secret": CLIENT_SECRET,
    }
    settings.update({f"multiauth.policy.{name}.{key}": value for key, value in extra.items()})
    return settings


@pytest.fixture
def make_openid_app(make_app, provider):
    """An app on the backend under test (its cache keeps verified tokens)."""

    def make(name="auth0", **extra):
        return make_app(**openid_settings(provider, name, **extra))

    return make


def memory_app(provider, name="auth0", **extra):
    return TestApp(main({}, **{**BASE_SETTINGS, **openid_settings(provider, name, **extra)}))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def redirect_query(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def authorize(location):
    """What the browser does at the provider: follow the login redirect, get
    sent back to the token endpoint (the provider consents at once)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(location, timeout=5)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302
        return answer.headers["Location"]
    raise AssertionError("the provider did not redirect")


def token_path(url):
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}"


# Bearer tokens.


def test_capability_lists_the_provider_as_kinto_does(provider):
    app = memory_app(provider, audience=AUDIENCE)
    capability = app.get("/v1/").json["capabilities"]["openid"]
    assert capability == {
        "description": "OpenID connect support.",
        "url": "http://kinto.readthedocs.io/en/stable/api/1.x/authentication.html",
        "providers": [
            {
                "name": "auth0",
                "issuer": provider.issuer,
                "auth_path": "/openid/auth0/login",
                "client_id": CLIENT_ID,
                "audience": AUDIENCE,
                "header_type": "Bearer",
                "userinfo_endpoint": provider.issuer + "/userinfo",
            }
        ],
    }


def test_bearer_token_authenticates_the_provider_user(make_openid_app, provider):
    app = make_openid_app()
    user = app.get("/v1/", headers=bearer(provider.issue_token())).json["user"]
    assert user["id"] == "auth0:alice"
    assert user["principals"] == ["auth0:alice", "system.Authenticated", "system.Everyone"]
    assert user["profile"] == {"sub": "alice", "email": "alice@example.com", "name": "Alice"}
    # As Kinto: the profile key is there for users of other policies too.
    assert app.get("/v1/", headers=ALICE).json["user"]["profile"] == {}


def test_provider_user_owns_what_it_creates(make_openid_app, provider):
    app = make_openid_app()
    token = provider.issue_token()
    created = app.put_json("/v1/buckets/b", {}, headers=bearer(token))
    assert created.status_code == 201
    assert created.json["permissions"] == {"write": ["auth0:alice"]}
    app.put_json("/v1/buckets/b/collections/c", {}, headers=bearer(token))
    record = app.post_json("/v1/buckets/b/collections/c/records", {"data": {"a": 1}}, headers=bearer(token))
    assert record.status_code == 201


def test_the_scheme_is_case_insensitive_and_other_schemes_are_ignored(provider):
    app = memory_app(provider)
    token = provider.issue_token()
    assert app.get("/v1/", headers={"Authorization": f"bearer {token}"}).json["user"]["id"] == "auth0:alice"
    assert "user" not in app.get("/v1/", headers={"Authorization": f"Token {token}"}).json
    assert "user" not in app.get("/v1/", headers={"Authorization": "Bearer "}).json
    assert provider.calls_to("/userinfo") == [("GET", "/userinfo", {})]


def test_a_verified_token_is_not_asked_again(make_openid_app, provider):
    app = make_openid_app()
    token = provider.issue_token()
    for _ in range(3):
        assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == "auth0:alice"
    assert len(provider.calls_to("/userinfo")) == 1
    other = provider.issue_token({"sub": "bob"})
    assert app.get("/v1/", headers=bearer(other)).json["user"]["id"] == "auth0:bob"
    assert len(provider.calls_to("/userinfo")) == 2


def test_a_refused_token_is_asked_again(make_openid_app, provider):
    app = make_openid_app()
    for _ in range(2):
        assert "user" not in app.get("/v1/", headers=bearer("not-a-token")).json
    assert len(provider.calls_to("/userinfo")) == 2


def test_expired_or_revoked_tokens_get_a_clear_401(make_openid_app, provider):
    app = make_openid_app()
    revoked = provider.issue_token()
    provider.revoke(revoked)
    for token in (provider.issue_token(expires_in=-5), revoked, "garbage"):
        assert "user" not in app.get("/v1/", headers=bearer(token)).json
        response = app.get("/v1/buckets", headers=bearer(token), status=401)
        body = assert_error(response, 401, 104)
        assert body["message"] == "Please authenticate yourself to use this endpoint."
        assert response.headers.getall("WWW-Authenticate") == [
            'Bearer realm="Realm", error="invalid_token"',
            'Basic realm="Realm"',
        ]
    anonymous = app.get("/v1/buckets", status=401)
    assert anonymous.headers.getall("WWW-Authenticate") == ['Bearer realm="Realm"', 'Basic realm="Realm"']


def test_userid_field_and_header_type_are_settings(provider):
    app = memory_app(provider, userid_field="email", header_type="Token", realm="Kinto")
    token = provider.issue_token()
    user = app.get("/v1/", headers={"Authorization": f"Token {token}"}).json["user"]
    assert user["id"] == "auth0:alice@example.com"
    assert "user" not in app.get("/v1/", headers=bearer(token)).json
    response = app.get("/v1/buckets", status=401)
    assert response.headers.getall("WWW-Authenticate")[0] == 'Token realm="Kinto"'
    # A profile without that field is no user.
    no_email = provider.issue_token({"sub": "carol"})
    assert "user" not in app.get("/v1/", headers={"Authorization": f"Token {no_email}"}).json


def test_the_policy_name_prefixes_user_ids_and_default_buckets(provider):
    import hashlib
    import hmac
    import uuid

    app = memory_app(provider, name="google")
    user = app.get("/v1/", headers=bearer(provider.issue_token())).json["user"]
    assert user["id"] == "google:alice"
    # Kinto's derivation (its default_bucket_hmac_secret is the empty string).
    digest = hmac.new(b"", b"google:alice", hashlib.sha256).hexdigest()
    assert user["bucket"] == str(uuid.UUID(digest[:32]))


def test_batch_subrequests_carry_the_token(make_openid_app, provider):
    app = make_openid_app()
    body = {"requests": [{"method": "PUT", "path": "/buckets/b"}, {"method": "GET", "path": "/"}]}
    responses = app.post_json("/v1/batch", body, headers=bearer(provider.issue_token())).json["responses"]
    assert responses[0]["status"] == 201
    assert responses[0]["body"]["permissions"] == {"write": ["auth0:alice"]}
    assert responses[1]["body"]["user"]["id"] == "auth0:alice"


# JWT audience.


def test_with_an_audience_only_jwts_for_it_are_accepted(provider):
    app = memory_app(provider, audience=AUDIENCE)
    assert app.get("/v1/", headers=bearer(provider.issue_token())).json["user"]["id"] == "auth0:alice"
    userinfo_calls = len(provider.calls_to("/userinfo"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 60}
    refused = [
        provider.issue_token(audience="https://elsewhere.example.com"),
        provider.issue_token(expires_in=-5),
        provider.sign(claims, key=other_key),  # not signed by the provider
        provider.sign({**claims, "iss": "https://impostor.example.com"}),
        "opaque-token",
    ]
    for token in refused:
        provider.tokens[token] = (dict(provider.user), now + 60)  # userinfo would accept it
        assert "user" not in app.get("/v1/", headers=bearer(token)).json
    # Refused before the provider's userinfo is asked.
    assert len(provider.calls_to("/userinfo")) == userinfo_calls


def test_a_jwt_is_not_cached_past_its_expiry(provider):
    app = memory_app(provider, audience=AUDIENCE, verification_ttl_seconds="86400")
    cache = app.app.registry.cache
    stored = []
    original = cache.set
    cache.set = lambda key, value, ttl: stored.append((key, ttl)) or original(key, value, ttl)
    token = provider.issue_token(expires_in=30)
    app.get("/v1/", headers=bearer(token))
    (key, ttl), *_ = [entry for entry in stored if entry[0].startswith("openid:verify:")]
    assert 0 < ttl <= 30
    assert token not in key  # an HMAC of it, keyed by the server's secret


def test_an_audience_needs_pyjwt_or_says_so(provider, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_jwt(name, *args, **kwargs):
        if name == "jwt":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jwt)
    with pytest.raises(ConfigurationError, match=r"audience needs PyJWT"):
        memory_app(provider, audience=AUDIENCE)


# A provider that is down, slow or failing.


def test_provider_down_is_a_503_not_a_500(make_openid_app, provider):
    app = make_openid_app()
    token = provider.issue_token()
    cached = provider.issue_token()
    app.get("/v1/", headers=bearer(cached))
    provider.stop()
    try:
        response = app.get("/v1/", headers=bearer(token), status=503)
        body = assert_error(response, 503, 201)
        assert body["message"] == "The identity provider 'auth0' cannot be reached, please retry later."
        assert response.headers["Retry-After"] == "3"
        app.get("/v1/buckets", headers=bearer(token), status=503)
        # Verified tokens and other policies keep working.
        assert app.get("/v1/", headers=bearer(cached)).json["user"]["id"] == "auth0:alice"
        assert app.get("/v1/", headers=ALICE).json["user"]["id"].startswith("basicauth:")
    finally:
        provider.start()
    assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == "auth0:alice"


def test_provider_errors_are_503s_and_its_refusals_are_not(provider):
    app = memory_app(provider)
    token = provider.issue_token()
    for status in (500, 502, 503):
        provider.userinfo_status = status
        assert_error(app.get("/v1/", headers=bearer(token), status=503), 503, 201)
    provider.userinfo_status = 403
    assert "user" not in app.get("/v1/", headers=bearer(token)).json


def test_a_hanging_provider_is_a_503_within_the_timeout(provider):
    app = memory_app(provider, timeout_seconds="0.3")
    token = provider.issue_token()
    provider.delay_seconds = 2
    started = time.monotonic()
    assert_error(app.get("/v1/", headers=bearer(token), status=503), 503, 201)
    assert time.monotonic() - started < 1.5


def test_the_server_starts_while_the_provider_is_down(provider):
    provider.stop()
    try:
        app = memory_app(provider)  # Kinto does not start.
        providers = app.get("/v1/").json["capabilities"]["openid"]["providers"]
        assert providers[0]["userinfo_endpoint"] is None
        login = f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid"
        assert_error(app.get(login, status=503), 503, 201)
    finally:
        provider.start()
    assert app.get(login, status=307).location.startswith(provider.issuer + "/authorize?")
    providers = app.get("/v1/").json["capabilities"]["openid"]["providers"]
    assert providers[0]["userinfo_endpoint"] == provider.issuer + "/userinfo"


# The login dance.


def test_login_redirects_to_the_provider_then_to_the_callback_with_tokens(make_openid_app, provider):
    app = make_openid_app()
    response = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid+email", status=307)
    assert response.location.startswith(provider.issuer + "/authorize?")
    sent = redirect_query(response.location)
    assert sent["client_id"] == CLIENT_ID
    assert sent["response_type"] == "code"
    assert sent["scope"] == "openid email"
    assert sent["redirect_uri"] == "http://localhost/v1/openid/auth0/token"
    assert len(sent["state"]) == 64 and "prompt" not in sent and "audience" not in sent

    back = authorize(response.location)
    answer = app.get(token_path(back), status=307)
    assert answer.location.startswith(CALLBACK)
    tokens = json.loads(base64.b64decode(urllib.parse.unquote(answer.location[len(CALLBACK) :])))
    assert sorted(tokens) == ["access_token", "expires_in", "id_token", "token_type"]
    trade = provider.calls_to("/token")[-1][2]
    assert trade == {
        "code": redirect_query(back)["code"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://localhost/v1/openid/auth0/token",
        "grant_type": "authorization_code",
    }
    user = app.get("/v1/", headers=bearer(tokens["access_token"])).json["user"]
    assert user["id"] == "auth0:alice"
    # A state is good once.
    again = app.get(token_path(back), status=400)
    assert again.json["details"] == [
        {"location": "body", "name": "state", "description": "Invalid state", "errno": 105}
    ]


def test_login_sends_prompt_and_audience(provider):
    app = memory_app(provider, audience=AUDIENCE)
    response = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid&prompt=none", status=307)
    sent = redirect_query(response.location)
    assert sent["prompt"] == "none"
    assert sent["audience"] == AUDIENCE


def test_a_refusal_of_the_provider_reaches_the_callback(provider):
    app = memory_app(provider)
    provider.refuse = "access_denied"
    location = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=307).location
    answer = app.get(token_path(authorize(location)), status=307)
    assert answer.location == CALLBACK + "error=access_denied&error_description=The+user+refused"
    assert provider.calls_to("/token") == []


def test_the_provider_answer_to_a_bad_code_reaches_the_callback(provider):
    app = memory_app(provider)
    location = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=307).location
    state = redirect_query(location)["state"]
    answer = app.get(f"/v1/openid/auth0/token?state={state}&code=forged", status=307)
    forwarded = base64.b64decode(urllib.parse.unquote(answer.location[len(CALLBACK) :]))
    assert json.loads(forwarded) == {"error": "invalid_grant"}


def test_token_endpoint_down_is_a_503(provider):
    app = memory_app(provider)
    location = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=307).location
    back = authorize(location)
    provider.stop()
    try:
        assert_error(app.get(token_path(back), status=503), 503, 201)
    finally:
        provider.start()


def _details(response):
    return [(d["location"], d["name"], d["description"]) for d in response.json["details"]]


def test_login_validates_its_querystring_as_kinto(provider):
    app = memory_app(provider)
    login = "/v1/openid/auth0/login"
    response = app.get(login, status=400)
    assert response.json["message"] == "callback in querystring: Required"
    assert _details(response) == [("querystring", "callback", "Required"), ("querystring", "scope", "Required")]
    response = app.get(login + "?callback=notaurl&scope=openid", status=400)
    assert _details(response) == [("querystring", "callback", "Must be a URL")]
    response = app.get(login + f"?callback={QUOTED}&scope=openid&prompt=login", status=400)
    assert _details(response) == [("querystring", "prompt", "String does not match expected pattern")]
    response = app.get(login + f"?callback={QUOTED}&scope=openid+offline_access+admin", status=400)
    assert response.json["message"] == "scope in body: Scopes not allowed: admin, offline_access"
    response = app.get(login + "?callback=http://evil.example.com/&scope=openid", status=400)
    assert response.json["message"] == "Untrusted callback URL"
    assert _details(response) == [("body", "callback", "Untrusted callback URL")]
    response = app.get("/v1/openid/nope/login", status=400)
    assert _details(response) == [
        ("querystring", "callback", "Required"),
        ("path", "provider", "Unknown provider 'nope'"),
        ("querystring", "scope", "Required"),
    ]
    response = app.get(f"/v1/openid/basicauth/login?callback={QUOTED}&scope=openid", status=400)
    assert response.json["message"] == "Unknown provider 'basicauth'"


def test_email_user_ids_need_the_email_scope(provider):
    app = memory_app(provider, userid_field="email")
    response = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=400)
    assert _details(response) == [("body", "scope", "Provider auth0 requires 'email' scope")]
    app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid+email", status=307)


def test_allowed_scopes_and_trusted_callbacks_are_settings(provider):
    app = memory_app(
        provider, allowed_scopes="openid offline_access", trusted_callback_urls="https://*.example.com/admin/*"
    )
    login = "/v1/openid/auth0/login?scope=openid+offline_access&callback="
    app.get(login + "https://kinto.example.com/admin/%23auth", status=307)
    app.get(login + QUOTED, status=400)  # the default ones no longer hold
    assert app.get(login.replace("offline_access", "email") + QUOTED, status=400).json["details"][0]["name"] == "scope"


def test_token_validates_its_querystring_as_kinto(provider):
    app = memory_app(provider)
    choice = "Provide either 'state' and 'code', or 'error' and 'error_description', but not both."
    token = "/v1/openid/auth0/token"
    assert _details(app.get(token, status=400)) == [("querystring", "state", "Required")]
    assert _details(app.get(token + "?code=c", status=400)) == [("querystring", "state", "Required")]
    assert _details(app.get(token + "?state=x", status=400)) == [("querystring", "", choice)]
    assert _details(app.get(token + "?state=x&code=c&error=e", status=400)) == [("querystring", "", choice)]
    for query in ("state=x&code=c", "state=x&error=access_denied"):
        response = app.get(f"{token}?{query}", status=400)
        assert response.json["message"] == "Invalid state"
    assert provider.calls_to("/token") == []


def test_states_expire(provider):
    app = memory_app(provider, state_ttl_seconds="1", state_length="8")
    location = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=307).location
    state = redirect_query(location)["state"]
    assert len(state) == 16
    time.sleep(1.1)
    app.get(f"/v1/openid/auth0/token?state={state}&code=c", status=400)


# Configuration.


def test_without_an_openid_policy_the_endpoints_know_no_provider(provider):
    app = TestApp(main({}, **{**BASE_SETTINGS, "kinto.includes": "kinto.plugins.openid"}))
    root = app.get("/v1/", headers=ALICE).json
    assert "openid" not in root["capabilities"]
    assert "profile" not in root["user"]
    response = app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=400)
    assert response.json["message"] == "Unknown provider 'auth0'"


def test_the_policy_works_without_the_plugin_as_in_kinto(provider):
    settings = openid_settings(provider)
    settings["kinto.includes"] = ""
    app = TestApp(main({}, **{**BASE_SETTINGS, **settings}))
    assert app.get("/v1/", headers=bearer(provider.issue_token())).json["user"]["id"] == "auth0:alice"
    app.get(f"/v1/openid/auth0/login?callback={QUOTED}&scope=openid", status=404)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("issuer", None, r"Missing setting multiauth.policy.auth0.issuer"),
        ("client_id", None, r"Missing setting multiauth.policy.auth0.client_id"),
        ("verification_ttl_seconds", "soon", r"Invalid value for setting multiauth.policy.auth0.verification_ttl"),
    ],
)
def test_configuration_mistakes_name_the_setting(provider, key, value, message):
    settings = {**BASE_SETTINGS, **openid_settings(provider)}
    if value is None:
        del settings[f"multiauth.policy.auth0.{key}"]
    else:
        settings[f"multiauth.policy.auth0.{key}"] = value
    with pytest.raises(ConfigurationError, match=message):
        main({}, **settings)


def test_openapi_describes_the_provider(provider):
    app = memory_app(provider)
    document = app.get("/v1/__api__").json
    scheme = document["components"]["securitySchemes"]["auth0"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["authorizationCode"]["authorizationUrl"] == provider.issuer + "/authorize"
    assert {"auth0": []} in document["security"]


def test_no_token_reaches_the_logs(provider, caplog):
    app = memory_app(provider)
    token = provider.issue_token()
    app.get("/v1/buckets", headers=bearer("refused-token-value"), status=401)
    app.get("/v1/", headers=bearer(token))
    provider.stop()
    try:
        app.get("/v1/", headers=bearer(token + "x"), status=503)
    finally:
        provider.start()
    assert caplog.records, "nothing was logged"
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert token not in logged and "refused-token-value" not in logged
    assert SECRET not in logged
