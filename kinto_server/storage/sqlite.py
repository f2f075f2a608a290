"""SQLite storage: the PostgreSQL backend's tables (``objects``, live ones and
tombstones with their data as JSON text, and ``timestamps``, the last
timestamp handed out per parent) in one database file.

How timestamps stay exact
-------------------------
Every write request holds SQLite's write lock from its first statement to
its commit (``BEGIN IMMEDIATE``, :mod:`kinto_server.database.sqlite`): one
writer at a time, in every thread and process using the file. A write takes
its parent's next timestamp, ``max(clock, previous + 1)``, inside that
transaction, so timestamps are unique, increasing, and committed in their
order: once a reader sees timestamp T, every write that will get a timestamp
<= T has committed, and a ``_since=T`` poll never misses a later one. A list
and its ETag are read in one snapshot (a read transaction), so the ETag never
runs ahead of the objects returned with it.
"""

import time
from operator import itemgetter

import ujson

from kinto_server.database import sqlite
from kinto_server.database.sqlite import SQLiteSchema
from kinto_server.storage import (
    DEFAULT_SORT,
    Change,
    ChangesPage,
    ObjectNotFoundError,
    Sort,
    Storage,
    UnindexableField,
    check_indexable,
)
from kinto_server.storage.sql_common import TOMBSTONE_DATA, SharedSQLQueries, field_index_name
from kinto_server.storage.sqlite_sql import (
    Field,
    Params,
    dumps,
    json_path,
    order_and_keyset,
    register_functions,
    sort_keys,
    where_filters,
)

BUMP = """
    INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES (:parent_id, :resource_name, :value)
    ON CONFLICT (parent_id, resource_name) DO UPDATE
        SET last_modified = MAX(excluded.last_modified, timestamps.last_modified + :count)
    RETURNING last_modified
"""
TIMESTAMP = "SELECT last_modified FROM timestamps WHERE parent_id = :parent_id AND resource_name = :resource_name"
LIVE_COUNT = "SELECT live FROM live_counts WHERE parent_id = :parent_id AND resource_name = :resource_name"
INIT_TIMESTAMP = """
    INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES (:parent_id, :resource_name, :value)
    ON CONFLICT (parent_id, resource_name) DO NOTHING
"""
_KEY = "parent_id = :parent_id AND resource_name = :resource_name AND id = :id"
GET = f"SELECT last_modified, data FROM objects WHERE {_KEY} AND NOT deleted"
# Creating over a tombstone revives it; over a live object, nothing is written.
UPSERT = """
    INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
    VALUES (:parent_id, :resource_name, :id, :last_modified, 0, :data)
    ON CONFLICT (parent_id, resource_name, id) DO UPDATE
        SET last_modified = excluded.last_modified, deleted = 0, data = excluded.data {condition}
    RETURNING last_modified
"""
CREATE = UPSERT.format(condition="WHERE objects.deleted")
UPDATE = UPSERT.format(condition="")
MARK_DELETED = f"UPDATE objects SET deleted = 1, data = '{TOMBSTONE_DATA}', last_modified = :last_modified WHERE {_KEY}"

DECLARE = "INSERT INTO declared_indexes VALUES (:resource_name, :parent_id, :field) ON CONFLICT DO NOTHING"
UNDECLARE = (
    "DELETE FROM declared_indexes WHERE resource_name = :resource_name AND parent_id = :parent_id AND field = :field"
)
DECLARED_BY_OTHERS = "SELECT 1 FROM declared_indexes WHERE resource_name = :resource_name AND field = :field"

LOG_CHANGE = "INSERT INTO changes (logged_at, action, resource_name, parent_id, data) VALUES (?, ?, ?, ?, ?)"
LOG_END = "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'changes'"
LOG_BOUNDS = f"SELECT ({LOG_END}), (SELECT seq FROM changes_forgotten)"
CHANGES_AFTER = "SELECT seq, action, resource_name, parent_id, data FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"
# The newest of the consecutive oldest changes logged before a time (at
# most 10,000 a call), and how many they are.
OLDEST_CHANGES = """
    SELECT MAX(seq), COUNT(*) FROM (
        SELECT seq, logged_at, SUM(logged_at >= ?) OVER (ORDER BY seq) AS newer
        FROM (SELECT seq, logged_at FROM changes ORDER BY seq LIMIT 10000)
    ) WHERE newer = 0
"""

# One object of a page as a JSON array: [id, last_modified, deleted, data].
PAGE_ITEM = "'[' || json_quote(id) || ',' || last_modified || ',' || deleted || ',' || data || ']'"


def _clock():
    return time.time_ns() // 1_000_000


def _requested(last_modified):
    valid = isinstance(last_modified, int) and not isinstance(last_modified, bool) and 0 < last_modified < 2**62
    return last_modified if valid else 0


def object_from_row(object_id, last_modified, deleted, data):
    if deleted:
        return {"id": object_id, "last_modified": last_modified, "deleted": True}
    obj = ujson.loads(data)
    obj["id"] = object_id
    obj["last_modified"] = last_modified
    return obj


def objects_from_rows(rows):
    """The objects of ``(id, last_modified, deleted, data, ...)`` rows, their data
    parsed by one ``ujson.loads`` (a page of 100 in 60% of the time of one
    call per row)."""
    if not rows:
        return []
    parsed = ujson.loads("[" + ",".join([row[3] for row in rows]) + "]")
    for obj, row in zip(parsed, rows, strict=True):
        object_id, last_modified, deleted = row[0], row[1], row[2]
        if deleted:
            obj.clear()
        obj["id"] = object_id
        obj["last_modified"] = last_modified
        if deleted:
            obj["deleted"] = True
    return parsed


def _below(uri):
    """The bounds of the ids that start with ``uri/`` (an index range)."""
    return {"uri": uri, "low": uri + "/", "high": uri + "0"}  # "0" follows "/"


# The history's trim indexes (migrations/sqlite/storage/0004): named, since
# SQLite's planner prefers the primary key, which has the same order but
# makes the trim read every entry of the bucket.
TRIM_INDEXES = {
    ("resource_name",): "idx_history_by_resource",
    ("resource_name", "user_id"): "idx_history_by_resource_and_user",
}


class SQLiteStorage(SQLiteSchema, SharedSQLQueries, Storage):
    params_class = Params
    greatest = "MAX"

    component = "storage"

    def __init__(self, client):
        self.client = client
        client.add_functions(register_functions)

    @classmethod
    def from_settings(cls, settings):
        return cls(sqlite.client_for(settings, "storage"))

    def _run(self, sql, params=None):
        return self.client.execute(sql, params)

    def combined_with(self, permission):
        from kinto_server.combined.sqlite import SQLiteCombined

        return SQLiteCombined.for_backends(self, permission)

    def _bump(self, resource_name, parent_id, requested=0, count=1):
        """The highest of ``count`` new timestamps of the parent."""
        value = max(_requested(requested), _clock()) + count - 1
        params = {"parent_id": parent_id, "resource_name": resource_name, "value": value, "count": count}
        return self._run(BUMP, params)[0][0]

    def resource_timestamp(self, *, resource_name, parent_id):
        params = {"parent_id": parent_id, "resource_name": resource_name}
        rows = self._run(TIMESTAMP, params)
        if not rows:
            # First look at an empty parent: fix its timestamp now, so that
            # any later write gets a higher one.
            self._run(INIT_TIMESTAMP, {**params, "value": _clock()})
            rows = self._run(TIMESTAMP, params)
        return rows[0][0]

    def get(self, *, resource_name, parent_id, object_id):
        rows = self._run(GET, {"parent_id": parent_id, "resource_name": resource_name, "id": object_id})
        if not rows:
            raise ObjectNotFoundError(object_id)
        last_modified, data = rows[0]
        return object_from_row(object_id, last_modified, False, data)

    def get_many(self, *, keys, lock_lineage=False):
        # No lock to take: a write request holds the database's write lock.
        if not keys:
            return {}
        rows = self._run(
            "SELECT o.resource_name, o.parent_id, o.id, o.last_modified, o.data"
            " FROM json_each(:keys) AS k JOIN objects AS o"
            " ON o.resource_name = json_extract(k.value, '$[0]') AND o.parent_id = json_extract(k.value, '$[1]')"
            " AND o.id = json_extract(k.value, '$[2]')"
            " WHERE NOT o.deleted",
            {"keys": dumps([list(key) for key in keys])},
        )
        return {(rn, pid, oid): object_from_row(oid, lm, False, data) for rn, pid, oid, lm, data in rows}

    def _write(self, sql, resource_name, parent_id, object_id, obj):
        last_modified = self._bump(resource_name, parent_id, obj.get("last_modified"))
        data = {k: v for k, v in obj.items() if k not in ("id", "last_modified")}
        params = {
            "parent_id": parent_id,
            "resource_name": resource_name,
            "id": object_id,
            "last_modified": last_modified,
            "data": dumps(data),
        }
        rows = self._run(sql, params)
        if not rows:
            return None
        stored = dict(obj)
        stored["id"], stored["last_modified"] = object_id, rows[0][0]
        return stored

    def create(self, *, resource_name, parent_id, obj):
        created = self._write(CREATE, resource_name, parent_id, obj["id"], obj)
        if created is None:
            self.refuse_existing(resource_name=resource_name, parent_id=parent_id, object_id=obj["id"])
        return created

    def update(self, *, resource_name, parent_id, object_id, obj):
        return self._write(UPDATE, resource_name, parent_id, object_id, obj)

    def delete(self, *, resource_name, parent_id, object_id, last_modified=None):
        key = {"parent_id": parent_id, "resource_name": resource_name, "id": object_id}
        if not self._run(f"SELECT 1 FROM objects WHERE {_KEY} AND NOT deleted", key):
            raise ObjectNotFoundError(object_id)
        stamp = self._bump(resource_name, parent_id, last_modified)
        self._run(MARK_DELETED, {**key, "last_modified": stamp})
        return {"id": object_id, "last_modified": stamp, "deleted": True}

    def _scope(self, params, resource_name, parent_id, filters, object_ids, include_deleted=False):
        clauses = [
            f"parent_id = {params.add(parent_id)}",
            f"resource_name = {params.add(resource_name)}",
            where_filters(filters, params, self._indexed_fields(resource_name, parent_id, filters)),
        ]
        if not include_deleted:
            clauses.append("NOT deleted")
        if object_ids is not None:
            clauses.append(f"id IN (SELECT value FROM json_each({params.add(dumps(list(object_ids)))}))")
        return " AND ".join(clauses)

    def delete_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        params = Params()
        scope = self._scope(params, resource_name, parent_id, filters, object_ids)
        ids = [row[0] for row in self._run(f"SELECT id FROM objects WHERE {scope} ORDER BY last_modified", params)]
        if not ids:
            return []
        top = self._bump(resource_name, parent_id, count=len(ids))
        stamps = list(range(top - len(ids) + 1, top + 1))
        for object_id, stamp in zip(ids, stamps, strict=True):
            key = {"parent_id": parent_id, "resource_name": resource_name, "id": object_id}
            self._run(MARK_DELETED, {**key, "last_modified": stamp})
        return [{"id": i, "last_modified": t, "deleted": True} for i, t in zip(ids, stamps, strict=True)]

    # Field indexes (migration 0006): for a declared field, three indexes of
    # the live objects on (parent, resource, the sort keys ascending or
    # descending, id) and on (parent, resource, the field's value, the
    # timestamp: equality filters), the very expressions the list statements write
    # (kinto_server/storage/sqlite_sql.py). Not partial to the parent: the
    # statements bind it as a parameter, which SQLite cannot match to a
    # partial index; so the parents declaring one field share its indexes.
    # SQLite builds an index holding the write lock: writes wait meanwhile.

    def _field_indexes(self, resource_name, field):
        """``[(name, CREATE INDEX statement)]``."""
        check_indexable(field)
        if json_path(field) is None:
            raise UnindexableField(f"{field!r}: SQLite's JSON paths cannot name a key holding a double quote")
        found = []
        for kind in ("asc", "desc", "eq"):
            params = Params()
            if kind == "eq":
                columns = f"parent_id, resource_name, {Field(field, params).value}, last_modified"
            else:
                keys = sort_keys(Sort(field, descending=kind == "desc"), params)
                direction = "DESC" if kind == "desc" else "ASC"
                columns = ", ".join(f"{expr} {direction}" for expr, _ in keys)
                columns = f"parent_id, resource_name, {columns}, id"
            name = field_index_name(kind, resource_name, field)
            create = f"CREATE INDEX IF NOT EXISTS {name} ON objects ({columns}) WHERE NOT deleted"
            found.append((name, create))
        return found

    def declare_index(self, *, resource_name, parent_id, field):
        indexes = self._field_indexes(resource_name, field)
        with self.client.connect() as transaction:
            for _, create in indexes:
                transaction.execute(create, {})
            transaction.execute(DECLARE, self._declaration(resource_name, parent_id, field))
            transaction.execute("ANALYZE objects", {})
        self._declarations = None

    def drop_index(self, *, resource_name, parent_id, field):
        indexes = self._field_indexes(resource_name, field)
        with self.client.connect() as transaction:
            transaction.execute(UNDECLARE, self._declaration(resource_name, parent_id, field))
            others = transaction.execute(DECLARED_BY_OTHERS, {"resource_name": resource_name, "field": field})
            if not others:
                for name, _ in indexes:
                    transaction.execute(f"DROP INDEX IF EXISTS {name}", {})
        self._declarations = None

    def trim_field_text(self, name):
        return f"json_extract(data, '$.{name}')"

    def trim_table(self, resource_name, equal):
        index = TRIM_INDEXES.get(tuple(equal)) if resource_name == "history" else None
        return f"objects INDEXED BY {index}" if index else "objects"

    def delete_tree(self, *, parent_uri):
        for table in ("objects", "timestamps"):
            self._run(
                f"DELETE FROM {table} WHERE parent_id = :uri OR (parent_id >= :low AND parent_id < :high)",
                _below(parent_uri),
            )

    def purge_deleted(self, *, resource_name, parent_id, before=None):
        params = Params()
        clauses = ["deleted", f"resource_name = {params.add(resource_name)}"]
        if parent_id is not None:
            clauses.append(f"parent_id = {params.add(parent_id)}")
        if before is not None:
            clauses.append(f"last_modified < {params.add(before)}")
        return len(self._run(f"DELETE FROM objects WHERE {' AND '.join(clauses)} RETURNING 1", params))

    def _list_statement(
        self,
        params,
        *,
        resource_name,
        parent_id,
        filters=(),
        sorting=DEFAULT_SORT,
        after=None,
        limit=None,
        include_deleted=False,
        object_ids=None,
    ):
        scope = self._scope(params, resource_name, parent_id, filters, object_ids, include_deleted)
        order, keyset = order_and_keyset(sorting, after, params)
        sql = f"SELECT id, last_modified, deleted, data FROM objects WHERE {scope} AND {keyset} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {params.add(limit)}"
        return sql

    def _read_page(self, arguments, with_timestamp):
        """The page ``arguments`` select, and (``with_timestamp``) its
        parent's timestamp from the same statement, so the same snapshot
        (None when the parent has none yet).

        Sorted by timestamp (the default, and every ``_since`` feed), the
        page comes as one row: its objects concatenated by SQLite, then put
        in order here (timestamps are unique within a parent). One row, not
        one per object, because the sqlite3 module gives up the GIL at every
        row: with the server's threads busy, each row would wait for it, and
        a page of 100 took 2.4x as long as one row of 100. A page read
        again before any commit is answered from the client's cache."""
        params = Params()
        stamp = ", NULL"
        if with_timestamp:
            stamp = (
                f", (SELECT last_modified FROM timestamps WHERE parent_id = {params.add(arguments['parent_id'])}"
                f" AND resource_name = {params.add(arguments['resource_name'])})"
            )
        page = self._list_statement(params, **arguments)
        sorting = arguments.get("sorting", DEFAULT_SORT)
        if not (sorting and sorting[0].field == "last_modified"):
            rows = self.client.execute_cached(f"SELECT *{stamp} FROM ({page})", params)
            return objects_from_rows(rows), (rows[0][4] if rows else None)
        statement = f"SELECT group_concat({PAGE_ITEM}, ','){stamp} FROM ({page})"
        ((concatenated, timestamp),) = self.client.execute_cached(statement, params)
        items = ujson.loads(f"[{concatenated}]") if concatenated else []
        items.sort(key=itemgetter(1), reverse=sorting[0].descending)
        objects = []
        for object_id, last_modified, deleted, obj in items:
            if deleted:
                obj = {"deleted": True}
            obj["id"], obj["last_modified"] = object_id, last_modified
            objects.append(obj)
        return objects, timestamp

    def list_all(self, **kwargs):
        return self._read_page(kwargs, with_timestamp=False)[0]

    def count_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        if not filters and object_ids is None:  # kept by the writes (migration 0005)
            rows = self._run(LIVE_COUNT, {"parent_id": parent_id, "resource_name": resource_name})
            return rows[0][0] if rows else 0
        params = Params()
        scope = self._scope(params, resource_name, parent_id, filters, object_ids)
        return self._run(f"SELECT count(*) FROM objects WHERE {scope}", params)[0][0]

    def _with_timestamp(self, resource_name, parent_id, read):
        """``(read(), timestamp)`` from one snapshot. A parent never written
        has no timestamp yet: fix it, then read again."""
        key = {"parent_id": parent_id, "resource_name": resource_name}
        for _ in range(2):
            with self.client.snapshot():
                rows = self._run(TIMESTAMP, key)
                result = read()
            if rows:
                return result, rows[0][0]
            self.resource_timestamp(resource_name=resource_name, parent_id=parent_id)
        return result, self.resource_timestamp(resource_name=resource_name, parent_id=parent_id)

    def list_with_timestamp(self, **kwargs):
        """A page and its ETag from one statement (one snapshot); a page
        read as several rows and found empty, or a parent with no timestamp
        yet, reads both again in a snapshot."""
        objects, timestamp = self._read_page(kwargs, with_timestamp=True)
        if timestamp is not None:
            return objects, timestamp
        return self._with_timestamp(kwargs["resource_name"], kwargs["parent_id"], lambda: self.list_all(**kwargs))

    def count_with_timestamp(self, **kwargs):
        return self._with_timestamp(kwargs["resource_name"], kwargs["parent_id"], lambda: self.count_all(**kwargs))

    # The change log (migration 0003): writers take turns, so ``seq`` order
    # is commit order, and a reader's snapshot never lacks a change that
    # another one, committed later, precedes.

    has_change_log = True

    def log_changes(self, changes):
        now = _clock()
        for action, resource_name, parent_id, obj in changes:
            params = (now, action, resource_name, parent_id, dumps(obj))
            self._run(LOG_CHANGE, params)

    def changes_after(self, cursor, limit):
        with self.client.snapshot():
            end, forgotten = self._run(LOG_BOUNDS)[0]
            if cursor is None:
                return ChangesPage([], (end,))
            if cursor[0] < forgotten or cursor[0] > end:
                return ChangesPage([], (end,), reset=True)
            rows = self._run(CHANGES_AFTER, (cursor[0], limit))
        found = [Change((seq,), action, name, parent, ujson.loads(data)) for seq, action, name, parent, data in rows]
        return ChangesPage(found, found[-1].cursor if found else cursor)

    def purge_changes(self, before_ms):
        with self.client.connect() as transaction:
            # The log is in ``logged_at`` order too (but for clock jumps):
            # walk it from the oldest change, without an index on the time.
            rows = transaction.execute(OLDEST_CHANGES, (before_ms,))
            if not rows or rows[0][0] is None:
                return 0
            last, count = rows[0]
            transaction.execute("DELETE FROM changes WHERE seq <= ?", (last,))
            transaction.execute("UPDATE changes_forgotten SET seq = MAX(seq, ?)", (last,))
            return count

    def flush(self):
        for table in ("objects", "timestamps", "live_counts", "changes"):
            self._run(f"DELETE FROM {table}")
        # Cursors of the flushed changes read "reset" from now on.
        self._run(f"UPDATE changes_forgotten SET seq = ({LOG_END})")

    def heartbeat(self):
        return self.client.heartbeat()
