import pytest

from kinto_server.permission.memory import MemoryPermission
from kinto_server.permission.postgresql import PostgreSQLPermission
from kinto_server.permission.sqlite import SQLitePermission
from tests.backends import BACKENDS, database_client, sqlite_client


@pytest.fixture(params=BACKENDS)
def permission(request):
    """Every permission backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLPermission(database_client())
    if request.param == "sqlite":
        return SQLitePermission(sqlite_client())
    return MemoryPermission()
