"""How queued StatsD measurements leave the process: packed in datagrams
of at most DATAGRAM_BYTES, cut between lines, every line once and in
order; what an agent folds (set members, the last gauge) folded first."""

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


def test_what_an_agent_folds_is_sent_once_per_sending_and_every_timing_is_sent(service, agent):
    from kinto_server.metrics import LabelSet

    labels = LabelSet((("method", "get"), ("status", "200")), (("method", "get"),))
    other = LabelSet((("method", "put"), ("status", "201")), (("method", "put"),))
    user = LabelSet((("auth", "basicauth"), ("userid", "abc")), (("type", "basicauth"),))
    for seconds, size, request in ((0.001, 10, labels), (0.002, 20, other), (0.003, 30, labels)):
        service.request_done(request, seconds, size, user)
    service._pending.append("kinto.cache_hits:1|c")
    service.flush()
    lines = b"\n".join(datagrams(agent)).decode().split("\n")
    assert sorted(lines) == sorted(
        [
            "kinto.request_duration_seconds.method.get:1.000|ms",
            "kinto.request_duration_seconds.method.put:2.000|ms",
            "kinto.request_duration_seconds.method.get:3.000|ms",
            "kinto.cache_hits:1|c",
            "kinto.request_size:30|g",  # the last, as an agent keeps it
            "kinto.request_summary:method.get.status.200|s",
            "kinto.request_summary:method.put.status.201|s",
            "kinto.users:auth.basicauth.userid.abc|s",
            "kinto.authentication:type.basicauth|s",
        ]
    )
    service.request_done(labels, 0.004, 40, None)
    service.flush()
    assert datagrams(agent) == [
        b"kinto.request_duration_seconds.method.get:4.000|ms\nkinto.request_size:40|g\n"
        b"kinto.request_summary:method.get.status.200|s"
    ]
