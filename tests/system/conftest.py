import pytest

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import ServerProcess, write_ini


def shared_database_url(backend, tmp_path):
    """The (emptied) PostgreSQL test database, or a new SQLite file."""
    if backend == "postgresql":
        database_client()
        return DATABASE_URL
    return f"sqlite://{tmp_path}/shared.sqlite"


def serve_two(backend, tmp_path, **ini_options):
    """Two server processes sharing one database (a generator for fixtures:
    the servers, then stopping them)."""
    url = shared_database_url(backend, tmp_path)
    servers = []
    try:
        for name in ("first", "second"):
            ini, port = write_ini(tmp_path, url, name=name, **ini_options)
            servers.append(ServerProcess(ini, port, tmp_path / f"{name}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(request, tmp_path):
    """Two server processes sharing one database."""
    yield from serve_two(request.param, tmp_path)
