import pytest

from kinto_server.cache.memory import MemoryCache
from kinto_server.cache.postgresql import PostgreSQLCache
from kinto_server.cache.sqlite import SQLiteCache
from tests.backends import BACKENDS, database_client, sqlite_client


@pytest.fixture(params=BACKENDS)
def cache(request):
    """Every cache backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLCache(database_client())
    if request.param == "sqlite":
        return SQLiteCache(sqlite_client())
    return MemoryCache()
