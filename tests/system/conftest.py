import pytest

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import ServerProcess, write_ini


@pytest.fixture
def two_servers(tmp_path):
    """Two server processes sharing the (emptied) test database."""
    database_client()
    servers = []
    try:
        for name in ("first", "second"):
            ini, port = write_ini(tmp_path, DATABASE_URL, name=name)
            servers.append(ServerProcess(ini, port, tmp_path / f"{name}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()
