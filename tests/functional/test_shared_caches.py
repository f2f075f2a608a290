"""A server whose cache is Redis or memcached, as an ini written by
``kinto init`` configures it."""

import pytest

from tests.backends import cache_settings, shared_cache
from tests.support import auth

ACCOUNTS = {
    "kinto.includes": "kinto_server.plugins.accounts",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_create_principals": "system.Everyone",
}
KINTO_NAMES = {"redis": "kinto.core.cache.redis", "memcached": "kinto.core.cache.memcached"}


@pytest.fixture(params=["redis", "memcached"])
def cache_name(request):
    shared_cache(request.param).close()  # Skips (fails in CI) when the server is down.
    return request.param


def closing(request, app):
    request.addfinalizer(app.app.registry.cache.close)
    return app


def test_account_logins_are_cached_there(request, make_app, cache_name):
    settings = {**cache_settings(cache_name), "kinto.cache_backend": KINTO_NAMES[cache_name]}
    app = closing(request, make_app(**ACCOUNTS, **settings))
    app.post_json("/v1/accounts", {"data": {"id": "ann", "password": "ann-secret"}}, status=201)
    for _ in range(2):
        assert app.get("/v1/", headers=auth("ann", "ann-secret")).json["user"]["id"] == "account:ann"
    assert app.get("/v1/__heartbeat__").json == {"storage": True, "permission": True, "cache": True}


@pytest.mark.parametrize(
    "settings",
    [
        {"kinto.cache_backend": "redis", "kinto.cache_url": "redis://127.0.0.1:1/0"},
        {"kinto.cache_backend": "memcached", "kinto.cache_hosts": "127.0.0.1:1"},
    ],
    ids=["redis", "memcached"],
)
def test_a_cache_server_that_is_down_is_a_503_not_a_500(request, make_app, settings):
    app = closing(request, make_app(**ACCOUNTS, **settings, **{"kinto.cache_socket_timeout_seconds": "0.5"}))
    assert app.get("/v1/__heartbeat__", status=503).json["cache"] is False
    app.post_json("/v1/accounts", {"data": {"id": "ann", "password": "ann-secret"}}, status=201)
    response = app.get("/v1/", headers=auth("ann", "ann-secret"), status=503)
    assert response.json["errno"] == 201
