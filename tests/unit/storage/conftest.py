import pytest

from kinto_server.storage import Filter, Operator
from kinto_server.storage.memory import MemoryStorage
from kinto_server.storage.postgresql import PostgreSQLStorage
from kinto_server.storage.sqlite import SQLiteStorage
from tests.backends import BACKENDS, database_client, sqlite_client


@pytest.fixture(params=BACKENDS)
def storage(request):
    """Every storage backend, so each contract test runs on all of them."""
    if request.param == "postgresql":
        return PostgreSQLStorage(database_client())
    if request.param == "sqlite":
        return SQLiteStorage(sqlite_client())
    return MemoryStorage()


def changes_since(storage, resource_name, parent_id, timestamp):
    """What a ``_since=timestamp`` poll of the parent lists, tombstones included."""
    return storage.list_all(
        resource_name=resource_name,
        parent_id=parent_id,
        filters=[Filter("last_modified", timestamp, Operator.GT)],
        include_deleted=True,
    )
