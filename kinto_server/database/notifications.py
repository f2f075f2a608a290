"""PostgreSQL notifications (``LISTEN``) as a generation counter: a thread
of the process holds one connection listening on a channel and counts the
notifications received. What a process keeps from the database is good
while the count has not moved since it was read, and while the listener is
connected (a notification could be missed otherwise: then nothing is
trusted until it listens again)."""

import logging
import os
import select
import threading
import time

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 5


def dsn(url):
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg2://``)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


class Listener:
    def __init__(self, url, channel):
        self.url, self.channel = dsn(url), channel
        self.generation = 0
        self.listening = False
        self._pid = None
        self._lock = threading.Lock()

    def current(self):
        """The generation, or None while no notification can be trusted to
        arrive. Starts the thread on first use in each process (a forked
        worker has none)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid, self.listening = os.getpid(), False
                    threading.Thread(target=self._run, name=f"listen-{self.channel}", daemon=True).start()
        return self.generation if self.listening else None

    def bump(self):
        """Count a change this process made itself (before its notification arrives)."""
        self.generation += 1

    def _run(self):
        import psycopg2

        pid = os.getpid()
        while self._pid == pid:
            connection = None
            try:
                connection = psycopg2.connect(self.url, connect_timeout=5)
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {self.channel}")
                self.bump()  # Whatever was read before it listened is not trusted.
                self.listening = True
                while self._pid == pid:
                    if select.select([connection], [], [], RECONNECT_SECONDS)[0]:
                        connection.poll()
                        if connection.notifies:
                            connection.notifies.clear()
                            self.bump()
            except (psycopg2.Error, OSError) as error:
                logger.warning("Cannot LISTEN on PostgreSQL (%s): retrying", str(error).strip())
            finally:
                self.listening = False
                self.bump()
                if connection is not None:
                    connection.close()
            time.sleep(RECONNECT_SECONDS)
