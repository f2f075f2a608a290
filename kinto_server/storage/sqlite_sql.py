"""Filters, sort keys and pagination keys compiled to SQLite (JSON functions).

The semantics are the memory backend's (:mod:`kinto_server.storage.evaluation`),
as PostgreSQL's compiler (:mod:`kinto_server.storage.sql`) gives them:
comparisons only between values of one JSON type, strings compared by code
point (SQLite's BINARY collation on UTF-8), mixed types sorted null < string
< number < boolean < array < object, objects lacking the field last in
ascending order, ties broken by id.

Values and field paths are bound parameters. Where SQL cannot say it exactly
(case-insensitive ``like_`` beyond ASCII, equality of arrays and objects,
``contains_``), a Python function registered on the connection does, with
the memory backend's own code.
"""

import ujson

from kinto_server.storage import Operator, sql_common
from kinto_server.storage.evaluation import MISSING, _equals, like_matcher, resolve
from kinto_server.storage.sql_common import COLUMNS, COMPARATORS, Spelling, column_filter, dumps

_RANKS = {"null": 0, "text": 1, "integer": 2, "real": 2, "true": 3, "false": 3, "array": 4, "object": 5}
_MISSING_RANK = 7


class Params(sql_common.Params):
    placeholder = ":{}"

    def add(self, value):
        # SQLite integers are 64-bit: a larger one (a filter value) is bound
        # as the real number SQLite's JSON functions read such a value as.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            value = float(value)
        return super().add(value)


def json_path(field):
    """``$."a"."b"`` for ``a.b``, or None when a key holds a double quote
    (SQLite's JSON paths cannot quote it)."""
    parts = field.split(".")
    if any('"' in part for part in parts):
        return None
    return "$" + "".join(f'."{part}"' for part in parts)


# Python functions registered on every connection (see register_functions).


def _resolved(data, field):
    value = resolve(ujson.loads(data), field)
    return None if value is MISSING else dumps(value)


_LIKES = {}


def _like(text, pattern):
    matcher = _LIKES.get(pattern)
    if matcher is None:
        if len(_LIKES) > 256:
            _LIKES.clear()
        matcher = _LIKES[pattern] = like_matcher(pattern)
    return isinstance(text, str) and matcher(text)


# SQLite may evaluate these whatever the type test beside them says: they
# get the value's JSON type, and look only into arrays and objects (whose
# value is then JSON text).


def _json_equal(kind, left, right):
    return kind in ("array", "object") and _equals(ujson.loads(left), ujson.loads(right))


def _contains(kind, array, values, require_all):
    if kind != "array":
        return False
    items = ujson.loads(array)
    if not isinstance(items, list):
        return False
    found = [any(_equals(item, v) for item in items) for v in ujson.loads(values)]
    return all(found) if require_all else any(found)


def register_functions(connection):
    connection.create_function("kinto_resolved", 2, _resolved, deterministic=True)
    connection.create_function("kinto_like", 2, _like, deterministic=True)
    connection.create_function("kinto_json_equal", 3, _json_equal, deterministic=True)
    connection.create_function("kinto_contains", 4, _contains, deterministic=True)


class Field:
    """SQL expressions for one data field: its JSON type (NULL when missing)
    and its SQL value (a number, a string, 0/1 for booleans, JSON text for
    arrays and objects)."""

    def __init__(self, field, params):
        path = json_path(field)
        if path is not None:
            # Written in the statement, so that an index on these expressions
            # can serve it (SQLite matches expressions with bound parameters
            # to none); a path with a NUL cannot be (sqlite3 refuses it).
            p = "'" + path.replace("'", "''") + "'" if "\x00" not in path else params.add(path)
            self.type = f"json_type(data, {p})"
            self.value = f"json_extract(data, {p})"
        else:
            resolved = f"kinto_resolved(data, {params.add(field)})"
            self.type = f"json_type({resolved})"
            self.value = f"json_extract({resolved}, '$')"


def _kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "json"


def _equal_sql(x, value, params):
    kind = _kind(value)
    if kind == "null":
        return f"({x.type} IS 'null')"
    if kind == "boolean":
        return f"({x.type} IS '{'true' if value else 'false'}')"
    if kind == "number":
        return f"({x.type} IN ('integer', 'real') AND {x.value} = {params.add(value)})"
    if kind == "string":
        return f"({x.type} IS 'text' AND {x.value} = {params.add(value)})"
    return f"({x.type} IN ('array', 'object') AND kinto_json_equal({x.type}, {x.value}, {params.add(dumps(value))}))"


def _member_sql(x, values, params):
    """``x`` equals one of ``values`` (one JSON parameter, however many)."""
    return f"""EXISTS (SELECT 1 FROM json_each({params.add(dumps(list(values)))}) AS e WHERE CASE
        WHEN e.type IN ('integer', 'real') THEN {x.type} IN ('integer', 'real') AND {x.value} = e.atom
        WHEN e.type = 'text' THEN {x.type} IS 'text' AND {x.value} = e.atom
        WHEN e.type IN ('null', 'true', 'false') THEN {x.type} IS e.type
        ELSE {x.type} IN ('array', 'object') AND kinto_json_equal({x.type}, {x.value}, e.value) END)"""


def _compare_sql(x, op, value, params):
    kind = _kind(value)
    if kind == "string":
        return f"({x.type} IS 'text' AND {x.value} {op} {params.add(value)})"
    if kind == "number":
        return f"({x.type} IN ('integer', 'real') AND {x.value} {op} {params.add(value)})"
    if kind == "boolean":
        return f"({x.type} IN ('true', 'false') AND ({x.type} = 'true') {op} {params.add(int(value))})"
    return "0"


SPELLING = Spelling(
    true="1",
    false="0",
    in_list=lambda column, values, params: f"{column} IN (SELECT value FROM json_each({params.add(dumps(values))}))",
    like=lambda column, pattern, params: f"kinto_like({column}, {params.add(str(pattern))})",
)


def filter_sql(flt, params, indexed=frozenset()):
    """A boolean SQL expression (never NULL, but for ``indexed`` fields)
    for one filter; ``indexed``: the data fields with an equality index."""
    if flt.field in COLUMNS:
        return column_filter(flt, params, SPELLING)
    if flt.operator is Operator.EQ and flt.field in indexed and _kind(flt.value) in ("number", "string"):
        # Bare, so that the index on the field's value serves it: NULL (no
        # such field) selects no row in the WHERE clause, as 0 would.
        return _equal_sql(Field(flt.field, params), flt.value, params)
    return f"IFNULL({_data_filter(flt, params)}, 0)"


def _data_filter(flt, params):
    op, value = flt.operator, flt.value
    x = Field(flt.field, params)
    if op is Operator.EQ:
        return _equal_sql(x, value, params)
    if op is Operator.NOT:
        return f"NOT IFNULL({_equal_sql(x, value, params)}, 0)"
    if op in (Operator.IN, Operator.EXCLUDE):
        clause = _member_sql(x, value, params)
        return clause if op is Operator.IN else f"NOT {clause}"
    if op is Operator.HAS:
        return f"({x.type} IS NOT NULL)" if value else f"({x.type} IS NULL)"
    if op is Operator.LIKE:
        return f"({x.type} IS 'text' AND kinto_like({x.value}, {params.add(str(value))}))"
    if op in (Operator.CONTAINS, Operator.CONTAINS_ANY):
        require_all = 1 if op is Operator.CONTAINS else 0
        return (
            f"({x.type} IS 'array' AND kinto_contains({x.type}, {x.value}, {params.add(dumps(value))}, {require_all}))"
        )
    return _compare_sql(x, COMPARATORS[op], value, params)


def where_filters(filters, params, indexed=frozenset()):
    return " AND ".join(filter_sql(f, params, indexed) for f in filters) or "1"


def _rank_sql(x):
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in _RANKS.items())
    return f"(CASE {x.type} {cases} ELSE {_MISSING_RANK} END)"


def _rank_of(value):
    if value is MISSING:
        return _MISSING_RANK
    kind = _kind(value)
    return {"null": 0, "string": 1, "number": 2, "boolean": 3}.get(kind, 4 if isinstance(value, list) else 5)


def sort_keys(sort, params):
    """``[(sql expression, value of the key for an object)]`` for one sort."""
    if sort.field in COLUMNS:
        return [(sort.field, lambda obj, f=sort.field: obj.get(f))]
    x = Field(sort.field, params)
    string = f"COALESCE(CASE WHEN {x.type} = 'text' THEN {x.value} END, '')"
    number = f"COALESCE(CASE WHEN {x.type} IN ('integer', 'real') THEN {x.value} END, 0)"
    other = (
        f"COALESCE(CASE WHEN {x.type} IN ('true', 'false') THEN ({x.type} = 'true') "
        f"WHEN {x.type} IN ('array', 'object') THEN {x.value} END, '')"
    )

    def value(obj, field=sort.field):
        return resolve(obj, field)

    def other_of(obj):
        v = value(obj)
        rank = _rank_of(v)
        if rank == 3:
            return int(v)
        return dumps(v) if rank in (4, 5) else ""

    return [
        (_rank_sql(x), lambda obj: _rank_of(value(obj))),
        (string, lambda obj: v if isinstance(v := value(obj), str) else ""),
        (number, lambda obj: v if _kind(v := value(obj)) == "number" else 0),
        (other, other_of),
    ]


def order_and_keyset(sorting, after, params):
    """The ORDER BY clause, and the WHERE clause selecting rows after ``after``."""
    keys = []
    for sort in sorting:
        keys.extend((expr, value, sort.descending) for expr, value in sort_keys(sort, params))
    if not (sorting and sorting[0].field == "last_modified"):
        keys.append(("id", lambda obj: obj.get("id", ""), False))
    order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, _, desc in keys)
    if after is None:
        return order, "1"
    bound = [(expr, params.add(value(after)), desc) for expr, value, desc in keys]
    expr, placeholder, desc = bound[-1]
    after_keys = f"{expr} {'<' if desc else '>'} {placeholder}"
    for expr, placeholder, desc in reversed(bound[:-1]):
        after_keys = f"({expr} {'<' if desc else '>'} {placeholder} OR ({expr} = {placeholder} AND {after_keys}))"
    return order, f"({after_keys})"
