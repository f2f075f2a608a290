import pytest

from kinto_server.cache.memory import MemoryCache
from kinto_server.cache.postgresql import PostgreSQLCache
from kinto_server.cache.sqlite import SQLiteCache
from tests.backends import CACHE_BACKENDS, database_client, shared_cache, sqlite_client


@pytest.fixture(params=CACHE_BACKENDS)
def cache(request):
    """Every cache backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLCache(database_client())
    if request.param == "sqlite":
        return SQLiteCache(sqlite_client())
    if request.param in ("redis", "memcached"):
        cache = shared_cache(request.param)
        request.addfinalizer(cache.close)
        return cache
    return MemoryCache()
