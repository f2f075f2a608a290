"""Write requests on the in-memory backends run one at a time.

Each memory backend call is thread-safe on its own, but a request reads,
checks (permissions, If-Match) and then writes: two waitress threads doing so
at once could both pass an If-Match check. Serializing write requests makes
each one atomic, as a transaction does on PostgreSQL. Reads are not blocked.
"""

import threading

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def memory_writes_tween_factory(handler, registry):
    lock = threading.RLock()

    def memory_writes_tween(request):
        if request.method in READ_METHODS:
            return handler(request)
        with lock:
            return handler(request)

    return memory_writes_tween
