"""A PostgreSQL database made by Kinto 26.5 (``kinto migrate``, then a record
written by Kinto) is recognised: ``kinto_server migrate`` and ``start``
refuse it with one line and leave every table, column and index as Kinto
made them (they used to record our migrations as applied against Kinto's
tables, add an index, then fail)."""

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.backends import DATABASE_URL, IN_CI
from tests.system.servers import free_port, wait_until_up
from tests.system.test_kinto_init_files import kinto_bin  # noqa: F401 - the fixture

pytestmark = pytest.mark.system

KINTO_INI = """
[app:main]
use = egg:{egg}
kinto.userid_hmac_secret = kinto-database-test
kinto.storage_backend = {prefix}storage.postgresql
kinto.storage_url = {url}
kinto.permission_backend = {prefix}permission.postgresql
kinto.permission_url = {url}
kinto.cache_backend = {prefix}cache.postgresql
kinto.cache_url = {url}
kinto.bucket_create_principals = system.Authenticated
multiauth.policies = basicauth

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
"""

SCHEMA = """
SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1, 2, 3
"""


@pytest.fixture
def kinto_database(kinto_bin, tmp_path):  # noqa: F811 - the fixture
    psycopg2 = pytest.importorskip("psycopg2")
    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/") + "_from_kinto"
    url = urlunsplit(parts._replace(path="/" + name))
    try:
        admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    except psycopg2.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL tests are mandatory in CI: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    kinto_ini = tmp_path / "kinto.ini"
    port = free_port()
    kinto_ini.write_text(KINTO_INI.format(egg="kinto", prefix="kinto.core.", url=url, port=port))
    subprocess.run([str(kinto_bin / "kinto"), "migrate", "--ini", str(kinto_ini)], check=True, capture_output=True)
    kinto = subprocess.Popen(
        [str(kinto_bin / "kinto"), "start", "--ini", str(kinto_ini)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        http = requests.Session()
        http.auth = ("alice", "secret")
        http.put(f"http://127.0.0.1:{port}/v1/buckets/b").raise_for_status()
        http.put(f"http://127.0.0.1:{port}/v1/buckets/b/collections/c").raise_for_status()
        http.put(f"http://127.0.0.1:{port}/v1/buckets/b/collections/c/records/r", json={"data": {"a": 1}})
    finally:
        kinto.terminate()
        kinto.wait(timeout=10)
    database = psycopg2.connect(url)
    database.autocommit = True
    yield url, database, tmp_path
    database.close()
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def schema(database):
    with database.cursor() as cursor:
        cursor.execute(SCHEMA)
        return cursor.fetchall()


def test_migrate_and_start_refuse_a_kinto_database_and_change_nothing(kinto_database):
    url, database, folder = kinto_database
    before = schema(database)
    assert ("objects", "last_modified", "timestamp without time zone") in before
    ours = folder / "ours.ini"
    ours.write_text(KINTO_INI.format(egg="kinto_server", prefix="kinto.core.", url=url, port=free_port()))
    command = [sys.executable, "-m", "kinto_server.scripts.cli"]
    for action in ("migrate", "start"):
        result = subprocess.run([*command, action, "--ini", str(ours)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = [line for line in result.stderr.splitlines() if line.startswith("kinto_server: ")]
        assert line.startswith(f"kinto_server: The database {Path(urlsplit(url).path).name} holds Kinto's schema ")
        assert "(storage 26, permission 2): kinto_server leaves it as it is." in line
    time.sleep(0.1)
    assert schema(database) == before
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM objects WHERE resource_name = 'record'")
        assert cursor.fetchone() == (1,)
