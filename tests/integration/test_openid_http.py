"""OpenID Connect end to end over real HTTP: kinto-http's browser login
(``BrowserOAuth``) through our login and token endpoints and the loopback
provider, then its calls with the token it received."""

import gc
import threading
import urllib.parse
import urllib.request
import webbrowser

import pytest
from kinto_http import BearerTokenAuth, BrowserOAuth, Client, KintoException

from tests.backends import settings_for
from tests.integration.conftest import _serve
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIDProvider
from tests.support import BASE_SETTINGS

pytestmark = pytest.mark.integration


@pytest.fixture
def provider():
    provider = OpenIDProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def openid_server_url(backend, provider):
    settings = {
        **BASE_SETTINGS,
        **settings_for(backend),
        "kinto.includes": "kinto.plugins.openid kinto.plugins.default_bucket",
        "multiauth.policies": "keycloak basicauth",
        "multiauth.policy.keycloak.use": "kinto.plugins.openid.OpenIDConnectPolicy",
        "multiauth.policy.keycloak.issuer": provider.issuer,
        "multiauth.policy.keycloak.client_id": CLIENT_ID,
        "multiauth.policy.keycloak.client_secret": CLIENT_SECRET,
    }
    yield from _serve(settings)


@pytest.fixture
def browser(monkeypatch):
    """A browser that follows every redirect of the page it is sent to."""
    visited = []

    def open_page(url, *args, **kwargs):
        def navigate():
            try:
                # As a browser sends it (kinto-http writes the scopes with a space).
                with urllib.request.urlopen(urllib.parse.quote(url, safe=":/?&=%#"), timeout=10) as page:
                    visited.append((url, page.geturl(), page.status))
            except Exception as error:
                visited.append((url, None, error))

        threading.Thread(target=navigate, daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", open_page)
    return visited


def within(seconds, function):
    """``function()``, or a failure if it does not return in time (kinto-http
    waits for the browser forever)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"no answer within {seconds} s"
    return result[0]


# kinto-http stops its callback server without closing its socket.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_kinto_http_browser_login_then_calls_with_the_token(openid_server_url, provider, browser):
    client = Client(server_url=openid_server_url, auth=BrowserOAuth(provider="keycloak"))
    info = within(20, client.server_info)
    gc.collect()  # its socket's warning, here rather than in another test
    assert info["user"]["id"] == "keycloak:alice"
    assert info["user"]["profile"]["email"] == "alice@example.com"
    ((started, landed, status),) = browser
    assert "/openid/keycloak/login?callback=http://localhost:" in started
    assert landed.startswith("http://localhost:") and status == 200
    # The token received works for writes, and for no one else's data.
    client.create_bucket(id="mine")
    client.create_collection(id="notes", bucket="mine")
    client.create_record(data={"title": "hello"}, bucket="mine", collection="notes")
    assert client.get_bucket(id="mine")["permissions"]["write"] == ["keycloak:alice"]
    bob = Client(server_url=openid_server_url, auth=BearerTokenAuth(provider.issue_token({"sub": "bob"})))
    with pytest.raises(KintoException) as denied:
        bob.get_records(bucket="mine", collection="notes")
    assert denied.value.response.status_code == 403


def test_kinto_http_with_an_expired_token_gets_a_401(openid_server_url, provider):
    client = Client(server_url=openid_server_url, auth=BearerTokenAuth(provider.issue_token(expires_in=-1)))
    assert "user" not in client.server_info()
    with pytest.raises(KintoException) as refused:
        client.create_bucket(id="nope")
    assert refused.value.response.status_code == 401
    assert 'error="invalid_token"' in refused.value.response.headers["WWW-Authenticate"]
