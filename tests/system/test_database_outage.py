"""The server on a PostgreSQL cluster of its own, which is stopped in the
middle of traffic then restarted: 503 with errno 201 and Retry-After while it
is down, recovery without a restart of the server, no committed write lost."""

import threading
import time

import pytest

from kinto_server.database import migrations, postgresql
from kinto_server.settings import load
from tests.backends import IN_CI
from tests.system.cluster import Cluster, binaries
from tests.system.servers import ServerProcess, free_port, session, write_ini

pytestmark = pytest.mark.system


@pytest.fixture
def cluster():
    if binaries() is None:
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are required in CI (/usr/lib/postgresql/<version>/bin)")
        pytest.skip("PostgreSQL server binaries are not installed")
    cluster = Cluster(free_port())
    try:
        cluster.init()
        settings = load({"kinto.storage_url": cluster.url}, environ={})
        client = postgresql.client_for(settings, "storage")
        for component in migrations.COMPONENTS:
            migrations.migrate(client, component)
        client.engine.dispose()
        yield cluster
    finally:
        cluster.destroy()


class Traffic:
    """A client creating records as fast as it can, remembering what was acknowledged."""

    def __init__(self, url):
        self.url = url
        self.http = session()
        self.acknowledged, self.statuses, self.bad = [], [], []
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            response = self.http.post(self.url, json={"data": {"n": n}})
            self.statuses.append(response.status_code)
            if response.status_code == 201:
                self.acknowledged.append(response.json()["data"]["id"])
            elif response.status_code == 503:
                body = response.json()
                if body["errno"] != 201 or "Retry-After" not in response.headers:
                    self.bad.append(response.text)
                time.sleep(0.02)
            else:
                self.bad.append(f"{response.status_code} {response.text}")


def test_outage_gives_503_then_recovers_without_losing_writes(cluster, tmp_path):
    ini, port = write_ini(tmp_path, cluster.url, name="outage")
    server = ServerProcess(ini, port, tmp_path / "server.log")
    try:
        records = f"{server.url}/buckets/default/collections/outage/records"
        http = session()
        assert http.get(records).status_code == 200

        traffic = Traffic(records)
        thread = threading.Thread(target=traffic.run)
        thread.start()
        time.sleep(1.5)
        cluster.stop()
        time.sleep(1.5)

        down = http.get(records)
        assert down.status_code == 503
        assert down.json()["errno"] == 201
        assert down.headers["Retry-After"] == "1"
        heartbeat = http.get(f"{server.url}/__heartbeat__")
        assert heartbeat.status_code == 503
        assert heartbeat.json() == {"storage": False, "permission": False, "cache": False}

        cluster.start()
        deadline = time.monotonic() + 20
        while http.get(records).status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)
        time.sleep(1)
        traffic.stop.set()
        thread.join(timeout=30)

        counts = {status: traffic.statuses.count(status) for status in set(traffic.statuses)}
        print(f"\nstatuses {counts}, acknowledged {len(traffic.acknowledged)}")
        assert traffic.bad == []
        assert 503 in traffic.statuses and traffic.statuses[-1] == 201
        stored = set()
        url = f"{records}?_limit=500"
        while url:
            response = http.get(url)
            stored.update(r["id"] for r in response.json()["data"])
            url = response.headers.get("Next-Page")
        assert set(traffic.acknowledged) <= stored
        assert http.get(f"{server.url}/__heartbeat__").status_code == 200
    finally:
        server.stop()
