"""The cache interface: short-lived values with a time to live."""

import abc

from kinto_server.backends import Backend


class Cache(Backend, abc.ABC):
    @abc.abstractmethod
    def get(self, key):
        """Return the value stored under ``key``, or None if absent or expired."""

    @abc.abstractmethod
    def set(self, key, value, ttl):
        """Store ``value`` under ``key`` for ``ttl`` seconds."""

    @abc.abstractmethod
    def delete(self, key):
        """Remove ``key``; return its value, or None if it was absent."""

    @abc.abstractmethod
    def flush(self):
        """Remove everything."""

    @abc.abstractmethod
    def heartbeat(self):
        """Return True when the backend answers."""
