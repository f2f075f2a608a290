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
import hashlib
import logging
import re
import threading
import time

import psycopg2.extras
import sqlalchemy
import ujson
from sqlalchemy import exc as sa_exc

from kinto_server.database import ConcurrentWriteConflict, RequestTransactions
from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError

logger = logging.getLogger(__name__)

# Decode jsonb columns with ujson, faster than the standard library.
psycopg2.extras.register_default_jsonb(loads=ujson.loads, globally=True)

RETRYABLE_CODES = ("40001", "40P01")  # serialization failure, deadlock


def _translate(error):
    """The domain exception for a database error, or None to re-raise it."""
    error = getattr(error, "orig", None) or error
    if getattr(error, "pgcode", None) in RETRYABLE_CODES:
        return ConcurrentWriteConflict(str(error))
    if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return BackendUnavailable(str(error).strip())
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)):
        return BackendUnavailable(str(error).strip())
    if isinstance(error, sa_exc.TimeoutError):
        return BackendUnavailable("no database connection available")
    return None


@contextlib.contextmanager
def translated_errors():
    """Turn connection losses into BackendUnavailable and conflicts into
    ConcurrentWriteConflict."""
    try:
        yield
    except (psycopg2.Error, sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
        domain = _translate(error)
        if domain is None:
            raise
        raise domain from error


_WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "WITH", "TRUNCATE", "CREATE", "ALTER", "DROP")


def _writes(sql):
    return getattr(sql, "sql", sql).lstrip()[:8].upper().startswith(_WRITE_KEYWORDS)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Per connection (in SQLAlchemy's ``info``, which is emptied when the DBAPI
# connection is replaced): the names of the statements prepared on it, or
# None once that is unknown (see PostgreSQLClient.run).
_PREPARED_KEY = "kinto_prepared"


class Prepared:
    """A statement that PostgreSQL parses and plans once per connection, then
    only executes. For the hot lookups by key, planning costs more than
    running them (the fused access read: 0.17 ms of planning, 0.1 ms of
    execution). Only for statements whose best plan does not depend on the
    values: our connections use their generic plan from the first execution
    (``plan_cache_mode``), never for lists.

    The generic plan is also the safer one for lookups by key: right after a
    collection grew (statistics not yet updated), the planner estimates one
    row for its parent and may pick the timestamp index over the primary key
    for a custom plan, reading every record of the collection to find one
    (0.29 ms instead of 0.002 ms per lookup in a 2,000-record collection).

    The statement keeps its ``%(name)s`` parameters: they become ``$n`` in
    the PREPARE and arguments of the EXECUTE, still bound by psycopg2."""

    __slots__ = ("sql", "name", "prepare", "execute", "keeps_stamps")

    def __init__(self, sql, keeps_stamps=False):
        # A statement that may look like a write (WITH ...) but bumps no
        # parent's timestamp: the transaction keeps its stamps (see _Transaction).
        self.keeps_stamps = keeps_stamps
        order = []

        def number(match):
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        body = _PLACEHOLDER.sub(number, sql)
        self.sql = sql
        self.name = "kinto_" + hashlib.sha256(sql.encode()).hexdigest()[:20]
        self.prepare = f"PREPARE {self.name} AS {body}"
        arguments = ", ".join(f"%({name})s" for name in order)
        self.execute = f"EXECUTE {self.name}({arguments})" if order else f"EXECUTE {self.name}"

    def __str__(self):
        return self.sql


class _Transaction:
    """A pooled connection (in autocommit mode) and the transaction this
    module drives on it with explicit statements.

    Round trips are the main cost of a request, so the statements that only
    manage the transaction (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO) are not
    sent on their own: they are queued and sent in front of the next real
    statement, in the same round trip. Only COMMIT costs one of its own.

    Stamps: once a write has bumped a parent's timestamp, the transaction
    holds that parent's turn (its queue lock and timestamp row) until it
    ends, so it can hand out the parent's next timestamps itself
    (:meth:`next_stamp`), and the storage may queue creations there
    (:meth:`queue_creation`: groups of rows, sent as one statement with
    the next query or the COMMIT). Any other statement that writes forgets
    the stamps, unless it is marked ``keeps_stamps``; a savepoint rolled
    back restores those it started with. A savepoint whose statements were
    all still queued when it ends is dropped from the queue (released: its
    statements stay, so a batch's creations join into one group; rolled
    back: they go with it).
    """

    def __init__(self, client, read_only):
        self.client = client
        self.read_only = read_only
        self.begun = False
        self.fairy = None  # SQLAlchemy's pooled DBAPI connection
        self.queued = []  # statements (text, or groups of creations) waiting for the next query
        self.savepoints = []  # one entry per open sub-request: its name, or None until used
        self.counter = 0
        self.stamps = {}  # (resource_name, parent_id): the last timestamp handed out there
        self.stamp_levels = []  # per open savepoint: the stamps when it started

    def _ensure_open(self, sql):
        if self.fairy is None:
            self.fairy = self.client.checkout()
        # A read request runs its statements on their own (each one is
        # consistent by itself: a list and its ETag come from one statement),
        # unless it writes (a default bucket created on first use): then it
        # opens a transaction, as write requests do from their first statement.
        if not self.begun and (not self.read_only or sql is None or _writes(sql)):
            self.begun = True
            self.queued.append("BEGIN ISOLATION LEVEL READ COMMITTED")
        for level, name in enumerate(self.savepoints):
            if name is None:
                self.counter += 1
                self.savepoints[level] = f"kinto_sp{self.counter}"
                self.queued.append(f"SAVEPOINT {self.savepoints[level]}")

    def execute(self, sql, params):
        self._ensure_open(sql)
        if self.stamps and not getattr(sql, "keeps_stamps", False) and _writes(sql):
            self.stamps.clear()
        prefix = self._take_queued()
        return self.client.run(self.fairy, sql, params, prefix=prefix)

    def _take_queued(self, groups=True):
        """The queued statements as one text (the creation groups left out
        unless ``groups``); the queue is emptied."""
        queued, self.queued = self.queued, []
        if not any(not isinstance(item, str) for item in queued):
            return ";".join(queued)
        with translated_errors(), self.fairy.dbapi_connection.cursor() as cursor:
            texts = [
                item if isinstance(item, str) else cursor.mogrify(*item.statement()).decode()
                for item in queued
                if groups or isinstance(item, str)
            ]
        return ";".join(texts)

    def hold_stamp(self, key, stamp):
        self.stamps[key] = stamp

    def next_stamp(self, key, requested):
        """The parent's next timestamp if this transaction holds its turn, else None."""
        last = self.stamps.get(key)
        if last is None:
            return None
        stamp = max(last + 1, requested, int(time.time() * 1000))
        self.stamps[key] = stamp
        return stamp

    def queue_creation(self, key, object_id, requested, make_group):
        """``(group, stamp)``: the queued group of creations of the parent
        ``key`` that may take ``object_id`` (the last queued one, or a new
        one made by ``make_group``), and the creation's timestamp; None if
        this transaction does not hold the parent's turn."""
        if key not in self.stamps:
            return None
        self._ensure_open(None)
        group = self.queued[-1] if self.queued else None
        if getattr(group, "key", None) != key or object_id in group.ids:
            group = make_group(key)
            self.queued.append(group)
        return group, self.next_stamp(key, requested)

    def defer(self, sql, params):
        """Queue a write with the transaction statements: it goes with the
        next query, or with the COMMIT, and costs no round trip of its own."""
        self._ensure_open(sql)
        with translated_errors(), self.fairy.dbapi_connection.cursor() as cursor:
            self.queued.append(cursor.mogrify(str(sql), params).decode())

    def start_nested(self):
        self.savepoints.append(None)
        self.stamp_levels.append(dict(self.stamps))

    def finish_nested(self, commit):
        name = self.savepoints.pop()
        started_with = self.stamp_levels.pop()
        if not commit:
            self.stamps = started_with
        if name is None:
            return
        opening = f"SAVEPOINT {name}"
        if opening in self.queued:  # Nothing of it was sent yet.
            at = self.queued.index(opening)
            if not commit:
                del self.queued[at:]
                return
            del self.queued[at]
            self._join_groups(at)
            return
        self.queued.append(f"RELEASE SAVEPOINT {name}" if commit else f"ROLLBACK TO SAVEPOINT {name}")

    def _join_groups(self, at):
        """Join the queued creation groups at ``at - 1`` and ``at`` if they
        are of one parent (and take distinct ids)."""
        if not 0 < at < len(self.queued):
            return
        before, after = self.queued[at - 1], self.queued[at]
        joinable = not isinstance(before, str) and getattr(after, "key", None) == before.key
        if joinable and before.ids.isdisjoint(after.ids):
            before.extend(after)
            del self.queued[at]

    def finish(self, commit):
        if self.fairy is None:
            return
        if not self.fairy.is_valid:  # Lost with the connection: nothing to end.
            return
        if not self.begun:
            self.client.checkin(self.fairy)
            return
        try:
            queued = self._take_queued(groups=commit)
            ending = "COMMIT" if commit else "ROLLBACK"
            try:
                status = self.client.run(self.fairy, f"{queued};{ending}" if queued else ending, None, status_only=True)
            except Exception:
                if self.fairy.is_valid:  # A queued statement failed: end the aborted transaction.
                    self.client.run(self.fairy, "ROLLBACK", None, status_only=True)
                raise
            if commit and status != "COMMIT":
                # PostgreSQL answers ROLLBACK to a COMMIT of a failed transaction.
                raise BackendUnavailable(f"the transaction did not commit ({status})")
        finally:
            self.client.checkin(self.fairy)


class PostgreSQLClient(RequestTransactions):
    def __init__(self, url, pool_size=25, max_overflow=5, pool_recycle=-1, pool_timeout=30, prepared=True):
        self.url = url
        # Fail fast (503) rather than hang when the database host is gone.
        connect_args = {"connect_timeout": 5}
        if prepared:
            # Prepared statements (only those: see Prepared) keep one plan.
            connect_args["options"] = "-c plan_cache_mode=force_generic_plan"
        self.prepared = prepared
        self.engine = sqlalchemy.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            pool_timeout=pool_timeout,
            # Transactions are ended explicitly: no reset round trip on return.
            pool_reset_on_return=None,
            connect_args=connect_args,
        )
        self._local = threading.local()
        self._listeners, self._listeners_lock = {}, threading.Lock()

    def listener(self, channel):
        """This database's notifications on ``channel`` (one listener per
        client and channel: see kinto_server.database.notifications)."""
        from kinto_server.database.notifications import Listener

        with self._listeners_lock:
            found = self._listeners.get(channel)
            if found is None:
                found = self._listeners[channel] = Listener(self.url, channel)
            return found

    def current_transaction(self):
        """The request's transaction in this thread, or None."""
        return getattr(self._local, "current", None)

    def execute_deferred(self, sql, params=None):
        """A write whose answer nobody reads: in a request, sent with the
        transaction's next statement or its COMMIT; otherwise now."""
        current = getattr(self._local, "current", None)
        if current is None:
            self._execute_alone(sql, params)
        else:
            current.defer(sql, params)

    # Connections: pooled by SQLAlchemy, used in autocommit mode by this module.

    def checkout(self):
        with translated_errors():
            fairy = self.engine.raw_connection()
        fairy.dbapi_connection.autocommit = True
        return fairy

    def checkin(self, fairy):
        if fairy.info.get(_PREPARED_KEY, ()) is None:
            fairy.invalidate()  # Prepared statements in an unknown state: start afresh.
        else:
            fairy.close()

    def _statement(self, fairy, sql):
        """The text to send for ``sql``, and the name it prepares if any."""
        if not isinstance(sql, Prepared):
            return sql, None
        if not self.prepared:
            return sql.sql, None
        prepared = fairy.info.setdefault(_PREPARED_KEY, set())
        if prepared is None:
            return sql.sql, None
        if sql.name in prepared:
            return sql.execute, None
        return f"{sql.prepare};{sql.execute}", sql.name

    def run(self, fairy, sql, params, status_only=False, prefix=""):
        """One round trip: the ``prefix`` statements, then ``sql``. A lost
        connection makes the whole pool start afresh, so the server recovers
        by itself once the database is back."""
        text, preparing = self._statement(fairy, sql)
        if prefix:
            text = f"{prefix};{text}"
        try:
            with translated_errors(), fairy.dbapi_connection.cursor() as cursor:
                cursor.execute(text, params)
                if status_only:
                    result = cursor.statusmessage
                else:
                    result = cursor.fetchall() if cursor.description is not None else []
        except BackendUnavailable:
            fairy.invalidate()
            self.engine.dispose()
            raise
        except Exception:
            if preparing:
                # PREPARE is not transactional: it may have run before the
                # failing statement, or not. Stop preparing on this connection;
                # it is replaced when given back.
                fairy.info[_PREPARED_KEY] = None
            raise
        if preparing:
            fairy.info[_PREPARED_KEY].add(preparing)
        return result

    # Request transactions (RequestTransactions), driven by the transaction tween.

    def _transaction(self, read_only):
        return _Transaction(self, read_only=read_only)

    def _execute_alone(self, sql, params):
        fairy = self.checkout()
        try:
            return self.run(fairy, sql, params)
        finally:
            self.checkin(fairy)

    def heartbeat(self):
        try:
            fairy = self.checkout()
            try:
                self.run(fairy, "SELECT 1", None)
            finally:
                self.checkin(fairy)
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
    """The shared client of the database named by ``<role>_url`` (one per
    URL and pool settings: the backends of one application share it)."""
    url = settings[f"{role}_url"] or settings["storage_url"]
    if not url:
        raise ConfigurationError(f"kinto.{role}_url is required by the postgresql {role} backend")
    url = normalized_url(url)
    options = {
        "pool_size": settings["storage_pool_size"],
        "max_overflow": settings["storage_max_overflow"],
        "pool_recycle": settings["storage_pool_recycle"],
        "pool_timeout": settings["storage_pool_timeout"],
        "prepared": settings["storage_prepared_statements"],
    }
    key = (url, *sorted(options.items()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = PostgreSQLClient(url, **options)
        return client
