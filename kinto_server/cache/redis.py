"""Redis cache, as Kinto's ``kinto.core.cache.redis``: ``kinto.cache_url =
redis://[:password@]host:port/db``, ``kinto.cache_pool_size`` connections
at most (a request waits ``kinto.cache_pool_timeout`` seconds for one),
``kinto.cache_prefix`` before every key. Values are JSON; Redis expires
them (to the millisecond). A server that does not answer is a 503.

Uses redis-py, the Redis project's own client.
"""

import contextlib

import ujson

from kinto_server.cache import Cache
from kinto_server.errors import BackendUnavailable


@contextlib.contextmanager
def _answering():
    import redis

    try:
        yield
    except redis.RedisError as error:
        raise BackendUnavailable(f"Redis: {error}") from error


def _glob_escaped(text):
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisCache(Cache):
    shared_across_processes = True
    needs_url = True
    default_url = "redis://127.0.0.1:6379/0"

    def __init__(self, client, prefix=""):
        self.redis = client
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings):
        import redis

        timeout = settings["cache_socket_timeout_seconds"]
        pool = redis.BlockingConnectionPool.from_url(
            settings["cache_url"] or cls.default_url,
            max_connections=settings["cache_pool_size"],
            timeout=settings["cache_pool_timeout"],
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        return cls(redis.Redis(connection_pool=pool), settings["cache_prefix"])

    def get(self, key):
        with _answering():
            value = self.redis.get(self.prefix + key)
        return ujson.loads(value) if value is not None else None

    def set(self, key, value, ttl):
        with _answering():
            self.redis.psetex(self.prefix + key, max(int(ttl * 1000), 1), ujson.dumps(value))

    def delete(self, key):
        with _answering():
            pipeline = self.redis.pipeline()  # MULTI ... EXEC: a GETDEL on any Redis version.
            pipeline.get(self.prefix + key)
            pipeline.delete(self.prefix + key)
            value = pipeline.execute()[0]
        return ujson.loads(value) if value is not None else None

    def flush(self):
        with _answering():
            if not self.prefix:
                self.redis.flushdb()
                return
            # Only this server's keys: another one may share the database.
            keys = list(self.redis.scan_iter(match=_glob_escaped(self.prefix) + "*", count=1000))
            for start in range(0, len(keys), 1000):
                self.redis.delete(*keys[start : start + 1000])

    def close(self):
        self.redis.connection_pool.disconnect()

    def heartbeat(self):
        try:
            return bool(self.redis.ping())
        except Exception:
            return False
