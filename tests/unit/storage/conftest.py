import pytest

from kinto_server.storage.memory import MemoryStorage


@pytest.fixture(params=["memory"])
def storage(request):
    """Every storage backend, so each contract test runs on all of them."""
    backend = MemoryStorage()
    yield backend
    backend.flush()
