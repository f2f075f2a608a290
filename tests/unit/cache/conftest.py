import pytest

from kinto_server.cache.memory import MemoryCache
from kinto_server.cache.postgresql import PostgreSQLCache
from tests.backends import BACKENDS, database_client


@pytest.fixture(params=BACKENDS)
def cache(request):
    """Every cache backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLCache(database_client())
    return MemoryCache()
