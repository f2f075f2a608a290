"""Request transactions for the in-memory backends: an undo log.

The transaction tween (:mod:`kinto_server.database.transaction`) drives every
backend's ``client`` alike: it starts one per request and, once the response
is known, commits it on success or rolls it back otherwise. On PostgreSQL the
client is a database transaction; on memory it is a :class:`Journal`. Each
change a memory backend makes during a request registers how to undo it;
rolling back runs those in reverse order. So a request that fails half-way
(a 500 after a first write, a refused batch sub-request) leaves nothing
behind on any backend: one code path for "a request commits whole or not at
all".

Write requests also take the journal's lock for their whole duration: each
memory backend call is thread-safe on its own, but a request reads, checks
(permissions, If-Match) and then writes, and two threads doing so at once
could both pass an If-Match check. Read requests do not wait; they may see a
write of a request still in progress (memory is for tests and quick starts;
PostgreSQL isolates them).
"""

import threading


class Journal:
    """The undo log of one memory backend, per thread (a thread serves one
    request at a time); batch sub-requests nest in their request's log."""

    def __init__(self):
        self._lock = threading.RLock()
        self._local = threading.local()

    def _frames(self):
        frames = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
            self._local.undo = []
        return frames

    def start_request(self, readonly):
        """Open a request (or, inside one, a sub-request) on this thread."""
        if not readonly:
            self._lock.acquire()
        self._frames().append((readonly, len(self._local.undo)))

    def finish_request(self, commit):
        """Keep (``commit``) or undo what the innermost request changed."""
        readonly, mark = self._frames().pop()
        undo = self._local.undo
        try:
            if not commit:
                self._local.frames.append(None)  # Undoing records nothing.
                try:
                    while len(undo) > mark:
                        undo.pop()()
                finally:
                    self._local.frames.pop()
            if not self._local.frames:
                undo.clear()
        finally:
            if not readonly:
                self._lock.release()

    def committed(self):
        """A context in which no write request is in progress (it waits for
        the current one to finish): what is seen there is committed."""
        return self._lock

    def record(self, undo):
        """Register ``undo()``, which reverts a change just made; a no-op
        outside requests (scripts, direct calls) and while undoing."""
        frames = getattr(self._local, "frames", None)
        if frames and frames[-1] is not None:
            self._local.undo.append(undo)
