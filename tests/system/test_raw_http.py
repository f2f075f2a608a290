"""Malformed HTTP on a real socket, to a real server process (waitress and
the whole application): broken request lines, raw bytes in targets and
headers, lying or conflicting lengths, bad chunked encodings, huge headers.
No answer is a 5xx, the server logs no traceback, and it keeps serving."""

import base64
import re
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.system.servers import ServerProcess, write_ini

pytestmark = pytest.mark.system

AUTH = b"Authorization: Basic " + base64.b64encode(b"alice:secret") + b"\r\n"
STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3}) ")

# RFC 9112: a transfer coding the server does not implement gets 501 (from
# waitress, before the application): the one 5xx that is the right answer.
UNSUPPORTED_CODING = (
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n" + AUTH + b"\r\n2\r\n{}\r\n0\r\n\r\n"
)

CATALOG = [
    b"GARBAGE\r\n\r\n",
    b"\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /v1/ HTTP/9.9\r\n\r\n",
    b"GET /v1/\r\n\r\n",
    b"GET  /v1/  HTTP/1.1\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://evil.example/v1/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/buckets/\xff\xfe HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n",
    b"GET /v1/buckets/\x00 HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n",
    b"GET /v1/buckets/%C3%28?%FF=%FE HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \xff\xfe\r\n\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + base64.b64encode(b"\xff:\x00") + b"\r\n\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: \xff\r\n" + AUTH + b"\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nNo-Colon-Header\r\n\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\n Folded: continuation\r\n\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 300_000 + b"\r\n\r\n",
    b"GET /v1/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n" + AUTH + b"\r\n{}",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n" + AUTH + b"\r\n{}",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n" + AUTH + b"\r\n{}",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n" + AUTH + b"\r\n{}",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n" + AUTH + b"\r\n{}",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n"
    + AUTH
    + b"\r\n2\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + AUTH + b"\r\nZZ\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + AUTH + b"\r\n5\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
    + AUTH
    + b"\r\n2\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    + AUTH
    + b'\r\n10\r\n{"data": {"id":\r\n0\r\n\r\n',
    b"POST /v1/buckets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"
    + AUTH
    + b"\r\n\xff\xfe\x00\x01",
    b"PUT /v1/buckets/raw HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=\xff\r\n"
    b"Content-Length: 2\r\n" + AUTH + b"\r\n{}",
    b"BREW /v1/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"get /v1/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on the plain port
]


def exchange(port, payload, timeout=10):
    """Send ``payload``, close our side, return the status codes answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # The server may close early (a header too large).
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    data = b"".join(chunks)
    return [int(code) for code in re.findall(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ", data)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("raw-http")
    ini, port = write_ini(directory, None, name="raw")
    process = ServerProcess(ini, port, directory / "raw.log")
    yield process
    process.stop()
    log = (directory / "raw.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def still_serving(server):
    assert exchange(server.port, b"GET /v1/ HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n") == [200]


@pytest.mark.parametrize("payload", CATALOG, ids=range(len(CATALOG)))
def test_malformed_request_never_gets_a_5xx(server, payload):
    codes = exchange(server.port, payload)
    if payload == UNSUPPORTED_CODING:
        assert codes == [501]
    else:
        assert all(code < 500 for code in codes)
    still_serving(server)


methods = st.sampled_from([b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS", b"X\xff"])
targets = st.one_of(
    st.sampled_from([b"/v1/", b"/v1/buckets", b"/v1/buckets/b/collections/c/records", b"/v1/batch", b"/v1/__api__"]),
    st.binary(min_size=1, max_size=40).map(lambda raw: b"/v1/" + raw.replace(b" ", b"").replace(b"\r\n", b"")),
)
header_lines = st.lists(
    st.tuples(
        st.sampled_from([b"Content-Type", b"If-Match", b"If-None-Match", b"Accept", b"Origin", b"X-Odd"]),
        st.binary(max_size=30).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=methods, target=targets, headers=header_lines, body=st.binary(max_size=60))
def test_generated_raw_requests_never_get_a_5xx(server, method, target, headers, body):
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: x", AUTH.rstrip(b"\r\n")]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    payload = b"\r\n".join(lines) + b"\r\n\r\n" + body
    assert all(code < 500 for code in exchange(server.port, payload))


def test_server_still_serves_after_the_hostile_traffic(server):
    still_serving(server)
