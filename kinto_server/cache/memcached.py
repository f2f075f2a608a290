"""Memcached cache, as Kinto's ``kinto.core.cache.memcached``: the servers of
``kinto.cache_hosts`` (``host:port`` separated by spaces; ``kinto.cache_url``
when empty, which is where ``kinto init`` writes them), keys spread over
them by rendezvous hashing, ``kinto.cache_prefix`` before every key.

Memcached expires whole seconds: each value carries its exact expiry time
too, checked on read, so a TTL of 0.5 s holds 0.5 s. Keys that memcached
cannot take (over 250 bytes, spaces, control or non-ASCII characters) are replaced by
their SHA-256. A server that does not answer is a 503.

Uses pymemcache (Pinterest's client, pure Python): a pool of connections per
server, and its rendezvous hashing to pick the server of a key.
"""

import contextlib
import hashlib
import math
import time

import ujson

from kinto_server.cache import Cache
from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError, as_list

DEFAULT_HOST = "127.0.0.1:11211"


@contextlib.contextmanager
def _answering():
    from pymemcache.exceptions import MemcacheError

    try:
        yield
    except (MemcacheError, OSError) as error:
        raise BackendUnavailable(f"memcached: {error}") from error


def _servers(settings):
    hosts = as_list(settings["cache_hosts"]) or as_list(settings["cache_url"]) or [DEFAULT_HOST]
    servers = []
    for host in hosts:
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ConfigurationError(f"cache_hosts: {host!r} is not host:port (such as {DEFAULT_HOST})")
        servers.append((name, int(port)))
    return servers


class MemcachedCache(Cache):
    shared_across_processes = True

    def __init__(self, clients, prefix=""):
        """``clients``: ``{"host:port": pymemcache client}``."""
        from pymemcache.client.rendezvous import RendezvousHash

        self.clients = clients
        self.hasher = RendezvousHash(list(clients))
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings):
        from pymemcache.client.base import PooledClient

        timeout = settings["cache_socket_timeout_seconds"]
        clients = {
            f"{host}:{port}": PooledClient(
                (host, port),
                max_pool_size=settings["cache_pool_size"],
                pool_idle_timeout=60,
                connect_timeout=timeout,
                timeout=timeout,
            )
            for host, port in _servers(settings)
        }
        return cls(clients, settings["cache_prefix"])

    def _key(self, key):
        full = self.prefix + key
        raw = full.encode("utf-8")
        if len(raw) > 250 or any(b <= 32 or b >= 127 for b in raw):
            return "sha256:" + hashlib.sha256(raw).hexdigest()
        return full

    def _client(self, key):
        return self.clients[self.hasher.get_node(key)]

    def _read(self, key):
        with _answering():
            stored = self._client(key).get(key)
        if stored is None:
            return None
        entry = ujson.loads(stored)
        return entry["value"] if entry["expires"] > time.time() else None

    def get(self, key):
        return self._read(self._key(key))

    def set(self, key, value, ttl):
        key = self._key(key)
        entry = ujson.dumps({"value": value, "expires": time.time() + ttl})
        # At least a second (0 would mean "never" to memcached).
        with _answering():
            self._client(key).set(key, entry, expire=max(math.ceil(ttl), 1), noreply=False)

    def delete(self, key):
        key = self._key(key)
        value = self._read(key)
        with _answering():
            self._client(key).delete(key, noreply=False)
        return value

    def flush(self):
        # Memcached cannot list keys: its servers are emptied, as Kinto does.
        with _answering():
            for client in self.clients.values():
                client.flush_all(noreply=False)

    def close(self):
        for client in self.clients.values():
            client.close()

    def heartbeat(self):
        try:
            return all(client.version() for client in self.clients.values())
        except Exception:
            return False
