"""What only the shared caches (Redis, memcached) do: Kinto's settings,
prefixes, and a server that does not answer."""

import pytest

from kinto_server import backends
from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError, load
from tests.backends import shared_cache


@pytest.fixture
def opened(request):
    """``opened(name, **settings)``: a shared cache closed after the test."""

    def open_cache(name, **settings):
        cache = shared_cache(name, settings)
        request.addfinalizer(cache.close)
        return cache

    return open_cache


def test_a_redis_prefix_keeps_servers_apart_and_flush_empties_only_its_own(opened):
    plain = opened("redis")
    prefixed = opened("redis", **{"kinto.cache_prefix": "stack1_*"})
    plain.set("k", "plain", ttl=60)
    prefixed.set("k", "prefixed", ttl=60)
    assert (plain.get("k"), prefixed.get("k"), plain.get("stack1_*k")) == ("plain", "prefixed", "prefixed")
    plain.set("stack1_other", "not matched by the escaped *", ttl=60)
    prefixed.flush()
    assert (plain.get("k"), prefixed.get("k"), plain.get("stack1_other")) == (
        "plain",
        None,
        "not matched by the escaped *",
    )


def test_a_memcached_prefix_keeps_servers_apart(opened):
    plain = opened("memcached")
    prefixed = opened("memcached", **{"kinto.cache_prefix": "stack1_"})
    plain.set("k", "plain", ttl=60)
    prefixed.set("k", "prefixed", ttl=60)
    assert (plain.get("k"), prefixed.get("k"), plain.get("stack1_k")) == ("plain", "prefixed", "prefixed")


def test_memcached_hosts_come_from_cache_url_as_kinto_init_writes_them(opened):
    hosts = opened("memcached")
    from_url = opened(
        "memcached",
        **{
            "kinto.cache_backend": "kinto.core.cache.memcached",
            "kinto.cache_hosts": "",
            "kinto.cache_url": ",".join(hosts.clients),
        },
    )
    from_url.set("k", 1, ttl=60)
    assert hosts.get("k") == 1


def test_memcached_hosts_must_be_host_and_port():
    settings = {"kinto.cache_backend": "memcached", "kinto.cache_hosts": "127.0.0.1"}
    with pytest.raises(ConfigurationError, match="cache_hosts: '127.0.0.1' is not host:port"):
        backends.load("cache", load(settings, environ={}))


@pytest.mark.parametrize(
    "settings",
    [
        {"kinto.cache_backend": "redis", "kinto.cache_url": "redis://127.0.0.1:1/0"},
        {"kinto.cache_backend": "memcached", "kinto.cache_hosts": "127.0.0.1:1"},
    ],
    ids=["redis", "memcached"],
)
def test_a_server_that_does_not_answer_is_unavailable_not_an_error(settings):
    cache = backends.load("cache", load({**settings, "kinto.cache_socket_timeout_seconds": "0.5"}, environ={}))
    try:
        assert cache.heartbeat() is False
        with pytest.raises(BackendUnavailable):
            cache.get("k")
        with pytest.raises(BackendUnavailable):
            cache.set("k", 1, ttl=60)
    finally:
        cache.close()
