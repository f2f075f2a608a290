"""PostgreSQL cache: JSON values with an expiry time, shared by every
server process using the database."""

import time

import ujson

from kinto_server.cache import Cache
from kinto_server.database import postgresql
from kinto_server.database.migrations import PostgreSQLSchema


class PostgreSQLCache(PostgreSQLSchema, Cache):
    component = "cache"

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_settings(cls, settings):
        return cls(postgresql.client_for(settings, "cache"))

    def get(self, key):
        rows = self.client.execute(
            "SELECT value FROM cache WHERE key = %(key)s AND expires_at > %(now)s", {"key": key, "now": time.time()}
        )
        return ujson.loads(rows[0][0]) if rows else None

    def set(self, key, value, ttl):
        now = time.time()
        self.client.execute(
            """
            WITH expired AS (DELETE FROM cache WHERE expires_at <= %(now)s)
            INSERT INTO cache (key, value, expires_at) VALUES (%(key)s, %(value)s, %(expires_at)s)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
            """,
            {"key": key, "value": ujson.dumps(value), "expires_at": now + ttl, "now": now},
        )

    def delete(self, key):
        rows = self.client.execute("DELETE FROM cache WHERE key = %(key)s RETURNING value, expires_at", {"key": key})
        return ujson.loads(rows[0][0]) if rows and rows[0][1] > time.time() else None

    def flush(self):
        self.client.execute("TRUNCATE cache")

    def heartbeat(self):
        return self.client.heartbeat()
