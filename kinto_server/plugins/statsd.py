"""StatsD (Kinto's ``kinto.plugins.statsd``): the measurements of
:mod:`kinto_server.metrics` sent over UDP to ``kinto.statsd_url``
(``udp://host:port``), prefixed ``kinto.`` (Kinto 26.5 prefixes its
project name, whatever ``statsd_prefix`` says), labels appended to the
key as Kinto does (``backend.storage.seconds.method.get``): timings in
milliseconds (``|ms``), counts (``|c``), a count with labels as a set of
the label values (``|s``, as Kinto: unique users...), observed values as
gauges (``|g``).

The protocol is a few lines of text: written here, no dependency. A
request only queues its lines; a thread of the process sends what was
queued every ``SEND_SECONDS`` (0.1 s), packed in datagrams of up to 1,400
bytes: a few system calls per second and a few wake-ups of the agent, not
one per metric (Kinto) nor one per request. Sending never blocks nor fails
a request: a datagram that cannot be sent is dropped, and so are the
oldest lines if the sender falls behind by ``MAX_PENDING`` blocks.
"""

import atexit
import collections
import contextlib
import os
import socket
import threading
import weakref
from urllib.parse import urlparse

from kinto_server.metrics import request_labels, user_labels
from kinto_server.settings import ConfigurationError

PREFIX = "kinto"


def _clean(value):
    # Telegraf does not take ':' in values; '|' and newlines would break the line.
    return str(value).replace(":", "").replace("|", "").replace("\n", "")


def _with_labels(key, labels):
    return key + "".join(f".{name}.{_clean(value)}" for name, value in labels)


DATAGRAM_BYTES = 1400  # Within an Ethernet MTU.
SEND_SECONDS = 0.1
MAX_PENDING = 100_000  # blocks of lines (a request's, or one line)


class StatsDService:
    def __init__(self, host, port, prefix=PREFIX):
        self.address = (host, port)
        self.prefix = f"{prefix}." if prefix else ""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.setblocking(False)
        # deque appends and pops are atomic: requests queue without a lock.
        self._pending = collections.deque(maxlen=MAX_PENDING)
        self._requests = {}  # (label values, status) -> the fixed parts of the request's lines
        self._users = {}  # (user id, policy) -> the users and authentication lines
        self._closed = threading.Event()
        self._start_sender()
        # A worker forked from a process that built the app gets its own sender.
        os.register_at_fork(after_in_child=_restart_in_child(self))
        atexit.register(_flush_at_exit(self))

    def _start_sender(self):
        self._sender = threading.Thread(target=self._send_loop, name="statsd-sender", daemon=True)
        self._sender.start()

    def _send_loop(self):
        while not self._closed.wait(SEND_SECONDS):
            self.flush()

    def _send(self, line):
        self._pending.append(line)

    def flush(self):
        """Send what is queued, packed in datagrams of up to DATAGRAM_BYTES."""
        pending = self._pending
        datagram, size = [], 0
        while pending:
            try:
                block = pending.popleft()
            except IndexError:  # emptied by another flush meanwhile
                break
            for part in (block,) if len(block) <= DATAGRAM_BYTES else block.split("\n"):
                if datagram and size + len(part) + 1 > DATAGRAM_BYTES:
                    self._sendto("\n".join(datagram))
                    datagram, size = [], 0
                datagram.append(part)
                size += len(part) + 1
        if datagram:
            self._sendto("\n".join(datagram))

    def _sendto(self, text):
        with contextlib.suppress(OSError):  # Best effort: never a failed request.
            self.socket.sendto(text.encode("utf-8"), self.address)

    def timing(self, key, seconds, labels=()):
        self._send(f"{self.prefix}{_with_labels(key, labels)}:{seconds * 1000:.3f}|ms")

    def timer(self, key, labels=()):
        start = f"{self.prefix}{_with_labels(key, labels)}:"
        return lambda seconds: self._send(f"{start}{seconds * 1000:.3f}|ms")

    def observe(self, key, value, labels=()):
        self._send(f"{self.prefix}{key}:{_clean(value)}|g")

    def count(self, key, count=1, labels=()):
        if not labels:
            self._send(f"{self.prefix}{key}:{count}|c")
            return
        unique = ".".join(f"{name}.{_clean(value)}" for name, value in labels)
        self._send(f"{self.prefix}{key}:{unique}|s")

    def _request_lines(self, names, values, status):
        """The fixed parts of a request's lines, spelled once per label set."""
        found = self._requests.get((values, status))
        if found is None:
            summary, labels = request_labels(names, values, status)
            unique = ".".join(f"{name}.{_clean(value)}" for name, value in summary)
            found = self._requests[(values, status)] = (
                f"{self.prefix}request_summary:{unique}|s",
                f"{self.prefix}{_with_labels('request_duration_seconds', labels)}:",
                f"{self.prefix}request_size:",
            )
        return found

    def _user_lines(self, user):
        found = self._users.get(user)
        if found is None:
            users, authentication = user_labels(*user)
            found = self._users[user] = [
                f"{self.prefix}{key}:{'.'.join(f'{name}.{_clean(value)}' for name, value in labels)}|s"
                for key, labels in (("users", users), ("authentication", authentication))
            ]
        return found

    def request_done(self, names, values, status, seconds, size, user):
        summary, duration, length = self._request_lines(names, values, status)
        lines = [summary, f"{duration}{seconds * 1000:.3f}|ms", f"{length}{size}|g"]
        if user is not None:
            lines += self._user_lines(user)
        self._pending.append("\n".join(lines))

    def close(self):
        self._closed.set()
        self.flush()
        self.socket.close()


def _restart_in_child(service):
    ref = weakref.ref(service)

    def restart():
        found = ref()
        if found is not None and not found._closed.is_set():
            found._pending.clear()  # the parent sends its own
            found._start_sender()

    return restart


def _flush_at_exit(service):
    ref = weakref.ref(service)

    def flush():
        found = ref()
        if found is not None and not found._closed.is_set():
            found.flush()

    return flush


def service_from_url(url):
    parsed = urlparse(url or "")
    if parsed.scheme != "udp" or not parsed.hostname or not parsed.port:
        raise ConfigurationError(f"statsd_url: {url!r} is not udp://host:port (such as udp://127.0.0.1:8125)")
    return StatsDService(parsed.hostname, parsed.port)


def includeme(config):
    config.registry.metrics.add(service_from_url(config.registry.settings["statsd_url"]))
