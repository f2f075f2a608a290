"""The ini files that Kinto 26.5's ``kinto init`` writes (memory and
PostgreSQL) start this server with ``use = egg:kinto_server`` and nothing
else changed (but the database URL, pointed at the tests' database): Kinto's
logging classes, ``%(http_port)s``, its plugin names (``kinto.plugins.admin``
serves our admin page) and its settings.

Kinto comes from PyPI, into bench/kinto-venv (as for the benchmarks and
``make compat``), installed on first use."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.backends import DATABASE_URL, IN_CI, database_client
from tests.system.servers import free_port, wait_until_up

pytestmark = pytest.mark.system
BENCH = str(Path(__file__).resolve().parents[2] / "bench")


@pytest.fixture(scope="session")
def kinto_bin():
    sys.path.insert(0, BENCH)
    try:
        from servers import ensure_kinto

        return ensure_kinto()
    except (OSError, subprocess.CalledProcessError) as error:
        if IN_CI:
            pytest.fail(f"Kinto 26.5 could not be installed from PyPI: {error}")
        pytest.skip(f"Kinto 26.5 could not be installed from PyPI: {error}")
    finally:
        sys.path.remove(BENCH)


def kinto_init(kinto_bin, tmp_path, backend):
    path = tmp_path / f"kinto-{backend}.ini"
    command = [str(kinto_bin / "kinto"), "init", "--ini", str(path), "--backend", backend, "--cache-backend", backend]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    text = path.read_text()
    assert "use = egg:kinto\n" in text and "logging_color_formatter.ColorFormatter" in text
    return path, text.replace("use = egg:kinto\n", "use = egg:kinto_server\n")


def cli(*args):
    return [sys.executable, "-m", "kinto_server.scripts.cli", *map(str, args)]


@pytest.mark.parametrize("backend", ["memory", "postgresql"])
def test_the_files_kinto_init_writes_start_this_server(kinto_bin, tmp_path, backend):
    path, text = kinto_init(kinto_bin, tmp_path, backend)
    if backend == "postgresql":
        database_client()
        text, count = re.subn(r"postgresql://postgres:postgres@localhost/postgres", DATABASE_URL, text)
        assert count == 3
    path.write_text(text)
    if backend == "postgresql":
        migrated = subprocess.run(cli("migrate", "--ini", path), capture_output=True, text=True, timeout=60)
        assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(cli("start", "--ini", path, "--port", port), stdout=output, stderr=output)
    try:
        wait_until_up(port)
        url = f"http://127.0.0.1:{port}/v1"
        root = requests.get(f"{url}/").json()
        assert {"accounts", "default_bucket"} <= set(root["capabilities"])
        # kinto init's policy: accounts, anyone may sign up, account:admin creates buckets.
        assert requests.put(f"{url}/accounts/admin", json={"data": {"password": "s3cret-pw"}}).status_code == 201
        created = requests.put(f"{url}/buckets/b", auth=("admin", "s3cret-pw"))
        assert created.status_code == 201
        assert requests.get(f"{url}/", auth=("admin", "s3cret-pw")).json()["user"]["id"] == "account:admin"
        page = requests.get(f"{url}/admin/")  # kinto init's includes: kinto.plugins.admin
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = log.read_text()
    assert "is not available in this server yet" not in logged
    assert '"PUT /v1/buckets/b" 201' in logged  # Kinto's colour request lines
    assert "s3cret-pw" not in logged
    assert "Traceback" not in logged
