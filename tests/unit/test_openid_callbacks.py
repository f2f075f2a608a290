"""Which callback URLs the OpenID login sends tokens to."""

import pytest

from kinto_server.plugins.openid.callbacks import DEFAULT_TRUSTED, is_trusted

ADMIN = ["https://*.example.com/admin/*"]


@pytest.mark.parametrize(
    ("callback", "patterns"),
    [
        ("http://localhost:3000/#tokens=", DEFAULT_TRUSTED),
        ("http://127.0.0.1:8080/admin/", DEFAULT_TRUSTED),
        ("http://LOCALHOST:3000/", DEFAULT_TRUSTED),
        ("http://localhost/", DEFAULT_TRUSTED),  # port 80 matches the *
        ("https://kinto.example.com/admin/#auth/", ADMIN),
        ("https://a.b.example.com/admin/?q=1", ADMIN),
        ("https://kinto.example.com:443/admin/", ADMIN),
        ("http://[::1]:3000/", ["http://[::1]:*/*"]),
        ("https://exact.example.org/cb?x=[1]", ["https://exact.example.org/cb?x=[1]"]),
    ],
)
def test_trusted_callbacks(callback, patterns):
    assert is_trusted(callback, patterns)


@pytest.mark.parametrize(
    ("callback", "patterns"),
    [
        ("http://evil.com/", DEFAULT_TRUSTED),
        ("https://localhost:3000/", DEFAULT_TRUSTED),  # not the scheme of the pattern
        ("http://localhost:3000@evil.com/", DEFAULT_TRUSTED),
        ("http://user@localhost:3000/", DEFAULT_TRUSTED),
        ("http://evil.com\\.localhost:3000/", DEFAULT_TRUSTED),
        ("http://localhost:3000/ x", DEFAULT_TRUSTED),
        ("http://localhost:3000/\n", DEFAULT_TRUSTED),
        ("http://localhost:3000/../evil", DEFAULT_TRUSTED),
        ("http://localhost:3000/%2E%2e/evil", DEFAULT_TRUSTED),
        ("http://localhost:3000/a\\..\\evil", DEFAULT_TRUSTED),
        ("javascript:alert(1)", DEFAULT_TRUSTED),
        ("//localhost:3000/", DEFAULT_TRUSTED),
        ("http://localhost:abc/", DEFAULT_TRUSTED),
        ("https://example.com.evil.net/admin/", ADMIN),
        ("https://kinto.example.com/other/", ADMIN),
        ("https://kinto.example.com:8443/admin/", ADMIN),
        ("https://exact.example.org/cb?x=1", ["https://exact.example.org/cb?x=[1]"]),
        ("http://localhost:3000/", ["not a pattern", "ftp://localhost:*/*"]),
    ],
)
def test_untrusted_callbacks(callback, patterns):
    assert not is_trusted(callback, patterns)
