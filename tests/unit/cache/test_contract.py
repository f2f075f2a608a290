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


def test_set_replaces_the_value_and_its_expiry(cache):
    cache.set("k", "old", ttl=0.05)
    cache.set("k", "new", ttl=60)
    time.sleep(0.1)
    assert cache.get("k") == "new"


def test_values_keep_their_json_type(cache):
    values = {"s": "é✓", "n": 1.5, "i": 10**15, "t": True, "z": None, "l": [1, "a"], "o": {"a": {"b": []}}}
    for key, value in values.items():
        cache.set(key, value, ttl=60)
    assert {key: cache.get(key) for key in values} == values


def test_any_key_is_taken(cache):
    keys = ["with space", "x" * 1000, "ünïcode", "new\nline", "accounts:verified:" + "f" * 64]
    for number, key in enumerate(keys):
        cache.set(key, number, ttl=60)
    assert [cache.get(key) for key in keys] == list(range(len(keys)))


def test_an_expired_value_is_not_returned_by_delete(cache):
    cache.set("k", "v", ttl=0.05)
    time.sleep(0.1)
    assert cache.delete("k") is None
