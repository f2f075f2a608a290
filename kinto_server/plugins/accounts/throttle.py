"""A bound on password checks per client address.

Checking a bcrypt hash takes a quarter of a second of CPU by design; a burst
of wrong passwords would keep every server thread hashing and make everyone
wait. Each address may fail ``account_login_failures_limit`` checks per
``account_login_failures_window_seconds``; past that, its checks that would
need bcrypt are answered 429 (errno 117) at once until the window moves on.
Checks in progress count as failures until they succeed, so a concurrent
burst cannot slip past the bound. Successful logins are cached (see
:mod:`kinto_server.plugins.accounts.policy`) and never throttled.

The state is per process: with several workers, each has its own budget.
The address is the connection's (``REMOTE_ADDR``): behind a reverse proxy,
rate-limit there too.
"""

import contextlib
import threading
import time
from collections import deque


class LoginThrottle:
    def __init__(self, limit, window_seconds, clock=time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = {}  # address -> deque of failure times (in-progress checks included)

    def _recent(self, address, now):
        failures = self._failures.get(address)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def begin(self, address):
        """Reserve a check for ``address``; return the reservation, or None
        when the address has used its budget (then answer 429)."""
        if not self.limit:
            return 0.0
        now = self.clock()
        with self._lock:
            failures = self._recent(address, now)
            if failures is not None and len(failures) >= self.limit:
                return None
            self._failures.setdefault(address, deque()).append(now)
            return now

    def succeeded(self, address, reservation):
        """The check succeeded: it does not count as a failure."""
        if not self.limit:
            return
        with self._lock:
            failures = self._failures.get(address)
            if failures is not None:
                with contextlib.suppress(ValueError):  # Already out of the window.
                    failures.remove(reservation)

    def retry_after(self, address):
        """Seconds until ``address`` may try again."""
        now = self.clock()
        with self._lock:
            failures = self._recent(address, now)
            return 1 if not failures else max(1, int(failures[0] + self.window - now) + 1)
