"""/v1/__metrics__ with ``kinto_server start --workers 2``: whichever worker
answers, the counts are those of both."""

import contextlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import ServerProcess, session, write_ini
from tests.system.test_workers import wait_for

pytestmark = pytest.mark.system
CLOSE = {"Connection": "close"}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    if request.param == "postgresql":
        database_client()
        url = DATABASE_URL
    else:
        url = f"sqlite://{tmp_path}/metrics.sqlite"
    includes = "kinto_server.plugins.default_bucket kinto.plugins.prometheus"
    ini, port = write_ini(tmp_path, url, name="metrics", includes=includes)
    # The test reads the workers' files there (the parent makes a folder of
    # its own when none is given).
    folder = tmp_path / "metrics"
    folder.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    try:
        process = ServerProcess(ini, port, tmp_path / "metrics.log", workers=2)
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    process.metrics_folder = folder
    wait_for(lambda: len(process.worker_pids()) == 2)
    yield process
    process.stop()


def heartbeat_count(text):
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "kinto_request_summary_total" and sample.labels["endpoint"] == "lbheartbeat":
                return sample.value
    return 0


def scrapes(server, http, count=10):
    return [
        heartbeat_count(http.get(f"{server.url}/__metrics__", headers={"Connection": "close"}).text)
        for _ in range(count)
    ]


def reported(server, http, expected, timeout=10):
    """What ten scrapes report, once they all report ``expected`` (each
    worker writes its totals for the others every second), or at the
    timeout."""
    deadline = time.monotonic() + timeout
    while True:
        counts = scrapes(server, http)
        if counts == [expected] * 10 or time.monotonic() > deadline:
            return counts
        time.sleep(0.3)


def shares(folder):
    """Each worker's own count of heartbeats, from the files they write."""
    found = {}
    for path in folder.glob("metrics-*.json"):
        dump = json.loads(path.read_text())
        found[path.name] = sum(
            numbers[0]
            for name, labels, numbers in dump["values"]
            if name == "request_summary" and "lbheartbeat" in labels
        )
    return found


def test_every_worker_reports_the_requests_of_both(server):
    def probe(_):
        with session() as http:
            for _ in range(25):
                # A new connection each time: the workers take turns accepting them.
                assert http.get(f"{server.url}/__lbheartbeat__", headers=CLOSE).status_code == 200

    # Concurrent connections: both workers usually take some; on a busy
    # machine one may take a whole burst, so bursts go on until both have.
    expected = 1  # The start-up probe's request.
    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(probe, range(8)))
        expected += 8 * 25
        # Each worker writes its file a second after it starts, then every second.
        wait_for(lambda total=expected: sum(shares(server.metrics_folder).values()) == total)
        per_worker = shares(server.metrics_folder)
        if len(per_worker) == 2 and all(per_worker.values()):
            break
    assert len(per_worker) == 2 and all(per_worker.values()), per_worker  # Both served some.
    counts = reported(server, session(), expected)
    assert counts == [expected] * 10
    assert sum(per_worker.values()) == expected


def test_statsd_lines_of_every_worker_reach_the_agent(tmp_path):
    import socket

    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    agent.settimeout(1.0)
    extra = f"kinto.statsd_url = udp://127.0.0.1:{agent.getsockname()[1]}\n"
    url = f"sqlite://{tmp_path}/statsd.sqlite"
    ini, port = write_ini(tmp_path, url, name="statsd", extra=extra, includes="kinto.plugins.statsd")
    process = ServerProcess(ini, port, tmp_path / "statsd.log", workers=2)
    try:
        wait_for(lambda: len(process.worker_pids()) == 2)

        def probe(_):
            with session() as http:
                for _ in range(25):
                    assert http.get(f"{process.url}/__lbheartbeat__").status_code == 200

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(probe, range(8)))
        lines = []
        with contextlib.suppress(TimeoutError):
            while True:  # until a second passes without a datagram
                datagram = agent.recv(65536).decode()
                assert len(datagram) <= 1400
                lines += datagram.split("\n")
    finally:
        process.stop()
        agent.close()
    # Every request's duration (a set member is sent once per sending: the
    # agent counts distinct members of its own interval anyway).
    durations = [line for line in lines if line.startswith("kinto.request_duration_seconds.method.get.endpoint.lbh")]
    assert len(durations) == 8 * 25 + 1  # and the start-up probe's
    assert any(line.startswith("kinto.request_summary:method.get.endpoint.lbheartbeat.") for line in lines)
