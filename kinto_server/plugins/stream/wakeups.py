"""What wakes the hub before its next poll, besides this process's own
commits: PostgreSQL's notifications (``LISTEN``), sent by every commit that
logged changes, whichever process or host made it. A notification only
wakes the hub sooner; what it reads comes from the log, so a lost one
delays events by at most ``poll_seconds`` and loses none."""

import logging

from kinto_server.database.notifications import dsn
from kinto_server.storage.postgresql import NOTIFY_CHANNEL, PostgreSQLStorage

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 5


def start(hub, registry):
    if isinstance(registry.storage, PostgreSQLStorage):
        url = registry.settings["storage_url"]
        hub.loop.call_soon_threadsafe(_listen, hub, url)


def _listen(hub, url):
    import psycopg2
    import psycopg2.extensions

    loop = hub.loop
    try:
        connection = psycopg2.connect(dsn(url))
        connection.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
    except psycopg2.Error as error:
        logger.warning("Change stream: cannot LISTEN on PostgreSQL (%s); polling only", str(error).strip())
        loop.call_later(RECONNECT_SECONDS, _listen, hub, url)
        return

    def readable():
        try:
            connection.poll()
        except psycopg2.Error:
            loop.remove_reader(descriptor)
            connection.close()
            loop.call_later(RECONNECT_SECONDS, _listen, hub, url)
            return
        if connection.notifies:
            connection.notifies.clear()
            hub.wake_now()

    descriptor = connection.fileno()
    loop.add_reader(descriptor, readable)
