import pytest

from kinto_server.cache.memory import MemoryCache


@pytest.fixture(params=["memory"])
def cache(request):
    """Every cache backend, so each contract test runs on all of them."""
    backend = MemoryCache()
    yield backend
    backend.flush()
