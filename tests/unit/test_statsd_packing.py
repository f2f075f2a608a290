"""How queued StatsD lines leave the process: packed in datagrams of at
most DATAGRAM_BYTES, cut between lines, every line once and in order."""

import pytest

from kinto_server.plugins.statsd import DATAGRAM_BYTES, StatsDService


@pytest.fixture
def agent(statsd_listener):
    statsd_listener.settimeout(0.5)
    return statsd_listener


@pytest.fixture
def service(agent):
    found = StatsDService(*agent.getsockname())
    found._closed.set()  # no sender thread: the test flushes
    yield found
    found.socket.close()


def datagrams(agent):
    received = []
    try:
        while True:
            received.append(agent.recv(65536))
    except TimeoutError:
        return received


def test_lines_are_packed_between_line_ends_every_one_once_in_order(service, agent):
    blocks = [f"kinto.line{i}:{'x' * (i * 37 % 300)}|c" for i in range(400)]
    blocks.insert(10, "kinto.request_summary:a|s\nkinto.request_duration_seconds:1.5|ms\nkinto.request_size:12|g")
    for block in blocks:
        service._pending.append(block)
    service.flush()
    received = datagrams(agent)
    assert all(len(datagram) <= DATAGRAM_BYTES for datagram in received)
    assert len(received) < len(blocks) / 5  # packed, not one per line
    assert b"\n".join(received).decode().split("\n") == "\n".join(blocks).split("\n")


def test_a_line_longer_than_a_datagram_goes_alone_and_its_neighbours_are_kept(service, agent):
    long_line = "kinto.users:" + "u" * (DATAGRAM_BYTES * 2) + "|s"
    for block in ("kinto.a:1|c", long_line, "kinto.b:1|c"):
        service._pending.append(block)
    service.flush()
    assert datagrams(agent) == [b"kinto.a:1|c", long_line.encode(), b"kinto.b:1|c"]


def test_lengths_are_counted_in_bytes(service, agent):
    line = "kinto.request_summary:bucket_id.é" + "é" * 300 + "|s"  # two bytes per é
    for _ in range(6):
        service._pending.append(line)
    service.flush()
    received = datagrams(agent)
    assert all(len(datagram) <= DATAGRAM_BYTES for datagram in received)
    assert b"\n".join(received).decode().split("\n") == [line] * 6


def test_nothing_queued_sends_nothing(service, agent):
    service.flush()
    assert datagrams(agent) == []
