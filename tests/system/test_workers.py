"""``kinto_server start --workers N``: several processes on one port and one
PostgreSQL database, supervised by a parent that replaces dead workers."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import ServerProcess, session, write_ini

pytestmark = pytest.mark.system


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    """Two worker processes on one port, sharing a PostgreSQL database or a
    SQLite file (created by the first of them to start)."""
    if request.param == "postgresql":
        database_client()
        url = DATABASE_URL
    else:
        url = f"sqlite://{tmp_path}/workers.sqlite"
    ini, port = write_ini(tmp_path, url, name="workers")
    process = ServerProcess(ini, port, tmp_path / "workers.log", workers=2)
    wait_for(lambda: len(process.worker_pids()) == 2)
    yield process
    process.stop()


def test_workers_serve_one_port_and_share_the_data(server):
    http = session()
    assert http.put(f"{server.url}/buckets/shared").status_code == 201
    assert http.put(f"{server.url}/buckets/shared/collections/c").status_code == 201
    created = set()
    for i in range(40):
        # A new connection each time, so both workers take some of them.
        response = http.post(
            f"{server.url}/buckets/shared/collections/c/records",
            json={"data": {"i": i}},
            headers={"Connection": "close"},
        )
        assert response.status_code == 201
        created.add(response.json()["data"]["id"])
    listed = http.get(f"{server.url}/buckets/shared/collections/c/records", headers={"Connection": "close"})
    assert {record["id"] for record in listed.json()["data"]} == created
    timestamps = [record["last_modified"] for record in listed.json()["data"]]
    assert len(set(timestamps)) == len(timestamps)


def test_dead_worker_is_replaced_and_the_port_keeps_answering(server):
    first, second = server.worker_pids()
    os.kill(first, signal.SIGKILL)
    http = session()
    for _ in range(20):
        assert http.get(f"{server.url}/", headers={"Connection": "close"}).status_code == 200
    wait_for(lambda: len(server.worker_pids()) == 2)
    assert first not in server.worker_pids()
    assert second in server.worker_pids()
    assert http.get(f"{server.url}/", headers={"Connection": "close"}).status_code == 200


def test_sigterm_stops_the_workers_with_the_server(server):
    workers = server.worker_pids()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=10) == 0
    for pid in workers:
        wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or _is_zombie(pid), timeout=5)


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_several_workers_refuse_memory_backends(tmp_path):
    ini = tmp_path / "memory.ini"
    ini.write_text("[app:main]\nuse = egg:kinto_server\nkinto.userid_hmac_secret = s\n")
    command = [sys.executable, "-m", "kinto_server.scripts.cli", "start", "--ini", str(ini), "--workers", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "use PostgreSQL backends" in result.stderr
