"""In-memory cache with expiry, for one process."""

import threading
import time

from kinto_server.cache import Cache


class MemoryCache(Cache):
    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}  # key -> (expires_at, value)

    @classmethod
    def from_settings(cls, settings):
        return cls()

    def get(self, key):
        entry = self._values.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            with self._lock:
                self._values.pop(key, None)
            return None
        return value

    def set(self, key, value, ttl):
        with self._lock:
            self._values[key] = (time.monotonic() + ttl, value)

    def delete(self, key):
        with self._lock:
            entry = self._values.pop(key, None)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def flush(self):
        with self._lock:
            self._values.clear()

    def heartbeat(self):
        return True
