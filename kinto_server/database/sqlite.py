"""SQLite access shared by the storage, permission and cache backends: one
database file, one connection per thread, and the request transaction every
backend call joins.

- WAL journal: readers never wait for the writer, and see a consistent
  snapshot per statement (or per ``snapshot()`` block).
- ``synchronous = FULL``: a write is on disk when its COMMIT returns, so an
  acknowledged write survives a crash of the process or of the machine.
- A write request takes the database's write lock with ``BEGIN IMMEDIATE``
  at its first statement, waiting up to ``busy_timeout`` for it (Python's
  implicit deferred transactions fail at once with "database is locked"
  when they upgrade to a write). Writers are thus one at a time, across
  threads and processes: a timestamp handed out inside the transaction is
  committed before the next writer takes one, so commit order is timestamp
  order and a ``_since`` poller never misses a write.
- Writers wait for their turn before ``BEGIN IMMEDIATE``: a lock among the
  process's threads, an flock on ``<file>-writer`` among processes
  (``take_write_turn``), so that they are woken as soon as the writer
  before them commits instead of by SQLite's sleeping busy handler.
- A read request runs its statements on their own (as on PostgreSQL),
  unless one writes (the first look at an empty collection fixes its
  timestamp): the request then takes the write lock from that statement on.
- Batch sub-requests run in savepoints of their batch's transaction.
- ``execute_cached`` answers a read from the thread's cache while the file
  is unchanged: the WAL-index header (``wal_index``) or, when it cannot be
  read, ``PRAGMA data_version`` sees the commits of every connection, in
  any process; the connection's own writes empty it. The lineage every
  request starts with (bucket, collection, groups, ACEs) then costs no
  SQLite call at all instead of a search of three tables.
"""

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from importlib.resources import files
from pathlib import Path

from kinto_server.database import RequestTransactions, migrations
from kinto_server.database.wal_index import WalIndex
from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError

# Answers of execute_cached kept per thread: how many, and about how much
# of their text (pages of objects are kept too).
CACHED_READS = 1024
CACHED_BYTES = 2 * 1024 * 1024

_WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def _writes(sql):
    return sql.lstrip()[:8].upper().startswith(_WRITE_KEYWORDS)


def _text_size(rows):
    """About the memory an answer holds: its text, plus a little a value."""
    return sum(len(value) + 16 if isinstance(value, (str, bytes)) else 16 for row in rows for value in row)


@contextlib.contextmanager
def translated_errors():
    """A locked or unreadable database is BackendUnavailable (503); one of
    our SQL functions failing is a bug (500), never an outage."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "user-defined function raised exception" in str(error):
            raise
        raise BackendUnavailable(f"SQLite: {error}") from error
    except sqlite3.DatabaseError as error:
        if isinstance(error, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
            raise
        raise BackendUnavailable(f"SQLite: {error}") from error


class _Transaction:
    def __init__(self, client, read_only):
        self.client = client
        self.read_only = read_only
        self.begun = False
        self.savepoints = []  # one entry per open sub-request: its name, or None until used
        self.counter = 0

    def _ensure_open(self, connection, sql):
        if not self.begun and (not self.read_only or _writes(sql)):
            self.client.take_write_turn()
            try:
                connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.client.end_write_turn()
                raise
            self.begun = True
        if self.begun:
            for level, name in enumerate(self.savepoints):
                if name is None:
                    self.counter += 1
                    self.savepoints[level] = f"kinto_sp{self.counter}"
                    connection.execute(f"SAVEPOINT {self.savepoints[level]}")

    def execute(self, sql, params):
        connection = self.client.connection()
        with translated_errors():
            self._ensure_open(connection, sql)
            return connection.execute(sql, params or ()).fetchall()

    def start_nested(self):
        self.savepoints.append(None)

    def finish_nested(self, commit):
        name = self.savepoints.pop()
        if name is not None:
            connection = self.client.connection()
            with translated_errors():
                if not commit:
                    connection.execute(f"ROLLBACK TO SAVEPOINT {name}")
                connection.execute(f"RELEASE SAVEPOINT {name}")

    def finish(self, commit):
        if not self.begun:
            return
        connection = self.client.connection()
        self.client.forget_cached_reads()
        try:
            with translated_errors():
                connection.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")  # a failed COMMIT leaves it open
            raise
        finally:
            self.begun = False
            self.client.end_write_turn()


class SQLiteClient(RequestTransactions):
    """The database file ``path`` (created on first use, with its folder)."""

    def __init__(self, path, busy_timeout=5.0):
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections = []
        self._functions = []
        self._lock = threading.Lock()
        self.writer = threading.Lock()  # held by this process's write transaction, if any
        self._turn_file = None  # (pid, descriptor) of the file whose flock orders the processes' writers
        self._wal_index = None  # (pid, WalIndex) once this process has mapped the file's -shm

    def take_write_turn(self):
        """Wait for this file's write turn before ``BEGIN IMMEDIATE``: first
        among this process's threads (a lock: woken at once, in turn), then
        among processes (an flock on ``<file>-writer``, tried every
        millisecond). SQLite's own busy handler sleeps up to 100 ms between
        tries: under 8 concurrent writers a batch waited over a second at
        p99. Programs that ignore the flock still meet at SQLite's lock."""
        deadline = time.monotonic() + self.busy_timeout
        if not self.writer.acquire(timeout=self.busy_timeout):
            raise BackendUnavailable("SQLite: database is locked (by this server's other writers)")
        try:
            descriptor = self._turn_descriptor()
            while descriptor is not None:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BackendUnavailable("SQLite: database is locked (by another process's writer)") from None
                    time.sleep(0.001)
        except BaseException:
            self.writer.release()
            raise

    def end_write_turn(self):
        try:
            if self._turn_file is not None and self._turn_file[0] == os.getpid():
                fcntl.flock(self._turn_file[1], fcntl.LOCK_UN)
        finally:
            self.writer.release()

    def _turn_descriptor(self):
        """This process's descriptor of the turn file (an flock belongs to
        an open file, which a forked worker must not share), or None where
        there is none (an in-memory database, a folder we cannot write)."""
        if self._turn_file is None or self._turn_file[0] != os.getpid():
            if self.path == ":memory:":
                return None
            try:
                descriptor = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                return None
            self._turn_file = (os.getpid(), descriptor)
        return self._turn_file[1]

    def add_functions(self, register):
        """Call ``register(connection)`` on every connection, present and
        future (a backend's SQL functions)."""
        with self._lock:
            if register in self._functions:
                return
            self._functions.append(register)
            for connection in self._connections:
                register(connection)

    def connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = self._connect()
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _connect(self):
        folder = Path(self.path).parent
        if self.path != ":memory:" and not folder.is_dir():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise BackendUnavailable(f"SQLite: cannot create the folder {folder}: {error.strerror}") from None
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE).
            connection = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as error:
            if "unable to open" in str(error) or "readonly" in str(error):
                raise BackendUnavailable(
                    f"SQLite: cannot open {self.path} for writing ({error}): this user must be able to write"
                    f" the file and its folder {folder} (SQLite keeps its journal beside the file)"
                ) from None
            raise BackendUnavailable(f"SQLite: {error}") from None
        with translated_errors():
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = OFF")
        with self._lock:
            for register in self._functions:
                register(connection)
            self._connections.append(connection)
        return connection

    # Request transactions (RequestTransactions), driven by the transaction tween.

    def _transaction(self, read_only):
        return _Transaction(self, read_only=read_only)

    def _execute_alone(self, sql, params):
        if _writes(sql):
            self.forget_cached_reads()
        with translated_errors():
            return self.connection().execute(sql, params or ()).fetchall()

    def execute_cached(self, sql, params):
        """``execute(sql, params)`` for a read, answered from this thread's
        cache while the database is unchanged since that answer was read:
        no commit by any connection, this one included (``_commit_stamp``).
        In a write request, and inside a ``snapshot()``, it reads through.
        Each thread keeps at most ``CACHED_READS`` answers and about
        ``CACHED_BYTES`` of their text; a larger answer is not kept."""
        local = self._local
        current = getattr(local, "current", None)
        if (current is not None and (current.begun or not current.read_only)) or getattr(local, "snapshots", 0):
            # A write request reads under the write lock (its first
            # statement takes it): a cached answer, checked before the lock,
            # could miss a commit made meanwhile and lose an update. A
            # snapshot's reads must all see its own state.
            return self.execute(sql, params)
        connection = self.connection()
        version = self._commit_stamp(connection)
        cache = getattr(local, "cached_reads", None)
        if cache is None or local.cached_version != version or local.cached_connection is not connection:
            cache = local.cached_reads = {}
            local.cached_version, local.cached_connection, local.cached_bytes = version, connection, 0
        key = (sql, *(params.items() if isinstance(params, dict) else params or ()))
        rows = cache.get(key)
        if rows is None:
            rows = self.execute(sql, params)
            size = _text_size(rows) + len(sql)  # the key holds the statement too
            if size <= CACHED_BYTES // 4:
                if len(cache) >= CACHED_READS or local.cached_bytes + size > CACHED_BYTES:
                    cache.clear()
                    local.cached_bytes = 0
                cache[key] = rows
                local.cached_bytes += size
        return rows

    def _commit_stamp(self, connection):
        """A value that changes with every commit to the file: the WAL-index
        header, read with no SQLite call (each call gives the GIL away and
        waits to take it back); else SQLite's ``data_version``."""
        index = self._wal_index
        if index is not None and index[0] == os.getpid():
            stamp = index[1].stamp()
            if stamp is not None:
                return stamp
        with translated_errors():
            version = connection.execute("PRAGMA data_version").fetchone()[0]
        if index is None or index[0] != os.getpid():
            self._map_wal_index()
        return version

    def _map_wal_index(self):
        """Map ``-shm`` once this process's own connection has it open (a
        map inherited through fork is not relied upon)."""
        if self.path == ":memory:":
            return
        index = WalIndex(self.path)
        if not index.open():
            return
        with self._lock:
            if self._wal_index is None or self._wal_index[0] != os.getpid():
                self._wal_index, index = (os.getpid(), index), None
        if index is not None:
            index.close()  # another thread mapped it first

    def forget_cached_reads(self):
        """This thread's connection writes: what it read may change."""
        self._local.cached_reads = None

    @contextlib.contextmanager
    def snapshot(self):
        """Several reads that see one state of the database (a savepoint:
        a read transaction of its own outside a request transaction)."""
        connection = self.connection()
        with translated_errors():
            connection.execute("SAVEPOINT kinto_snapshot")
        local = self._local
        local.snapshots = getattr(local, "snapshots", 0) + 1
        try:
            yield
        finally:
            local.snapshots -= 1
            with translated_errors():
                connection.execute("RELEASE SAVEPOINT kinto_snapshot")

    def backup(self, destination):
        """An online, consistent copy of the database into ``destination``
        (SQLite's backup API in one step: it copies one snapshot, and in WAL
        mode writers carry on meanwhile). The copy is checked, then renamed
        into place: a failed backup leaves no partial file behind."""
        if self.path == ":memory:" or not os.path.exists(self.path):
            raise BackendUnavailable(f"SQLite: there is no database at {self.path} (has the server started once?)")
        destination = Path(destination)
        partial = destination.with_name(f".{destination.name}.partial")
        source = target = None
        try:
            with translated_errors():
                read_only = f"{Path(self.path).absolute().as_uri()}?mode=ro"
                source = sqlite3.connect(read_only, uri=True, timeout=self.busy_timeout)
                target = sqlite3.connect(partial, isolation_level=None)
                source.backup(target)
                (check,) = target.execute("PRAGMA integrity_check").fetchone()
                target.execute("PRAGMA journal_mode = DELETE")  # One self-contained file.
            if check != "ok":
                raise BackendUnavailable(f"SQLite: the copy of {self.path} is damaged: {check}")
            target.close()
            os.replace(partial, destination)
        finally:
            for connection in (source, target):
                if connection is not None:
                    connection.close()
            for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
                leftover.unlink(missing_ok=True)

    def heartbeat(self):
        try:
            self.execute("SELECT 1")
            return True
        except Exception:
            return False

    def close(self):
        with self._lock:
            if self._wal_index is not None:
                self._wal_index[1].close()
                self._wal_index = None
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()


def database_path(url, ini_folder=None):
    """The file of ``sqlite:///path`` (absolute), ``sqlite:///./relative`` or a
    bare path; relative paths are relative to ``ini_folder`` when given."""
    path = url[len("sqlite://") :] if url.startswith("sqlite://") else url
    if path.startswith("/./") or path.startswith("/../"):
        path = path[1:]
    elif path.startswith("//"):  # sqlite:////abs (or %(here)s after sqlite:///)
        path = "/" + path.lstrip("/")
    if not path:
        raise ConfigurationError("kinto.storage_url names no SQLite file (e.g. sqlite:///var/lib/kinto/kinto.sqlite)")
    if path != ":memory:" and not os.path.isabs(path) and ini_folder:
        path = os.path.join(ini_folder, path)
    return path


_clients = {}
_clients_lock = threading.Lock()


def client_for(settings, role):
    """The shared client of the file named by ``<role>_url`` (or ``storage_url``)."""
    url = settings[f"{role}_url"] or settings["storage_url"]
    if not url:
        raise ConfigurationError(f"kinto.{role}_url is required by the sqlite {role} backend")
    path = database_path(url, settings.get("config_folder"))
    key = (os.path.abspath(path), settings["storage_pool_timeout"])
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = SQLiteClient(path, busy_timeout=float(settings["storage_pool_timeout"]))
        return client


# Schema migrations: numbered SQL files under migrations/sqlite/<component>/.

MIGRATIONS_DIR = Path(str(files("kinto_server.migrations") / "sqlite"))
VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        component TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (component, version)
    )
"""


def _statements(script):
    """The statements of a migration file, one by one (``executescript``
    would commit the migration's transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return [s for s in statements if s.strip(" ;\n")]


class SQLiteSchema:
    """What a SQLite backend declares (see ``kinto_server.backends.Backend``):
    one file shared by the processes of one host, its ``component``'s tables
    made by the migrations of migrations/sqlite/."""

    shared_across_processes = True
    needs_url = True
    has_schema = True
    # What ``kinto_server init`` writes: a file next to the ini (PasteDeploy's %(here)s).
    default_url = "sqlite:///%(here)s/data/kinto.sqlite"
    component = None  # storage, permission or cache

    def backup_source(self):
        return self.client

    def pending_migrations(self):
        with self.client.connect() as transaction:
            transaction.execute(VERSION_TABLE, None)
            rows = transaction.execute("SELECT version FROM schema_migrations WHERE component = ?", (self.component,))
        done = {row[0] for row in rows}
        return [m for m in migrations.available(self.component, MIGRATIONS_DIR) if m.version not in done]

    def create_schema_if_new(self):
        """A component with no migration applied yet (a new file) is created;
        one with some applied but not all is left to ``kinto_server migrate``."""
        try:
            if len(self.pending_migrations()) == len(migrations.available(self.component, MIGRATIONS_DIR)):
                self.migrate()
        except BackendUnavailable as error:
            if "locked" in str(error):
                raise  # Another program holds it: it may let go (503 meanwhile).
            raise ConfigurationError(f"Cannot use the SQLite database {self.client.path}: {error}") from None

    def migrate(self, dry_run=False):
        todo = self.pending_migrations()
        if dry_run:
            return todo
        applied = []
        for migration in todo:
            # BEGIN IMMEDIATE: two migrating processes take turns.
            with self.client.connect() as transaction:
                transaction.execute(VERSION_TABLE, None)
                already = transaction.execute(
                    "SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?",
                    (migration.component, migration.version),
                )
                if already:
                    continue
                for statement in _statements(migration.path.read_text(encoding="utf-8")):
                    transaction.execute(statement, None)
                transaction.execute(
                    "INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)",
                    (migration.component, migration.version, migration.name),
                )
            applied.append(migration)
        return applied
