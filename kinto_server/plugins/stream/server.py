"""The stream server: an asyncio HTTP server, in a thread of the process
that serves the API, on a port of its own (``kinto.changes.stream.listen``).

Why a port of its own: waitress gives each request a worker thread until
its answer is complete, so a stream served by waitress would hold a thread
for as long as the client listens, and a few streams would starve the API.
Here an open stream is a socket and a few objects in one event loop
(measured: about 10 KiB each), whatever their number; the API's threads
only ever run the short grant request that opens each stream.

Each connection: read the request head, have the WSGI application answer
it with the grant (:mod:`.grant`: authentication, parameters, permissions,
CORS; any refusal is relayed as it is), check the stream limits, then send
the event stream until the client leaves, the stream reaches its maximum
age (the client resumes at once, from its cursor), or it falls too far
behind (its unsent events would exceed ``MAX_UNSENT_BYTES``).
"""

import asyncio
import io
import logging
import os
import random
import resource
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import ujson

from kinto_server.errors import ERRORS, error_body
from kinto_server.plugins.stream.grant import GRANT_KEY, RECHECK_KEY
from kinto_server.plugins.stream.hub import Hub, Stream, cursor_text, message

logger = logging.getLogger(__name__)

PATH = "/v1/changes/stream"
MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT_SECONDS = 10
MAX_UNSENT_BYTES = 4 * 1024 * 1024
# Headers of the grant's answer that are not the stream's.
NOT_RELAYED = {"content-type", "content-length", "connection", "transfer-encoding"}
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}


def _head(status, headers):
    reason = REASONS.get(status, "")
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def error_response(status, errno, text, retry_after=None):
    body = ujson.dumps(error_body(status, errno, text)).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return _head(status, headers) + body


# Set by ``kinto_server start --workers N``: the descriptor of the stream's
# listening socket, bound once by the parent and shared by its workers.
INHERITED_SOCKET = "KINTO_SERVER_STREAM_FD"


def listening_socket(host, port, max_streams):
    """The stream's listening socket: the one inherited from the parent
    process of several workers, or a new one bound to ``host:port``."""
    _allow_descriptors(max_streams + 1024)
    inherited = os.environ.get(INHERITED_SOCKET)
    if inherited is not None:
        sock = socket.socket(fileno=int(inherited))
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    sock.setblocking(False)
    return sock


def _allow_descriptors(wanted):
    """Raise the soft limit of open descriptors (often 1024) towards
    ``wanted``, as far as the hard limit lets an unprivileged process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Request:
    def __init__(self, method, target, headers):
        self.method, self.target, self.headers = method, target, headers
        path, _, self.query = target.partition("?")
        self.path = unquote(path)


def parse_head(raw):
    """The request of a head (``bytes`` up to the blank line), or None."""
    try:
        lines = raw.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        return None
    if not version.startswith("HTTP/1."):
        return None
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        headers.append((name, value.strip()))
    return Request(method, target, headers)


def wsgi_environ(request, peer, server_address):
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query,
        "SERVER_NAME": server_address[0],
        "SERVER_PORT": str(server_address[1]),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": peer[0] if peer else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        GRANT_KEY: True,
    }
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = f"{environ['HTTP_' + key]},{value}" if "HTTP_" + key in environ else value
    environ["CONTENT_LENGTH"] = "0"
    return environ


def call_app(app, environ):
    """The WSGI application's (status code, headers, body)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], answer["headers"], body


class StreamServer:
    def __init__(self, registry, settings):
        self.registry = registry
        self.heartbeat_seconds = settings["changes.stream.heartbeat_seconds"]
        self.retry_ms = settings["changes.stream.retry_milliseconds"]
        self.max_per_user = settings["changes.stream.max_per_user"]
        self.max_per_process = settings["changes.stream.max_per_process"]
        self.max_seconds = settings["changes.stream.max_seconds"]
        self.recheck_seconds = settings["changes.stream.recheck_seconds"]
        self.retention_seconds = settings["changes.stream.retention_hours"] * 3600
        self.poll_seconds = settings["changes.stream.poll_seconds"]
        self.retry_after = settings["retry_after_seconds"]
        self.app = None
        self.loop = None
        self.hub = None
        self.address = None
        self.connections = 0
        self.open_streams = {}  # one entry (its user id) per stream being served

    def start(self, app, sock):
        """Serve ``sock`` from a new thread's event loop."""
        self.address = sock.getsockname()[:2]
        self.app = app
        self.loop = asyncio.new_event_loop()
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kinto-stream")
        self.executor = executor
        self.hub = Hub(self.registry, self.loop, executor, self.poll_seconds)
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)

            async def main():
                server = await asyncio.start_server(self.handle, sock=sock, limit=MAX_HEAD_BYTES)
                self.loop.create_task(self.hub.run())
                self.loop.create_task(self.hub.purge_forever(self.retention_seconds))
                ready.set()
                async with server:
                    await server.serve_forever()

            try:
                self.loop.run_until_complete(main())
            except asyncio.CancelledError:
                pending = asyncio.all_tasks(self.loop)
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            finally:
                self.loop.close()

        self.thread = threading.Thread(target=run, name="kinto-stream-server", daemon=True)
        self.thread.start()
        ready.wait(10)

    def stop(self):
        """Stop serving and end the thread (tests; a server process just exits)."""
        if self.loop is None or not self.loop.is_running():
            return

        def stop_loop():
            for task in asyncio.all_tasks(self.loop):
                task.cancel()

        self.loop.call_soon_threadsafe(stop_loop)
        self.thread.join(5)
        self.executor.shutdown(wait=False)

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # The client left, or the server stops.
        except Exception:
            logger.exception("Change stream connection failed")
        finally:
            self.connections -= 1
            writer.close()

    async def _handle(self, reader, writer):
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            return
        request = parse_head(raw)
        if request is None:
            writer.write(error_response(400, ERRORS.INVALID_PARAMETERS, "Malformed HTTP request."))
            return
        if request.path != PATH:
            text = "The resource you are looking for could not be found."
            writer.write(error_response(404, ERRORS.MISSING_RESOURCE, text))
            return
        if request.method == "GET" and len(self.open_streams) >= self.max_per_process:
            writer.write(self._too_many())
            return
        environ = wsgi_environ(request, writer.get_extra_info("peername"), self.address)
        status, headers, body = await self.hub.call(call_app, self.app, environ)
        if request.method != "GET" or status != 200:
            relayed = [(n, v) for n, v in headers if n.lower() not in ("connection",)] + [("Connection", "close")]
            writer.write(_head(status, relayed) + body)
            return
        grant = ujson.loads(body)
        kept = [(n, v) for n, v in headers if n.lower() not in NOT_RELAYED]
        if len(self.open_streams) >= self.max_per_process:  # Others opened meanwhile.
            writer.write(self._too_many())
            return
        user_id = grant["user_id"]
        if user_id is not None and sum(1 for u in self.open_streams.values() if u == user_id) >= self.max_per_user:
            text = f"Too many open change streams for this user (at most {self.max_per_user})."
            retry = str(self.retry_after)
            body = ujson.dumps(error_body(429, ERRORS.CLIENT_REACHED_CAPACITY, text)).encode()
            fields = kept + [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            writer.write(_head(429, fields + [("Retry-After", retry), ("Connection", "close")]) + body)
            return
        token = object()
        self.open_streams[token] = user_id  # Counted from now on, before anything else is awaited.
        try:
            await self.serve_stream(grant, kept, reader, writer, environ)
        finally:
            del self.open_streams[token]

    def _too_many(self):
        text = "Too many open change streams on this server, please retry later."
        return error_response(503, ERRORS.BACKEND, text, self.retry_after)

    async def recheck_forever(self, stream, environ):
        """Ask the API again, now and then, what this stream's credentials
        may read: a password changed, an account deleted, an access lost
        in any way revokes what it no longer gives."""
        environ = {**environ, RECHECK_KEY: True}
        environ.pop("HTTP_LAST_EVENT_ID", None)
        while not stream.closed.is_set():
            # Spread over time: streams opened together do not recheck together.
            await asyncio.sleep(self.recheck_seconds * random.uniform(0.75, 1.25))
            try:
                status, _, body = await self.hub.call(call_app, self.app, {**environ, "wsgi.input": io.BytesIO(b"")})
            except Exception:
                logger.exception("Could not recheck a change stream's access")
                continue
            if status == 200:
                stream.recheck(ujson.loads(body))
            elif status < 500:
                stream.recheck({"resources": []})

    async def serve_stream(self, grant, headers, reader, writer, environ):
        fields = [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
            ("Connection", "close"),
        ]
        writer.write(_head(200, fields + headers))
        transport = writer.transport

        def send(data):
            if transport.is_closing():
                stream.close()
                return
            writer.write(data)
            if transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
                stream.close()  # Too far behind: it will resume from its cursor.

        if grant["cursor"] is not None:
            start = tuple(grant["cursor"])
        else:
            # Now: the end of the log, which the hub may not have read yet.
            start = (await self.hub.call(self.registry.storage.changes_after, None, 1)).cursor
        stream = Stream(grant, start, send)
        ready = {"cursor": cursor_text(start), "resources": grant["resources"]}
        writer.write(f"retry: {self.retry_ms}\n".encode() + message("ready", ready, start))
        joining = self.loop.create_task(self.hub.join(stream, start))
        rechecking = self.loop.create_task(self.recheck_forever(stream, environ))
        gone = self.loop.create_task(reader.read(1))  # The client sends nothing more: this is its leaving.
        deadline = time.monotonic() + self.max_seconds
        try:
            while not stream.closed.is_set():
                closed = self.loop.create_task(stream.closed.wait())
                timeout = min(self.heartbeat_seconds, max(0.0, deadline - time.monotonic()))
                done, _ = await asyncio.wait({gone, closed}, timeout=timeout)
                closed.cancel()
                if gone in done or time.monotonic() >= deadline:
                    break
                if not done:
                    stream.heartbeat()
        finally:
            stream.close()
            joining.cancel()
            rechecking.cancel()
            gone.cancel()
            self.hub.leave(stream)
