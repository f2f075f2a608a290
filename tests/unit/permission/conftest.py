import pytest

from kinto_server.permission.memory import MemoryPermission


@pytest.fixture(params=["memory"])
def permission(request):
    """Every permission backend, so each contract test runs on all of them."""
    backend = MemoryPermission()
    yield backend
    backend.flush()
