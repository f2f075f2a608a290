import pytest

from kinto_server.permission.memory import MemoryPermission
from kinto_server.permission.postgresql import PostgreSQLPermission
from tests.backends import BACKENDS, database_client


@pytest.fixture(params=BACKENDS)
def permission(request):
    """Every permission backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLPermission(database_client())
    return MemoryPermission()
