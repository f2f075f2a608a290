"""StatsD (Kinto's ``kinto.plugins.statsd``): the measurements of
:mod:`kinto_server.metrics` sent over UDP to ``kinto.statsd_url``
(``udp://host:port``), prefixed ``kinto.`` (Kinto 26.5 prefixes its
project name, whatever ``statsd_prefix`` says), labels appended to the
key as Kinto does (``backend.storage.seconds.method.get``): timings in
milliseconds (``|ms``), counts (``|c``), a count with labels as a set of
the label values (``|s``, as Kinto: unique users...), observed values as
gauges (``|g``).

The protocol is a few lines of text: written here, no dependency. A
request only queues its measurements; a thread of the process spells and
sends what was queued every ``SEND_SECONDS`` (0.1 s), packed in datagrams
of up to 1,400 bytes: a few system calls per second and a few wake-ups of
the agent, not one per metric (Kinto) nor one per request. What an agent
would fold anyway is folded before it is sent: a set member once per
sending (an agent counts the distinct members of its own, longer
interval), a request size gauge once, with its last value (an agent keeps
the last); every timing is sent, as its percentiles need. Sending never
blocks nor fails a request: a datagram that cannot be sent is dropped,
and so are the oldest measurements if the sender falls behind by
``MAX_PENDING``.
"""

import atexit
import collections
import contextlib
import os
import socket
import threading
import weakref
from urllib.parse import urlparse

from kinto_server.settings import ConfigurationError

PREFIX = "kinto"


def _clean(value):
    # Telegraf does not take ':' in values; '|' and newlines would break the line.
    return str(value).replace(":", "").replace("|", "").replace("\n", "")


def _with_labels(key, labels):
    return key + "".join(f".{name}.{_clean(value)}" for name, value in labels)


DATAGRAM_BYTES = 1400  # Within an Ethernet MTU.
NEWLINE = ord("\n")
SEND_SECONDS = 0.1
MAX_PENDING = 100_000  # a request's measurements, or one line


class StatsDService:
    def __init__(self, host, port, prefix=PREFIX):
        self.address = (host, port)
        self.prefix = f"{prefix}." if prefix else ""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.setblocking(False)
        # deque appends and pops are atomic: requests queue without a lock.
        self._pending = collections.deque(maxlen=MAX_PENDING)
        self._flushing = threading.Lock()  # the sender's, and a last one at exit
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
        """Send what is queued, packed in datagrams of up to DATAGRAM_BYTES
        (cut between lines; a longer line goes alone)."""
        with self._flushing:
            pending = self._pending
            blocks = [pending.popleft() for _ in range(len(pending))]
        if not blocks:
            return
        data, start, end = "\n".join(self._lines(blocks)).encode("utf-8"), 0, 0
        total = len(data)
        while start < total:
            end = start + DATAGRAM_BYTES
            if end >= total:
                end = total
            elif data[end] != NEWLINE:  # cut at the last line end before it
                cut = data.rfind(b"\n", start, end)
                if cut > start:
                    end = cut
                else:  # a line longer than a datagram: alone
                    end = data.find(b"\n", end)
                    end = total if end < 0 else end
            self._sendto(data[start:end])
            start = end + 1

    def _sendto(self, datagram):
        with contextlib.suppress(OSError):  # Best effort: never a failed request.
            self.socket.sendto(datagram, self.address)

    def timing(self, key, seconds, labels=()):
        self._send(f"{self.prefix}{_with_labels(key, labels)}:{seconds * 1000:.3f}|ms")

    def timer(self, key, labels=()):
        start, append = f"{self.prefix}{_with_labels(key, labels)}:", self._pending.append
        return lambda seconds: append(f"{start}{seconds * 1000:.3f}|ms")

    def counter(self, key):
        line, append = f"{self.prefix}{key}:1|c", self._pending.append
        return lambda: append(line)

    def observe(self, key, value, labels=()):
        self._send(f"{self.prefix}{key}:{_clean(value)}|g")

    def count(self, key, count=1, labels=()):
        if not labels:
            self._send(f"{self.prefix}{key}:{count}|c")
            return
        unique = ".".join(f"{name}.{_clean(value)}" for name, value in labels)
        self._send(f"{self.prefix}{key}:{unique}|s")

    def _request_lines(self, labels):
        """The fixed parts of a request's lines, spelled once per label set:
        its summary (a set member) and the start of its duration line."""
        unique = ".".join(f"{name}.{_clean(value)}" for name, value in labels.first)
        found = labels.derived[self] = (
            f"{self.prefix}request_summary:{unique}|s",
            f"{self.prefix}{_with_labels('request_duration_seconds', labels.second)}:",
        )
        return found

    def _user_lines(self, user):
        found = user.derived[self] = tuple(
            f"{self.prefix}{key}:{'.'.join(f'{name}.{_clean(value)}' for name, value in labels)}|s"
            for key, labels in (("users", user.first), ("authentication", user.second))
        )
        return found

    def request_done(self, labels, seconds, size, user):
        self._pending.append((labels, seconds, size, user))  # spelled by the sender

    def _lines(self, blocks):
        """The lines of what was queued: requests' set members once each,
        the last request size, every timing and every other line."""
        lines, members, size = [], {}, None
        for block in blocks:
            if type(block) is str:
                lines.append(block)
                continue
            labels, seconds, size, user = block
            summary, duration = labels.derived.get(self) or self._request_lines(labels)
            members[summary] = None
            lines.append(f"{duration}{seconds * 1000:.3f}|ms")
            if user is not None:
                members.update(dict.fromkeys(user.derived.get(self) or self._user_lines(user)))
        if size is not None:
            lines.append(f"{self.prefix}request_size:{size}|g")
        lines.extend(members)
        return lines

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
