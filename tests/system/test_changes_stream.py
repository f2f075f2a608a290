"""The change stream across real server processes sharing one database
(PostgreSQL, or one SQLite file): a write through one process reaches the
streams of the other, and a client away for 10 s during 1,000 writes gets
exactly those writes when it comes back."""

import time

import pytest
import requests

from tests.backends import DATABASE_URL, database_client
from tests.stream_client import EventStream
from tests.support import ALICE
from tests.system.conftest import serve_two
from tests.system.servers import ServerProcess, session, write_ini

INCLUDES = "kinto_server.plugins.default_bucket kinto_server.plugins.stream"
STREAM = """
kinto.changes.stream.listen = 127.0.0.1:{port}
kinto.changes.stream.heartbeat_seconds = 1
"""
RECORDS = "/buckets/b/collections/c/records"


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(request, tmp_path):
    """Two streaming server processes sharing one database, with a collection."""
    for servers in serve_two(request.param, tmp_path, extra=STREAM, includes=INCLUDES):
        http = session()
        http.put(f"{servers[0].url}/buckets/b", json={}).raise_for_status()
        http.put(f"{servers[0].url}/buckets/b/collections/c", json={}).raise_for_status()
        yield servers


def stream_url(server):
    capability = requests.get(f"{server.url}/", timeout=5).json()["capabilities"]["changes_stream"]
    return capability["url"] + "?resources=/buckets/b/collections/c"


def test_a_write_through_one_process_reaches_the_streams_of_the_other(two_servers):
    first, second = two_servers
    stream = EventStream(stream_url(second), headers=ALICE)
    try:
        assert stream.next().event == "ready"
        record = session().post(f"{first.url}{RECORDS}", json={"data": {"from": "first"}}).json()["data"]
        (event,) = stream.changes(1, timeout=5)
        assert event.data["data"] == record
    finally:
        stream.close()


def write_for(url, seconds, total):
    """``total`` records in batches of 25, spread over ``seconds``; their ids
    in the order they were acknowledged."""
    http = session()
    ids, batches = [], total // 25
    for n in range(batches):
        body = {
            "defaults": {"method": "POST", "path": RECORDS},
            "requests": [{"body": {"data": {"n": n * 25 + i}}} for i in range(25)],
        }
        answer = http.post(f"{url}/batch", json=body, timeout=10).json()
        assert [r["status"] for r in answer["responses"]] == [201] * 25
        ids.extend(r["body"]["data"]["id"] for r in answer["responses"])
        time.sleep(seconds / batches)
    return ids


def test_a_client_away_for_10_seconds_during_1000_writes_gets_exactly_those(two_servers):
    first, second = two_servers
    stream = EventStream(stream_url(first), headers=ALICE)
    assert stream.next().event == "ready"
    before = session().post(f"{second.url}{RECORDS}", json={"data": {"n": -1}}).json()["data"]
    (event,) = stream.changes(1, timeout=5)
    assert event.data["id"] == before["id"]
    stream.close()  # Away from here on.

    written = write_for(second.url, 10, 1000)

    back = EventStream(stream_url(first), headers={**ALICE, "Last-Event-ID": event.id})
    try:
        assert back.next().event == "ready"
        missed = back.changes(1000, timeout=30)
        assert [e.data["id"] for e in missed] == written
        assert len({e.id for e in missed}) == 1000
        assert back.nothing_for(1.5)
    finally:
        back.close()


def test_the_workers_of_one_server_share_the_stream_port(tmp_path):
    database_client()
    ini, port = write_ini(tmp_path, DATABASE_URL, extra=STREAM, includes=INCLUDES)
    server = ServerProcess(ini, port, tmp_path / "workers.log", workers=2)
    streams = []
    try:
        http = session()
        http.put(f"{server.url}/buckets/b", json={}).raise_for_status()
        http.put(f"{server.url}/buckets/b/collections/c", json={}).raise_for_status()
        for _ in range(6):  # The kernel spreads them over both workers.
            streams.append(EventStream(stream_url(server), headers=ALICE))
            assert streams[-1].next().event == "ready"
        record = http.post(f"{server.url}{RECORDS}", json={"data": {}}).json()["data"]
        for stream in streams:
            assert stream.changes(1, timeout=5)[0].data["id"] == record["id"]
    finally:
        for stream in streams:
            stream.close()
        server.stop()
