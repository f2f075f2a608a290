"""A Server-Sent Events client over real HTTP, for the change stream's tests:
it parses the stream as the EventSource specification says (fields, comments,
events ended by a blank line)."""

import http.client
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
    def __init__(self, url, headers=None, timeout=10):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.connection.request("GET", target, headers=headers or {})
        self.sock = self.connection.sock  # http.client lets go of it for a "Connection: close" answer
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.last_id = None
        self.retry = None
        self.comments = []

    def json(self):
        return ujson.loads(self.response.read())

    def _line(self):
        line = self.response.fp.readline()
        if not line:
            raise EOFError("the server closed the stream")
        return line.decode().rstrip("\n")

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
        self.response.close()
        self.sock.close()
        self.connection.close()
