"""A Server-Sent Events client over real HTTP, for the change stream's tests:
it parses the stream as the EventSource specification says (fields, comments,
events ended by a blank line)."""

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ujson


@dataclass
class Event:
    event: str
    data: object
    id: str | None
    comments: list = field(default_factory=list)


class EventStream:
    """A GET on a raw socket (a timeout leaves it usable, unlike http.client's
    buffered file), then the event stream parsed line by line."""

    def __init__(self, url, headers=None, timeout=10):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.last_id = None
        self.retry = None
        self.comments = []

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the stream")
        self._buffer += chunk

    def json(self):
        length = int(self.headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._fill()
        return ujson.loads(self._buffer[:length])

    def _line(self):
        while b"\n" not in self._buffer:
            self._fill()
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def next(self, timeout=10):
        """The next dispatched event (comments and id-only messages update
        ``comments`` and ``last_id`` on the way)."""
        deadline = time.monotonic() + timeout
        event, data, event_id = "message", [], None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no event within {timeout} s")
            self.sock.settimeout(remaining)
            line = self._line()
            if line == "":
                if event_id is not None:
                    self.last_id = event_id
                if data:
                    text = "\n".join(data)
                    return Event(event, ujson.loads(text), self.last_id)
                event, data, event_id = "message", [], None
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                event_id = value
            elif name == "retry":
                self.retry = int(value)

    def changes(self, count, timeout=10):
        """The next ``count`` change events (other events are kept in ``others``)."""
        found, deadline = [], time.monotonic() + timeout
        while len(found) < count:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if event.event == "change":
                found.append(event)
        return found

    def nothing_for(self, seconds):
        """True if no event arrives within ``seconds`` (comments do not count)."""
        try:
            event = self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected event {event}")

    def close(self):
        self.sock.close()
