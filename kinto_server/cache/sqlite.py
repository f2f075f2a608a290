"""SQLite cache: JSON values with an expiry time, in the server's database file."""

import time

import ujson

from kinto_server.cache import Cache
from kinto_server.database import sqlite
from kinto_server.database.sqlite import SQLiteSchema


class SQLiteCache(SQLiteSchema, Cache):
    component = "cache"

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_settings(cls, settings):
        return cls(sqlite.client_for(settings, "cache"))

    def get(self, key):
        rows = self.client.execute(
            "SELECT value FROM cache WHERE key = :key AND expires_at > :now", {"key": key, "now": time.time()}
        )
        return ujson.loads(rows[0][0]) if rows else None

    def set(self, key, value, ttl):
        now = time.time()
        self.client.execute("DELETE FROM cache WHERE expires_at <= :now", {"now": now})
        self.client.execute(
            "INSERT INTO cache (key, value, expires_at) VALUES (:key, :value, :expires_at)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            {"key": key, "value": ujson.dumps(value), "expires_at": now + ttl},
        )

    def delete(self, key):
        rows = self.client.execute("DELETE FROM cache WHERE key = :key RETURNING value, expires_at", {"key": key})
        return ujson.loads(rows[0][0]) if rows and rows[0][1] > time.time() else None

    def flush(self):
        self.client.execute("DELETE FROM cache")

    def heartbeat(self):
        return self.client.heartbeat()
