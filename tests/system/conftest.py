import pytest

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import ServerProcess, write_ini


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(request, tmp_path):
    """Two server processes sharing one database: the (emptied) PostgreSQL
    test database, or a new SQLite file."""
    if request.param == "postgresql":
        database_client()
        url = DATABASE_URL
    else:
        url = f"sqlite://{tmp_path}/shared.sqlite"
    servers = []
    try:
        for name in ("first", "second"):
            ini, port = write_ini(tmp_path, url, name=name)
            servers.append(ServerProcess(ini, port, tmp_path / f"{name}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()
