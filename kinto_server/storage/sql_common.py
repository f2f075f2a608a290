"""What the SQL compilers of PostgreSQL (:mod:`.sql`) and SQLite
(:mod:`.sqlite_sql`) share: bound parameters, JSON text, and the filters on
the ``id`` and ``last_modified`` columns, which differ only in how each SQL
spells truth, a list of values and a ``like_`` pattern.

As in the memory backend, a column filter with a value of the wrong type
matches nothing (``not_``: everything): ids are strings, timestamps integers.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import ujson

from kinto_server.storage import ImportConflict, ObjectExistsError, Operator, check_trim

COLUMNS = ("id", "last_modified")
COMPARATORS = {Operator.LT: "<", Operator.GT: ">", Operator.MIN: ">=", Operator.MAX: "<="}


def dumps(value):
    return ujson.dumps(value, escape_forward_slashes=False)


class Params(dict):
    """Bound parameters of one statement, named ``p0``, ``p1``..., written
    as ``placeholder`` says (``%({})s`` for psycopg2, ``:{}`` for sqlite3)."""

    placeholder = "%({})s"

    def add(self, value):
        name = f"p{len(self)}"
        self[name] = value
        return self.placeholder.format(name)


@dataclass(frozen=True)
class Spelling:
    true: str
    false: str
    in_list: Callable  # (column, values, params) -> SQL
    like: Callable  # (column, pattern, params) -> SQL


def column_filter(flt, params, spelling):
    column, value, op = flt.field, flt.value, flt.operator
    if op is Operator.HAS:
        return spelling.true if value else spelling.false
    expected = str if column == "id" else int
    if op in (Operator.IN, Operator.EXCLUDE):
        values = [v for v in value if isinstance(v, expected) and not isinstance(v, bool)]
        clause = spelling.in_list(column, values, params)
        return clause if op is Operator.IN else f"NOT ({clause})"
    if op is Operator.LIKE:
        return spelling.like(column, value, params) if column == "id" else spelling.false
    if op in (Operator.CONTAINS, Operator.CONTAINS_ANY):
        return spelling.false
    matches_type = isinstance(value, expected) and not isinstance(value, bool)
    if op is Operator.EQ:
        return f"{column} = {params.add(value)}" if matches_type else spelling.false
    if op is Operator.NOT:
        return f"{column} <> {params.add(value)}" if matches_type else spelling.true
    return f"{column} {COMPARATORS[op]} {params.add(value)}" if matches_type else spelling.false


def trim_sql(*, resource_name, parent_id, equal, keep, slack, params, field_text, table="objects"):
    """The one statement of :meth:`Storage.trim_objects`: once the
    ``keep + slack + 1``-th newest matching object exists, it deletes those
    older than the ``keep``-th newest, returning their ids. Both are walks of
    an index in timestamp order, of ``keep + slack`` entries at most.

    The resource name and the field names are written literally (they come
    from code, never from a request: checked), so that the planners see
    the expressions and the condition of the partial indexes built for them;
    ``field_text(name)`` spells a data field as text, ``table`` the table
    (with an index hint, for SQLite)."""
    check_trim(resource_name, equal, keep, slack)
    scope = " AND ".join(
        [
            f"parent_id = {params.add(parent_id)}",
            f"resource_name = '{resource_name}'",
            "NOT deleted",
            *(f"{field_text(name)} = {params.add(value)}" for name, value in equal.items()),
        ]
    )

    def nth_newest(offset):
        return f"SELECT last_modified FROM {table} WHERE {scope} ORDER BY last_modified DESC LIMIT 1 OFFSET {offset}"

    over, kept = nth_newest(params.add(keep + slack)), nth_newest(params.add(keep - 1))
    return f"DELETE FROM {table} WHERE {scope} AND EXISTS ({over}) AND last_modified < ({kept}) RETURNING id"


class SharedSQLQueries:
    """The storage methods the SQL backends run alike (``trim_objects``,
    ``import_objects``, ``create_many``, ``count_by_resource``); they give
    their parent's next timestamps (``_bump``) and say how they
    spell a data field as text (``trim_field_text``), which table (and index
    hint) the trim reads (``trim_table``), and their ``Params``."""

    params_class = Params

    def trim_field_text(self, name):
        raise NotImplementedError

    def trim_table(self, resource_name, equal):
        return "objects"

    def trim_objects(self, *, resource_name, parent_id, equal, keep, slack=0):
        params = self.params_class()
        sql = trim_sql(
            resource_name=resource_name,
            parent_id=parent_id,
            equal=equal,
            keep=keep,
            slack=slack,
            params=params,
            field_text=self.trim_field_text,
            table=self.trim_table(resource_name, equal),
        )
        return [row[0] for row in self._run(sql, params)]

    #: The SQL function of the larger of two values.
    greatest = "GREATEST"

    def import_objects(self, objects, timestamps=()):
        newest = {}
        stored = 0
        for chunk in chunks(objects, IMPORT_CHUNK):
            params = self.params_class()
            rows = []
            for obj in chunk:
                data = TOMBSTONE_DATA if obj.deleted else dumps(obj.data)
                fields = (obj.parent_id, obj.resource_name, obj.id, obj.last_modified, bool(obj.deleted), data)
                rows.append("(" + ", ".join(params.add(value) for value in fields) + ")")
                key = (obj.resource_name, obj.parent_id)
                newest[key] = max(newest.get(key, 0), obj.last_modified)
            inserted = self._run(IMPORT_OBJECTS.format(rows=", ".join(rows)), params)
            if len(inserted) != len(chunk):
                raise ImportConflict(_first_conflict(chunk, inserted))
            stored += len(chunk)
        for resource_name, parent_id, last_modified in timestamps:
            key = (resource_name, parent_id)
            newest[key] = max(newest.get(key, 0), last_modified)
        for chunk in chunks(newest.items(), IMPORT_CHUNK):
            params = self.params_class()
            rows = ", ".join(
                f"({params.add(parent_id)}, {params.add(resource_name)}, {params.add(last_modified)})"
                for (resource_name, parent_id), last_modified in chunk
            )
            self._run(IMPORT_TIMESTAMPS.format(rows=rows, greatest=self.greatest), params)
        return stored

    def create_many(self, *, resource_name, parent_id, objs):
        created = []
        for chunk in _distinct_chunks(objs, IMPORT_CHUNK):
            first = self._bump(resource_name, parent_id, count=len(chunk)) - len(chunk) + 1
            params, rows, stored = self.params_class(), [], []
            for last_modified, obj in enumerate(chunk, start=first):
                data = {k: v for k, v in obj.items() if k not in ("id", "last_modified")}
                fields = (parent_id, resource_name, obj["id"], last_modified, False, dumps(data))
                rows.append("(" + ", ".join(params.add(value) for value in fields) + ")")
                stored.append({**data, "id": obj["id"], "last_modified": last_modified})
            inserted = self._run(CREATE_MANY.format(rows=", ".join(rows)), params)
            if len(inserted) != len(chunk):
                written = {row[0] for row in inserted}
                existing = next(obj["id"] for obj in chunk if obj["id"] not in written)
                self.refuse_existing(resource_name=resource_name, parent_id=parent_id, object_id=existing)
            created.extend(stored)
        return created

    def declared_indexes(self):
        return [tuple(row) for row in self._run(DECLARED_INDEXES, self.params_class())]

    #: How long a process trusts its copy of the declarations: one made by
    #: another process is used (for equality filters) within this time.
    DECLARATIONS_SECONDS = 5.0
    _declarations = None  # (trusted until, {(resource_name, parent_id): fields})

    def _indexed_fields(self, resource_name, parent_id, filters):
        """The declared fields among those ``filters`` compare for equality
        (the declarations are read only for such filters)."""
        if not any(f.operator is Operator.EQ and f.field not in COLUMNS for f in filters):
            return frozenset()
        found, now = self._declarations, time.monotonic()
        if found is None or found[0] < now:
            declared = {}
            for declared_resource, declared_parent, field in self.declared_indexes():
                declared.setdefault((declared_resource, declared_parent), set()).add(field)
            found = self._declarations = (now + self.DECLARATIONS_SECONDS, declared)
        return frozenset(found[1].get((resource_name, parent_id), ()))

    def _declaration(self, resource_name, parent_id, field):
        return {"resource_name": resource_name, "parent_id": parent_id, "field": field}

    def refuse_existing(self, *, resource_name, parent_id, object_id):
        """Raise ObjectExistsError with the live object a create ran into."""
        raise ObjectExistsError(self.get(resource_name=resource_name, parent_id=parent_id, object_id=object_id))

    def count_by_resource(self, *, resource_names):
        params = self.params_class()
        return counts_from_rows(self._run(count_by_resource_sql(resource_names, params), params))


DECLARED_INDEXES = "SELECT resource_name, parent_id, field FROM declared_indexes ORDER BY 1, 2, 3"


def field_index_name(kind, *key):
    """The name of an index of a declared field: ``field_<digest of the
    key>_<kind>`` (within PostgreSQL's 63 characters)."""
    digest = hashlib.sha1("\x1f".join(key).encode("utf-8")).hexdigest()[:20]
    return f"field_{digest}_{kind}"


TOMBSTONE_DATA = '{"deleted": true}'
IMPORT_CHUNK = 500  # objects per statement (6 parameters each)
IMPORT_OBJECTS = """
    INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data) VALUES {rows}
    ON CONFLICT DO NOTHING
    RETURNING parent_id, resource_name, id
"""
# Creating over a tombstone revives it; over a live object (or one
# created twice), nothing is written.
CREATE_MANY = """
    INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data) VALUES {rows}
    ON CONFLICT (parent_id, resource_name, id) DO UPDATE
        SET last_modified = excluded.last_modified, deleted = excluded.deleted, data = excluded.data
        WHERE objects.deleted
    RETURNING id
"""
IMPORT_TIMESTAMPS = """
    INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES {rows}
    ON CONFLICT (parent_id, resource_name) DO UPDATE
        SET last_modified = {greatest}(timestamps.last_modified, excluded.last_modified)
"""


def chunks(items, size):
    """``items`` in lists of at most ``size``."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _distinct_chunks(objs, size):
    """``objs`` in lists of at most ``size`` with distinct ids: one statement
    cannot write a row twice, so a repeated id starts the next list (where
    it meets the first as an existing object)."""
    chunk, ids = [], set()
    for obj in objs:
        if len(chunk) == size or obj["id"] in ids:
            yield chunk
            chunk, ids = [], set()
        chunk.append(obj)
        ids.add(obj["id"])
    if chunk:
        yield chunk


def _first_conflict(chunk, inserted):
    stored = {tuple(row) for row in inserted}
    for obj in chunk:
        if (obj.parent_id, obj.resource_name, obj.id) not in stored:
            return (
                f"{obj.resource_name} {obj.id!r} of {obj.parent_id!r} (last_modified {obj.last_modified}): "
                "an object with its id, or its timestamp in that parent, is already stored"
            )
    return "an object is already stored"


def count_by_resource_sql(resource_names, params):
    names = ", ".join(params.add(name) for name in resource_names)
    return f"SELECT resource_name, deleted, count(*) FROM objects WHERE resource_name IN ({names}) GROUP BY 1, 2"


def counts_from_rows(rows):
    counts = {}
    for resource_name, deleted, count in rows:
        live, tombstones = counts.get(resource_name, (0, 0))
        counts[resource_name] = (live, tombstones + count) if deleted else (live + count, tombstones)
    return counts
