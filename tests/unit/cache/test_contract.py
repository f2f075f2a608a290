"""The cache contract, run against every backend."""

import time


def test_set_get_delete(cache):
    cache.set("k", {"a": 1}, ttl=60)
    assert cache.get("k") == {"a": 1}
    assert cache.delete("k") == {"a": 1}
    assert cache.get("k") is None
    assert cache.delete("k") is None


def test_values_expire(cache):
    cache.set("k", "v", ttl=0.05)
    time.sleep(0.1)
    assert cache.get("k") is None


def test_flush_and_heartbeat(cache):
    cache.set("k", "v", ttl=60)
    cache.flush()
    assert cache.get("k") is None
    assert cache.heartbeat() is True
