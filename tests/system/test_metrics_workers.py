"""/v1/__metrics__ with ``kinto_server start --workers 2``: whichever worker
answers, the counts are those of both."""

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
                assert http.get(f"{server.url}/__lbheartbeat__").status_code == 200

    with ThreadPoolExecutor(8) as pool:  # Concurrent connections: both workers take some.
        list(pool.map(probe, range(8)))
    expected = 8 * 25 + 1  # And the start-up probe's request.
    counts = reported(server, session(), expected)
    assert counts == [expected] * 10
    per_worker = shares(server.metrics_folder)
    assert len(per_worker) == 2 and all(per_worker.values()), per_worker  # Both served some.
    assert sum(per_worker.values()) == expected
