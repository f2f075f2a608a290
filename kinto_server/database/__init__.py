"""PostgreSQL access shared by the storage, permission and cache backends:
one SQLAlchemy engine (and connection pool) per database URL, and the
request transaction every backend call joins.

During a request, the first backend call opens a connection and a
transaction that the transaction tween (:mod:`kinto_server.database.transaction`)
commits or rolls back once the response is known, so storage and permission
writes of one request succeed or fail together. Outside a request (scripts,
tests) each call runs in a short transaction of its own.
"""

import contextlib
import logging
import threading

import psycopg2.extras
import sqlalchemy
import ujson
from sqlalchemy import exc as sa_exc

from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError

logger = logging.getLogger(__name__)

# Decode jsonb columns with ujson, faster than the standard library.
psycopg2.extras.register_default_jsonb(loads=ujson.loads, globally=True)

RETRYABLE_CODES = ("40001", "40P01")  # serialization failure, deadlock


class ConcurrentWriteConflict(Exception):
    """The database aborted the transaction because of a concurrent one; the
    whole request can be tried again."""


def _translate(error):
    """The domain exception for a database error, or None to re-raise it."""
    orig = getattr(error, "orig", None)
    if getattr(orig, "pgcode", None) in RETRYABLE_CODES:
        return ConcurrentWriteConflict(str(orig))
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)):
        return BackendUnavailable(str(orig or error).strip())
    if isinstance(error, sa_exc.TimeoutError):
        return BackendUnavailable("no database connection available")
    return None


@contextlib.contextmanager
def translated_errors():
    """Turn connection losses into BackendUnavailable and conflicts into
    ConcurrentWriteConflict."""
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
        domain = _translate(error)
        if domain is None:
            raise
        raise domain from error


class _RequestTransaction:
    """The current request's connection and transaction, opened on first use,
    and one savepoint slot per nested sub-request (batch)."""

    def __init__(self, isolation_level):
        self.isolation_level = isolation_level
        self.connection = None
        self.transaction = None
        self.savepoints = []


class PostgreSQLClient:
    def __init__(self, url, pool_size=25, max_overflow=5, pool_recycle=-1, pool_timeout=30):
        self.url = url
        self.engine = sqlalchemy.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            # Fail fast (503) rather than hang when the database host is gone.
            connect_args={"connect_timeout": 5},
        )
        self._local = threading.local()

    # Request transactions, driven by the transaction tween.

    def start_request(self, readonly):
        """Mark the start of a request; the connection opens on first use.

        A request started while another is running in this thread (a batch
        sub-request) runs in a savepoint of the outer transaction, so that it
        succeeds or fails on its own while the batch commits once."""
        current = getattr(self._local, "current", None)
        if current is None:
            self._local.current = _RequestTransaction("REPEATABLE READ" if readonly else "READ COMMITTED")
        else:
            current.savepoints.append(None)

    def finish_request(self, commit):
        """Commit (or roll back) the request's transaction or savepoint."""
        current = self._local.current
        if current.savepoints:
            savepoint = current.savepoints.pop()
            if savepoint is not None:
                with translated_errors():
                    savepoint.commit() if commit else savepoint.rollback()
            return
        self._local.current = None
        if current.connection is None:
            return
        try:
            with translated_errors():
                if commit:
                    current.transaction.commit()
                else:
                    current.transaction.rollback()
        finally:
            current.connection.close()

    def _open(self, isolation_level):
        with translated_errors():
            connection = self.engine.connect().execution_options(isolation_level=isolation_level)
            try:
                return connection, connection.begin()
            except BaseException:
                connection.close()
                raise

    def _request_connection(self, current):
        if current.connection is None:
            current.connection, current.transaction = self._open(current.isolation_level)
        for level, savepoint in enumerate(current.savepoints):
            if savepoint is None:
                with translated_errors():
                    current.savepoints[level] = current.connection.begin_nested()
        return current.connection

    @contextlib.contextmanager
    def connect(self):
        """A connection in a transaction: the request's one, or a new one
        committed when the block ends (outside requests)."""
        current = getattr(self._local, "current", None)
        if current is not None:
            connection = self._request_connection(current)
            with translated_errors():
                yield connection
            return
        connection, transaction = self._open("READ COMMITTED")
        try:
            with translated_errors():
                yield connection
                transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()
            connection.close()

    def execute(self, sql, params=None):
        """Run one statement; return the result rows as a list."""
        with self.connect() as connection:
            result = connection.exec_driver_sql(sql, params or {})
            return result.fetchall() if result.returns_rows else []

    def heartbeat(self):
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False


def escape_like(text):
    """``text`` as a literal inside a LIKE pattern (backslash is the escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def normalized_url(url):
    """Kinto's URLs (``postgres://``, ``postgresql://``) with our driver, psycopg2."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg2://" + rest
    return url


_clients = {}
_clients_lock = threading.Lock()


def client_for(settings, role):
    """The shared client of the database named by ``<role>_url``."""
    url = settings[f"{role}_url"] or settings["storage_url"]
    if not url:
        raise ConfigurationError(f"kinto.{role}_url is required by the postgresql {role} backend")
    url = normalized_url(url)
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = PostgreSQLClient(
                url,
                pool_size=settings["storage_pool_size"],
                max_overflow=settings["storage_max_overflow"],
                pool_recycle=settings["storage_pool_recycle"],
                pool_timeout=settings["storage_pool_timeout"],
            )
        return client
