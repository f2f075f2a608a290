"""Which backends the tests run on, and how to reach the test database.

Every contract test and every HTTP test runs once per backend. PostgreSQL
tests use ``KINTO_TEST_DATABASE_URL`` (default: the local server's
``kinto_server_test`` database); when it cannot be reached they are skipped
with the reason, except with ``CI=true`` where they fail.
``KINTO_TEST_BACKENDS=memory`` limits a local run to one backend.
"""

import functools
import os
import tempfile

import pytest

DATABASE_URL = os.environ.get("KINTO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/kinto_server_test")
BACKENDS = [b for b in os.environ.get("KINTO_TEST_BACKENDS", "memory,sqlite,postgresql").split(",") if b]
SQLITE_PATH = os.path.join(tempfile.mkdtemp(prefix="kinto-server-tests-"), "kinto.sqlite")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TABLES = "objects, timestamps, live_counts, declared_indexes, changes, access_control_entries, user_principals, cache"


def settings_for(backend):
    if backend == "memory":
        return {}
    url = DATABASE_URL if backend == "postgresql" else f"sqlite://{SQLITE_PATH}"
    return {
        f"kinto.{role}_{key}": value
        for role in ("storage", "permission", "cache")
        for key, value in (("backend", backend), ("url", url))
    }


@functools.lru_cache(maxsize=1)
def _migrated_sqlite():
    from kinto_server import backends
    from kinto_server.settings import load

    settings = load(settings_for("sqlite"), environ={})
    for role in ("storage", "permission", "cache"):
        backends.load(role, settings).migrate()
    return backends.load("storage", settings).client


def sqlite_client():
    """The test SQLite file's client, migrated and emptied."""
    client = _migrated_sqlite()
    for table in (
        "objects",
        "timestamps",
        "live_counts",
        "declared_indexes",
        "changes",
        "access_control_entries",
        "user_principals",
        "cache",
    ):
        client.execute(f"DELETE FROM {table}")
    return client


def prepare(backend):
    """An empty database for ``backend`` (or a skip with the reason)."""
    if backend == "postgresql":
        database_client()
    elif backend == "sqlite":
        sqlite_client()


@functools.lru_cache(maxsize=1)
def _prepared_database():
    """Migrate the test database once; return (client, None) or (None, reason)."""
    from kinto_server.database import migrations, postgresql
    from kinto_server.errors import BackendUnavailable
    from kinto_server.settings import load

    settings = load(settings_for("postgresql"), environ={})
    try:
        client = postgresql.client_for(settings, "storage")
        for component in migrations.COMPONENTS:
            migrations.migrate(client, component)
    except BackendUnavailable as error:
        return None, f"PostgreSQL is not reachable at {DATABASE_URL}: {error}"
    return client, None


def database_client():
    """The migrated test database's client, emptied; skip (or fail in CI) if
    absent. PostgreSQL-only tests skip too when ``KINTO_TEST_BACKENDS`` leaves
    PostgreSQL out."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINTO_TEST_BACKENDS")
    client, reason = _prepared_database()
    if client is None:
        if IN_CI:
            pytest.fail(f"PostgreSQL tests are mandatory in CI. {reason}")
        pytest.skip(reason)
    client.execute(f"TRUNCATE {TABLES}")
    return client


# The shared caches: Redis's database 15 on the machine's server, and a
# memcached of the tests' own (.ci/ensure-redis and .ci/ensure-memcached,
# run by `make test`, start them).
REDIS_URL = os.environ.get("KINTO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MEMCACHED_HOSTS = os.environ.get("KINTO_TEST_MEMCACHED_HOSTS", "127.0.0.1:11311")
CACHE_BACKENDS = [*BACKENDS, "redis", "memcached"]


def cache_settings(name):
    """The settings of a server whose cache is ``name`` (redis or memcached)."""
    if name == "redis":
        return {"kinto.cache_backend": "redis", "kinto.cache_url": REDIS_URL}
    return {"kinto.cache_backend": "memcached", "kinto.cache_hosts": MEMCACHED_HOSTS}


def shared_cache(name, settings=None):
    """A flushed Redis or memcached cache (to close); skip (fail in CI) if its
    server is down."""
    from kinto_server import backends
    from kinto_server.settings import load

    cache = backends.load("cache", load({**cache_settings(name), **(settings or {})}, environ={}))
    if not cache.heartbeat():
        cache.close()
        reason = f"{name} does not answer at {REDIS_URL if name == 'redis' else MEMCACHED_HOSTS}"
        if IN_CI:
            pytest.fail(f"{name} tests are mandatory in CI: {reason}")
        pytest.skip(reason)
    cache.flush()
    return cache


def cli_ini(tmp_path, backend):
    """An ini that ``kinto_server init`` wrote for ``backend`` (sqlite or
    postgresql: the test database, emptied, or a skip), its change stream
    on any free port (the template's may be taken)."""
    from kinto_server.scripts import cli

    path = tmp_path / "kinto.ini"
    argv = ["init", "--ini", str(path), "--backend", backend]
    if backend == "postgresql":
        database_client()
        argv += ["--database-url", DATABASE_URL]
    assert cli.main(argv) == 0
    path.write_text(path.read_text().replace("127.0.0.1:8889", "127.0.0.1:0"))
    return path


def statements_sent(client, monkeypatch, action):
    """The statements a PostgreSQL ``client`` sends while ``action()`` runs,
    one entry per round trip."""
    sent = []
    original = client.run

    def counting(fairy, sql, params, **kwargs):
        sent.append(str(sql))
        return original(fairy, sql, params, **kwargs)

    monkeypatch.setattr(client, "run", counting)
    try:
        action()
    finally:
        monkeypatch.setattr(client, "run", original)
    return sent
