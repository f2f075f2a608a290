"""PostgreSQL storage: one ``objects`` table for every resource, live objects
and tombstones, and a ``timestamps`` table with the last timestamp handed
out per parent.

How timestamps stay exact under concurrency
-------------------------------------------
Every write (create, update, delete) first upserts its parent's row in
``timestamps``, setting it to ``GREATEST(clock, previous + 1)`` and taking that
value as the object's ``last_modified``. The upsert locks the row until the
writing transaction ends, so writers of one parent (in any process, on any
connection) take their timestamps one after the other, each *after* the
previous writer has committed: timestamps are unique, strictly increasing,
and ordered as the commits are. Writers first queue on a transaction-level
advisory lock named after the parent: PostgreSQL wakes only the next one in
line when it is released, where a row lock would wake every waiter to race
for the row again (with 8 concurrent batches into one collection, that race
cost a third of PostgreSQL's CPU). PostgreSQL makes a transaction visible before
it releases its locks, so when a reader sees timestamp T committed, every
write that will ever get a timestamp <= T has already committed: a
``_since=T`` poll can never miss a write that commits later. A list and its
ETag are read by one statement (:meth:`PostgreSQLStorage.list_with_timestamp`),
so the ETag never runs ahead of the objects returned with it.

Creations sent later
--------------------
Once a transaction has written under a parent, it holds the parent's turn
until it ends: no one else can take a timestamp there meanwhile. Its next
creations there (a batch's records, most often) need no round trip then:
the transaction hands out their timestamps itself (the previous one + 1, or
the clock if later) and queues them (``database.postgresql._Transaction``);
the creations queued one after the other join into one statement
(:class:`PendingCreates`), sent with the next query or the COMMIT: one
insert, one update of the timestamp row and of the live count, where each
creation would have updated both rows (the versions of those rows are what
made concurrent batches into one collection slow). The statement checks
what could not be checked when the creations were queued: an object created
meanwhile under one of their ids (by a concurrent transaction) aborts the
transaction as a conflict (tried again whole, it then finds the object);
a timestamp row past the handed-out stamps would be a bug and fails loudly.

The change log, and what a reader may trust of it
-------------------------------------------------
A write appends its changes to ``changes`` in its transaction, at the
position ``clock_timestamp()`` (microseconds) gives, after taking a shared
advisory lock (``LOG_LOCK``) that it holds until it ends. The writes of one
parent take turns (above), so their positions follow their commits; writes
of different parents commit in any order. A reader therefore first reads a
*horizon*: the statement's start time, lowered to the start of the oldest
transaction holding ``LOG_LOCK`` (``pg_locks``, ``pg_stat_activity``). A
transaction logs a position no earlier than its own start, so any change
positioned below the horizon belongs to a transaction that has already
committed (it released the lock after becoming visible) or never will; a
transaction that takes the lock later logs a position above the horizon.
The reader's next statement, a new snapshot, then sees every change below
the horizon for good: ``changes_after`` reads up to it, never past it.
"""

import time

from kinto_server.database import postgresql
from kinto_server.database.migrations import PostgreSQLSchema
from kinto_server.database.postgresql import Prepared
from kinto_server.errors import BackendUnavailable
from kinto_server.storage import DEFAULT_SORT, Change, ChangesPage, ObjectNotFoundError, Sort, Storage, check_indexable
from kinto_server.storage.sql import field_value, order_and_keyset, sort_keys, where_filters
from kinto_server.storage.sql_common import (
    TOMBSTONE_DATA,
    Params,
    SharedSQLQueries,
    dumps,
    field_index_name,
)

CLOCK = "FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

# Queue for the parent, lock its timestamp row and hand out the next timestamp
# (see above).
BUMP = f"""
    INSERT INTO timestamps AS t (parent_id, resource_name, last_modified)
    SELECT %(parent_id)s, %(resource_name)s, GREATEST(%(requested)s, {CLOCK}) + %(count)s - 1
    FROM (SELECT pg_advisory_xact_lock(hashtextextended(%(resource_name)s || ':' || %(parent_id)s, 0))) AS queue
    ON CONFLICT (parent_id, resource_name) DO UPDATE
        SET last_modified = GREATEST(EXCLUDED.last_modified, t.last_modified + %(count)s)
    RETURNING t.last_modified
"""


def upsert_ctes(condition):
    """The CTEs ``ts`` (the timestamp, see above) and ``written`` (the object's
    new ``last_modified``, no row if ``condition`` refused the conflict)."""
    return f"""
    ts AS ({BUMP}), written AS (
        INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
        SELECT %(parent_id)s, %(resource_name)s, %(id)s, ts.last_modified, FALSE, CAST(%(data)s AS jsonb) FROM ts
        ON CONFLICT (parent_id, resource_name, id) DO UPDATE
            SET last_modified = EXCLUDED.last_modified, deleted = FALSE, data = EXCLUDED.data
            {condition}
        RETURNING last_modified
    )
"""


# Creating over a tombstone revives it; over a live object, nothing is written.
CREATE_CTES = upsert_ctes("WHERE objects.deleted")
CREATE = Prepared(f"WITH {CREATE_CTES} SELECT last_modified FROM written")
UPDATE = Prepared(f"WITH {upsert_ctes('')} SELECT last_modified FROM written")

DELETE = Prepared(f"""
    WITH ts AS ({BUMP})
    UPDATE objects SET deleted = TRUE, data = '{TOMBSTONE_DATA}', last_modified = ts.last_modified
    FROM ts
    WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s AND id = %(id)s AND NOT deleted
    RETURNING objects.last_modified
""")

# The creations of one parent that a transaction queued (see above). The
# ACEs are those the creations replace (``replaced``: object, permission)
# and those they write (``wanted``).
DEFERRED_CREATES = """
    WITH written AS (
        INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
        SELECT %(parent_id)s, %(resource_name)s, f.id, f.last_modified, FALSE, CAST(f.data AS jsonb)
        FROM unnest(%(ids)s::text[], %(stamps)s::bigint[], %(data)s::text[]) AS f(id, last_modified, data)
        ON CONFLICT (parent_id, resource_name, id) DO UPDATE
            SET last_modified = EXCLUDED.last_modified, deleted = FALSE, data = EXCLUDED.data
            WHERE objects.deleted
        RETURNING 1
    ), stamped AS (
        UPDATE timestamps SET last_modified = %(top)s
        WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s AND last_modified < %(first)s
        RETURNING 1
    ), wanted AS (
        SELECT * FROM unnest(%(ace_objects)s::text[], %(ace_permissions)s::text[], %(ace_principals)s::text[])
            AS w(object_id, permission, principal)
    ), removed AS (
        DELETE FROM access_control_entries a
        USING unnest(%(replaced_objects)s::text[], %(replaced_permissions)s::text[]) AS r(object_id, permission)
        WHERE a.object_id = r.object_id AND a.permission = r.permission
          AND NOT EXISTS (
            SELECT 1 FROM wanted w
            WHERE w.object_id = a.object_id AND w.permission = a.permission AND w.principal = a.principal
          )
    ), added AS (
        INSERT INTO access_control_entries (object_id, permission, principal)
        SELECT object_id, permission, principal FROM wanted
        ON CONFLICT DO NOTHING
    )
    SELECT kinto_refuse('40001', 'an object was created meanwhile under a queued id')
    WHERE (SELECT count(*) FROM written) < %(count)s
    UNION ALL
    SELECT kinto_refuse('XX000', 'queued timestamps not above the parent''s timestamp')
    WHERE NOT EXISTS (SELECT 1 FROM stamped)
"""


class PendingCreates:
    """Creations under one parent waiting in a transaction's queue (see
    "Creations sent later"), each with its timestamp and its ACEs."""

    def __init__(self, key):
        self.key = key  # (resource_name, parent_id)
        self.ids, self.rows, self.aces, self.replaced = set(), [], [], []

    def add(self, object_id, stamp, obj, object_uri=None, permissions=None):
        self.ids.add(object_id)
        self.rows.append((object_id, stamp, _stored_data(obj)))
        for permission, principals in (permissions or {}).items():
            self.replaced.append((object_uri, permission))
            self.aces.extend((object_uri, permission, principal) for principal in principals)

    def extend(self, other):
        self.ids |= other.ids
        self.rows += other.rows
        self.aces += other.aces
        self.replaced += other.replaced

    def statement(self):
        resource_name, parent_id = self.key
        ids, stamps, data = (list(column) for column in zip(*self.rows, strict=True))
        objects, permissions, principals = (list(c) for c in zip(*self.aces, strict=True)) if self.aces else ([],) * 3
        replaced = [list(c) for c in zip(*self.replaced, strict=True)] if self.replaced else [[], []]
        return DEFERRED_CREATES, {
            "parent_id": parent_id,
            "resource_name": resource_name,
            "ids": ids,
            "stamps": stamps,
            "data": data,
            "count": len(ids),
            "first": stamps[0],
            "top": stamps[-1],
            "ace_objects": objects,
            "ace_permissions": permissions,
            "ace_principals": principals,
            "replaced_objects": replaced[0],
            "replaced_permissions": replaced[1],
        }


TIMESTAMP = Prepared(
    "SELECT last_modified FROM timestamps WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s"
)
INIT_TIMESTAMP = f"""
    INSERT INTO timestamps (parent_id, resource_name, last_modified)
    VALUES (%(parent_id)s, %(resource_name)s, {CLOCK})
    ON CONFLICT (parent_id, resource_name) DO NOTHING
"""

INDEX_VALID = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%(name)s)"
DECLARE = """
    INSERT INTO declared_indexes (resource_name, parent_id, field)
    VALUES (%(resource_name)s, %(parent_id)s, %(field)s) ON CONFLICT DO NOTHING
"""
UNDECLARE = """
    DELETE FROM declared_indexes
    WHERE resource_name = %(resource_name)s AND parent_id = %(parent_id)s AND field = %(field)s
"""

LIVE_COUNT = "SELECT live FROM live_counts WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s"

GET = Prepared("""
    SELECT last_modified, data FROM objects
    WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s AND id = %(id)s AND NOT deleted
""")

LINEAGE_KEYS = """
    unnest(%(resource_names)s::text[], %(parent_ids)s::text[], %(ids)s::text[]) AS k(resource_name, parent_id, id)
"""

GET_MANY = Prepared(f"""
    SELECT o.resource_name, o.parent_id, o.id, o.last_modified, o.data
    FROM objects o JOIN {LINEAGE_KEYS}
      ON o.parent_id = k.parent_id AND o.resource_name = k.resource_name AND o.id = k.id
    WHERE NOT o.deleted
""")

# Locking reads (see get_many): FOR SHARE keeps ancestors from being deleted
# while a child is written; FOR UPDATE makes concurrent writers of one object
# take turns, each seeing the previous one's result before its If-Match check.
# Also used by kinto_server.combined.postgresql.
LOCKED_LINEAGE = f"""
    WITH ancestors AS (
        SELECT o.resource_name, o.parent_id, o.id, o.last_modified, o.data FROM objects o JOIN {LINEAGE_KEYS}
          ON o.parent_id = k.parent_id AND o.resource_name = k.resource_name AND o.id = k.id
        WHERE NOT o.deleted
        ORDER BY o.parent_id
        FOR SHARE OF o
    ), target AS (
        SELECT resource_name, parent_id, id, last_modified, data FROM objects
        WHERE parent_id = %(parent_id)s AND resource_name = %(resource_name)s AND id = %(id)s AND NOT deleted
        FOR UPDATE
    )
"""
GET_LINEAGE_LOCKED = Prepared(
    LOCKED_LINEAGE + "SELECT * FROM ancestors UNION ALL SELECT * FROM target", keeps_stamps=True
)

MARK_DELETED = f"""
    UPDATE objects AS o SET deleted = TRUE, data = '{TOMBSTONE_DATA}', last_modified = v.last_modified
    FROM unnest(%(ids)s::text[], %(stamps)s::bigint[]) AS v(id, last_modified)
    WHERE o.parent_id = %(parent_id)s AND o.resource_name = %(resource_name)s AND o.id = v.id
"""

# The change log (see above). The lock's two keys show in pg_locks as
# (classid, objid), with objsubid 2.
LOG_LOCK = (1263424084, 1128352595)
# Notified at each commit that logged changes (readers still poll: a
# notification only wakes them sooner).
NOTIFY_CHANNEL = "kinto_server_changes"
MICROSECONDS = "FLOOR(EXTRACT(EPOCH FROM {}) * 1000000)::BIGINT"
LOG_CHANGES = f"""
    WITH turn AS (SELECT pg_advisory_xact_lock_shared({LOG_LOCK[0]}, {LOG_LOCK[1]})),
    ping AS (SELECT pg_notify('{NOTIFY_CHANNEL}', ''))
    INSERT INTO changes (position, action, resource_name, parent_id, data)
    SELECT {MICROSECONDS.format("clock_timestamp()")}, c.action, c.resource_name, c.parent_id, CAST(c.data AS jsonb)
    FROM turn, ping, unnest(%(actions)s::text[], %(resource_names)s::text[], %(parent_ids)s::text[], %(data)s::text[])
        WITH ORDINALITY AS c(action, resource_name, parent_id, data, n)
    ORDER BY c.n
"""
HORIZON = f"""
    SELECT {MICROSECONDS.format("statement_timestamp()")},
        {MICROSECONDS.format("MIN(a.xact_start)")}, COALESCE(BOOL_OR(a.xact_start IS NULL), FALSE),
        (SELECT position FROM changes_forgotten), (SELECT seq FROM changes_forgotten)
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.classid = {LOG_LOCK[0]} AND l.objid = {LOG_LOCK[1]} AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.pid <> pg_backend_pid()
"""
CHANGES_AFTER = Prepared("""
    SELECT position, seq, action, resource_name, parent_id, data FROM changes
    WHERE (position, seq) > (%(position)s, %(seq)s) AND position < %(horizon)s
    ORDER BY position, seq LIMIT %(limit)s
""")
HORIZON_ATTEMPTS = 200
# A cursor further ahead of the clock than this comes from another log.
FUTURE_TOLERANCE_US = 60_000_000


def object_from_row(object_id, last_modified, deleted, data):
    if deleted:
        return {"id": object_id, "last_modified": last_modified, "deleted": True}
    obj = dict(data)
    obj["id"] = object_id
    obj["last_modified"] = last_modified
    return obj


def _stored_data(obj):
    data = {k: v for k, v in obj.items() if k not in ("id", "last_modified")}
    return dumps(data)


def stored_object(obj, object_id, last_modified):
    stored = dict(obj)
    stored["id"] = object_id
    stored["last_modified"] = last_modified
    return stored


def write_params(resource_name, parent_id, object_id, obj):
    """The parameters of ``upsert_ctes``."""
    return {
        "parent_id": parent_id,
        "resource_name": resource_name,
        "id": object_id,
        "requested": _requested(obj),
        "count": 1,
        "data": _stored_data(obj),
    }


def queue_creation(client, resource_name, parent_id, obj):
    """``(group, stamp)`` where the creation of ``obj`` may wait (see
    "Creations sent later"), or None: to be written now."""
    transaction = client.current_transaction()
    if transaction is None:
        return None
    return transaction.queue_creation((resource_name, parent_id), obj["id"], _requested(obj), PendingCreates)


def hold_stamp(client, key, stamp):
    """Note that the request's transaction holds the turn of the parent
    ``key``, whose timestamp is now ``stamp``."""
    transaction = client.current_transaction()
    if transaction is not None:
        transaction.hold_stamp(key, stamp)


def _requested(obj):
    requested = obj.get("last_modified")
    valid = isinstance(requested, int) and not isinstance(requested, bool) and 0 < requested < 2**62
    return requested if valid else 0


class PostgreSQLStorage(PostgreSQLSchema, SharedSQLQueries, Storage):
    component = "storage"

    def __init__(self, client):
        self.client = client

    @classmethod
    def from_settings(cls, settings):
        return cls(postgresql.client_for(settings, "storage"))

    def _run(self, sql, params):
        return self.client.execute(sql, params)

    def combined_with(self, permission):
        from kinto_server.combined.postgresql import PostgreSQLCombined

        return PostgreSQLCombined.for_backends(self, permission)

    def _bump(self, resource_name, parent_id, requested=0, count=1):
        """The highest of ``count`` new timestamps of the parent (locked)."""
        params = {"parent_id": parent_id, "resource_name": resource_name, "requested": requested, "count": count}
        return self._run(BUMP, params)[0][0]

    def resource_timestamp(self, *, resource_name, parent_id):
        params = {"parent_id": parent_id, "resource_name": resource_name}
        rows = self._run(TIMESTAMP, params)
        if not rows:
            # First look at an empty parent: fix its timestamp now, so that
            # any later write gets a higher one.
            self._run(INIT_TIMESTAMP, params)
            rows = self._run(TIMESTAMP, params)
        return rows[0][0]

    def get(self, *, resource_name, parent_id, object_id):
        rows = self._run(GET, {"parent_id": parent_id, "resource_name": resource_name, "id": object_id})
        if not rows:
            raise ObjectNotFoundError(object_id)
        last_modified, data = rows[0]
        return object_from_row(object_id, last_modified, False, data)

    def get_many(self, *, keys, lock_lineage=False):
        if not keys:
            return {}
        if lock_lineage:
            return self._get_lineage_locked(keys)
        resource_names, parent_ids, ids = (list(column) for column in zip(*keys, strict=True))
        params = {"resource_names": resource_names, "parent_ids": parent_ids, "ids": ids}
        rows = self._run(GET_MANY, params)
        return {(rn, pid, oid): object_from_row(oid, lm, False, data) for rn, pid, oid, lm, data in rows}

    def _get_lineage_locked(self, keys):
        """The lineage in one statement: ancestors locked for share (top-down),
        the object itself for update."""
        *ancestors, (resource_name, parent_id, object_id) = keys
        columns = [list(column) for column in zip(*ancestors, strict=True)] if ancestors else [[], [], []]
        params = {
            "resource_names": columns[0],
            "parent_ids": columns[1],
            "ids": columns[2],
            "resource_name": resource_name,
            "parent_id": parent_id,
            "id": object_id,
        }
        rows = self._run(GET_LINEAGE_LOCKED, params)
        return {(rn, pid, oid): object_from_row(oid, lm, False, data) for rn, pid, oid, lm, data in rows}

    def _write(self, sql, resource_name, parent_id, object_id, obj):
        rows = self._run(sql, write_params(resource_name, parent_id, object_id, obj))
        if not rows:
            return None
        hold_stamp(self.client, (resource_name, parent_id), rows[0][0])
        return stored_object(obj, object_id, rows[0][0])

    def create(self, *, resource_name, parent_id, obj):
        queued = queue_creation(self.client, resource_name, parent_id, obj)
        if queued is not None:
            group, stamp = queued
            group.add(obj["id"], stamp, obj)
            return stored_object(obj, obj["id"], stamp)
        created = self._write(CREATE, resource_name, parent_id, obj["id"], obj)
        if created is None:
            self.refuse_existing(resource_name=resource_name, parent_id=parent_id, object_id=obj["id"])
        return created

    def update(self, *, resource_name, parent_id, object_id, obj):
        return self._write(UPDATE, resource_name, parent_id, object_id, obj)

    def delete(self, *, resource_name, parent_id, object_id, last_modified=None):
        params = {
            "parent_id": parent_id,
            "resource_name": resource_name,
            "id": object_id,
            "requested": _requested({"last_modified": last_modified}),
            "count": 1,
        }
        rows = self._run(DELETE, params)
        if not rows:
            raise ObjectNotFoundError(object_id)
        hold_stamp(self.client, (resource_name, parent_id), rows[0][0])
        return {"id": object_id, "last_modified": rows[0][0], "deleted": True}

    def _scope(self, params, resource_name, parent_id, filters, object_ids, include_deleted=False):
        clauses = [
            f"parent_id = {params.add(parent_id)}",
            f"resource_name = {params.add(resource_name)}",
            where_filters(filters, params, self._indexed_fields(resource_name, parent_id, filters)),
        ]
        if not include_deleted:
            clauses.append("NOT deleted")
        if object_ids is not None:
            clauses.append(f"id = ANY({params.add(list(object_ids))})")
        return " AND ".join(clauses)

    def delete_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        params = Params()
        scope = self._scope(params, resource_name, parent_id, filters, object_ids)
        rows = self._run(f"SELECT id FROM objects WHERE {scope} ORDER BY last_modified FOR UPDATE", params)
        if not rows:
            return []
        ids = [row[0] for row in rows]
        top = self._bump(resource_name, parent_id, count=len(ids))
        stamps = list(range(top - len(ids) + 1, top + 1))
        self._run(MARK_DELETED, {"parent_id": parent_id, "resource_name": resource_name, "ids": ids, "stamps": stamps})
        return [{"id": i, "last_modified": t, "deleted": True} for i, t in zip(ids, stamps, strict=True)]

    # Field indexes (migration 0006): for a declared field, three indexes
    # partial to its parent's live objects, on the very expressions the
    # list statements write (kinto_server/storage/sql.py): the sort keys
    # ascending and descending, both then ``id`` (the tie-break), and the
    # field's value then the timestamp (equality filters, newest first).
    # CREATE INDEX CONCURRENTLY: writes go on while one is built.

    def _field_indexes(self, resource_name, parent_id, field):
        """``[(name, CREATE INDEX statement, its parameters)]``."""
        check_indexable(field)
        found = []
        for kind in ("asc", "desc", "eq"):
            params = Params()
            if kind == "eq":
                columns = f"{field_value(field, params)}, last_modified DESC"
            else:
                direction = "DESC" if kind == "desc" else "ASC"
                keys = sort_keys(Sort(field, descending=kind == "desc"), params)
                columns = ", ".join(f"{expr} {direction}" for expr, _, _ in keys) + ", id ASC"
            where = (
                f"parent_id = {params.add(parent_id)} AND resource_name = {params.add(resource_name)} AND NOT deleted"
            )
            name = field_index_name(kind, resource_name, parent_id, field)
            found.append((name, f"CREATE INDEX CONCURRENTLY {name} ON objects ({columns}) WHERE {where}", params))
        return found

    def _outside_transactions(self):
        return self.client.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def declare_index(self, *, resource_name, parent_id, field):
        indexes = self._field_indexes(resource_name, parent_id, field)
        with self._outside_transactions() as connection:
            for name, create, params in indexes:
                valid = connection.exec_driver_sql(INDEX_VALID, {"name": name}).fetchall()
                if valid and valid[0][0]:
                    continue
                if valid:  # an interrupted build leaves an invalid index
                    connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                connection.exec_driver_sql(create, params)
            connection.exec_driver_sql(DECLARE, self._declaration(resource_name, parent_id, field))
        self._declarations = None

    def drop_index(self, *, resource_name, parent_id, field):
        indexes = self._field_indexes(resource_name, parent_id, field)
        with self._outside_transactions() as connection:
            connection.exec_driver_sql(UNDECLARE, self._declaration(resource_name, parent_id, field))
            for name, _, _ in indexes:
                connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        self._declarations = None

    def trim_field_text(self, name):
        return f"(data ->> '{name}')"

    def delete_tree(self, *, parent_uri):
        params = {"uri": parent_uri, "below": postgresql.escape_like(parent_uri + "/") + "%"}
        for table in ("objects", "timestamps"):
            self._run(f"DELETE FROM {table} WHERE parent_id = %(uri)s OR parent_id LIKE %(below)s", params)

    def purge_deleted(self, *, resource_name, parent_id, before=None):
        params = Params()
        clauses = ["deleted", f"resource_name = {params.add(resource_name)}"]
        if parent_id is not None:
            clauses.append(f"parent_id = {params.add(parent_id)}")
        if before is not None:
            clauses.append(f"last_modified < {params.add(before)}")
        rows = self._run(
            f"WITH gone AS (DELETE FROM objects WHERE {' AND '.join(clauses)} RETURNING 1) SELECT count(*) FROM gone",
            params,
        )
        return rows[0][0]

    def list_all(
        self,
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
        arguments = {
            "resource_name": resource_name,
            "parent_id": parent_id,
            "filters": filters,
            "sorting": sorting,
            "after": after,
            "limit": limit,
            "include_deleted": include_deleted,
            "object_ids": object_ids,
        }
        return self._list(arguments, with_timestamp=False)[0]

    def _list(self, arguments, with_timestamp):
        params = Params()
        resource_name, parent_id = arguments["resource_name"], arguments["parent_id"]
        scope = self._scope(
            params,
            resource_name,
            parent_id,
            arguments.get("filters", ()),
            arguments.get("object_ids"),
            arguments.get("include_deleted", False),
        )
        order, keyset = order_and_keyset(arguments.get("sorting", DEFAULT_SORT), arguments.get("after"), params)
        sql = f"SELECT id, last_modified, deleted, data FROM objects WHERE {scope} AND {keyset} ORDER BY {order}"
        if arguments.get("limit") is not None:
            sql += f" LIMIT {params.add(arguments['limit'])}"
        if not with_timestamp:
            return [object_from_row(*row) for row in self._run(sql, params)], None
        # The parent's timestamp and the page in one statement, so one
        # snapshot, even when the page is empty: a single row (the timestamp)
        # joined with the page's rows, or with one row of NULLs. The page's
        # order is kept: a nested loop over one outer row yields the inner
        # rows as the inner ORDER BY gives them.
        stamp = (
            f"SELECT last_modified FROM timestamps WHERE parent_id = {params.add(parent_id)}"
            f" AND resource_name = {params.add(resource_name)}"
        )
        sql = (
            f"SELECT ts.value, page.id, page.last_modified, page.deleted, page.data"
            f" FROM (SELECT ({stamp}) AS value) AS ts LEFT JOIN LATERAL ({sql}) AS page ON TRUE"
        )
        rows = self._run(sql, params)
        objects = [object_from_row(*row[1:]) for row in rows if row[1] is not None]
        return objects, rows[0][0]

    def list_with_timestamp(self, **kwargs):
        """The page and its ETag from one statement (one snapshot): a write
        that commits meanwhile is either in the page or after its ETag."""
        return self._with_timestamp(
            kwargs["resource_name"], kwargs["parent_id"], lambda: self._list(kwargs, with_timestamp=True)
        )

    def count_all(self, *, resource_name, parent_id, filters=(), object_ids=None):
        return self._count(resource_name, parent_id, filters, object_ids, with_timestamp=False)[0]

    def _count(self, resource_name, parent_id, filters, object_ids, with_timestamp):
        params = Params()
        stamp = "NULL"
        if with_timestamp:
            stamp = (
                f"(SELECT last_modified FROM timestamps WHERE parent_id = {params.add(parent_id)}"
                f" AND resource_name = {params.add(resource_name)})"
            )
        if not filters and object_ids is None:  # kept by the writes (migration 0005)
            params.update(parent_id=parent_id, resource_name=resource_name)
            return self._run(f"SELECT COALESCE(({LIVE_COUNT}), 0), {stamp}", params)[0]
        scope = self._scope(params, resource_name, parent_id, filters, object_ids)
        return self._run(f"SELECT count(*), {stamp} FROM objects WHERE {scope}", params)[0]

    def count_with_timestamp(self, *, resource_name, parent_id, filters=(), object_ids=None):
        """The count and the ETag from one statement (one snapshot)."""
        return self._with_timestamp(
            resource_name, parent_id, lambda: self._count(resource_name, parent_id, filters, object_ids, True)
        )

    def _with_timestamp(self, resource_name, parent_id, read):
        """``read()``'s ``(result, timestamp)``, both from one statement. A
        parent never written has no timestamp row yet: fix it (waiting for a
        first writer that holds it), then read again, now with a timestamp
        that every later write will be above."""
        result, timestamp = read()
        if timestamp is None:
            self.resource_timestamp(resource_name=resource_name, parent_id=parent_id)
            result, timestamp = read()
        if timestamp is None:  # Its bucket was deleted meanwhile.
            timestamp = self.resource_timestamp(resource_name=resource_name, parent_id=parent_id)
        return result, timestamp

    has_change_log = True
    cursor_length = 2

    def log_changes(self, changes):
        columns = {"actions": [], "resource_names": [], "parent_ids": [], "data": []}
        for action, resource_name, parent_id, obj in changes:
            columns["actions"].append(action)
            columns["resource_names"].append(resource_name)
            columns["parent_ids"].append(parent_id)
            columns["data"].append(dumps(obj))
        # With the COMMIT's round trip (the lock it takes is held to the end).
        self.client.execute_deferred(LOG_CHANGES, columns)

    def _horizon(self):
        """The horizon's row. A session ending its transaction may still hold
        the lock with no start shown: ask again, briefly; a role that cannot
        see the other sessions' starts at all is an error."""
        for _ in range(HORIZON_ATTEMPTS):
            row = self._run(HORIZON, {})[0]
            if not row[2]:
                return row
            time.sleep(0.001)
        raise BackendUnavailable(
            "PostgreSQL: the start of another session's transaction cannot be read (pg_stat_activity);"
            " the change log needs a role that sees its own sessions"
        )

    def changes_after(self, cursor, limit):
        now, oldest_writer, _, forgotten_position, forgotten_seq = self._horizon()
        horizon = now if oldest_writer is None else min(now, oldest_writer)
        end = (horizon, 0)
        if cursor is None:
            return ChangesPage([], end)
        if cursor < (forgotten_position, forgotten_seq) or cursor[0] > now + FUTURE_TOLERANCE_US:
            return ChangesPage([], max(end, (forgotten_position, forgotten_seq)), reset=True)
        params = {"position": cursor[0], "seq": cursor[1], "horizon": horizon, "limit": limit}
        rows = self._run(CHANGES_AFTER, params)
        found = [Change((p, s), action, name, parent_id, data) for p, s, action, name, parent_id, data in rows]
        if len(found) == limit:
            return ChangesPage(found, found[-1].cursor)
        return ChangesPage(found, max(cursor, end))

    def purge_changes(self, before_ms):
        with self.client.connect() as transaction:
            rows = transaction.execute(
                "DELETE FROM changes WHERE position < %(before)s RETURNING position, seq", {"before": before_ms * 1000}
            )
            if not rows:
                return 0
            position, seq = max(rows)
            transaction.execute(
                "UPDATE changes_forgotten SET position = %(p)s, seq = %(s)s WHERE (position, seq) < (%(p)s, %(s)s)",
                {"p": position, "s": seq},
            )
            return len(rows)

    def flush(self):
        self._run("TRUNCATE objects, timestamps, live_counts, changes", {})
        # Cursors of the flushed changes read "reset" from now on.
        self._run(f"UPDATE changes_forgotten SET position = {MICROSECONDS.format('clock_timestamp()')}, seq = 0", {})

    def heartbeat(self):
        return self.client.heartbeat()
