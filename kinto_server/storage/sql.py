"""Filters, sort keys and pagination keys compiled to PostgreSQL.

Every value and every field name from a request reaches the database as a
bound parameter: field names become ``text[]`` paths for ``data #> path``,
so no user input is ever part of the SQL text.

The semantics are the memory backend's (:mod:`kinto_server.storage.evaluation`):
comparisons only between values of one JSON type, strings compared by code
point (``COLLATE "C"``), mixed types sorted null < string < number < boolean
< array < object, objects lacking the field last in ascending order, ties
broken by id.
"""

from kinto_server.database.postgresql import escape_like
from kinto_server.storage import Operator
from kinto_server.storage.evaluation import MISSING, resolve
from kinto_server.storage.sql_common import COLUMNS, COMPARATORS, Spelling, column_filter, dumps


def _json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def field_value(field, params):
    return f"(data #> {params.add(field.split('.'))})"


def _nested(field, value):
    """``{"a": {"b": value}}`` for the field ``a.b``."""
    for part in reversed(field.split(".")):
        value = {part: value}
    return value


def _compare_json(x, op, value, params):
    kind = _json_type(value)
    if kind == "string":
        return f"(jsonb_typeof({x}) = 'string' AND ({x} #>> '{{}}') COLLATE \"C\" {op} {params.add(value)})"
    if kind == "number":
        cast = f"CAST({params.add(value)} AS numeric)"
        return f"(jsonb_typeof({x}) = 'number' AND ({x} #>> '{{}}')::numeric {op} {cast})"
    if kind == "boolean":
        return f"(jsonb_typeof({x}) = 'boolean' AND {x} {op} CAST({params.add(dumps(value))} AS jsonb))"
    return "FALSE"


def _like_pattern(value):
    text = escape_like(str(value))
    if "*" not in text:
        text = f"*{text}*"
    return text.replace("*", "%")


SPELLING = Spelling(
    true="TRUE",
    false="FALSE",
    in_list=lambda column, values, params: f"{column} = ANY({params.add(values)})",
    like=lambda column, pattern, params: f"({column}::text ILIKE {params.add(_like_pattern(pattern))})",
)


def filter_sql(flt, params, indexed=frozenset()):
    """A boolean SQL expression for one filter; ``indexed``: the data
    fields with an equality index (kinto_server/storage/postgresql.py)."""
    if flt.field in COLUMNS:
        return column_filter(flt, params, SPELLING)
    op, value = flt.operator, flt.value
    if op is Operator.EQ and flt.field in indexed and (value is None or _json_type(value) is not None):
        # The same rows as containment (below), spelled as the index is, whose
        # statistics (ANALYZE keeps them for index expressions) then let the
        # planner choose between it and the timestamp order.
        return f"{field_value(flt.field, params)} = CAST({params.add(dumps(value))} AS jsonb)"
    if op is Operator.EQ and (value is None or _json_type(value) is not None):
        # For a scalar, containment is equality (1 = 1.0, null is not missing,
        # no match through arrays), and the planner estimates it far better:
        # it keeps to the timestamp index instead of sorting the collection.
        return f"data @> CAST({params.add(dumps(_nested(flt.field, value)))} AS jsonb)"
    x = field_value(flt.field, params)
    if op is Operator.EQ:
        return f"{x} = CAST({params.add(dumps(value))} AS jsonb)"
    if op is Operator.NOT:
        return f"({x} IS NULL OR {x} <> CAST({params.add(dumps(value))} AS jsonb))"
    if op in (Operator.IN, Operator.EXCLUDE):
        clause = f"{x} = ANY(CAST({params.add([dumps(v) for v in value])} AS jsonb[]))"
        return clause if op is Operator.IN else f"({x} IS NULL OR NOT ({clause}))"
    if op is Operator.HAS:
        return f"{x} IS NOT NULL" if value else f"{x} IS NULL"
    if op is Operator.LIKE:
        return f"(jsonb_typeof({x}) = 'string' AND ({x} #>> '{{}}') ILIKE {params.add(_like_pattern(value))})"
    if op is Operator.CONTAINS:
        return f"(jsonb_typeof({x}) = 'array' AND {x} @> CAST({params.add(dumps(value))} AS jsonb))"
    if op is Operator.CONTAINS_ANY:
        values = f"jsonb_array_elements(CAST({params.add(dumps(value))} AS jsonb)) AS e(v)"
        any_found = f"EXISTS (SELECT 1 FROM {values} WHERE {x} @> jsonb_build_array(e.v))"
        return f"(jsonb_typeof({x}) = 'array' AND {any_found})"
    return _compare_json(x, COMPARATORS[op], value, params)


def where_filters(filters, params, indexed=frozenset()):
    return " AND ".join(filter_sql(f, params, indexed) for f in filters) or "TRUE"


# Sort keys: a data field sorts by four sub-keys (type rank, string, number,
# other JSON), none of them NULL, so that keyset comparisons stay simple.
_RANKS = {"null": 0, "string": 1, "number": 2, "boolean": 3, "array": 4, "object": 5}
_MISSING_RANK = 7


def _rank_sql(x):
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in _RANKS.items())
    return f"(CASE WHEN {x} IS NULL THEN {_MISSING_RANK} ELSE (CASE jsonb_typeof({x}) {cases} END) END)"


def _rank_of(value):
    if value is MISSING:
        return _MISSING_RANK
    if value is None:
        return 0
    kind = _json_type(value)
    if kind is not None:
        return _RANKS[kind]
    return 4 if isinstance(value, list) else 5


def sort_keys(sort, params):
    """``[(sql expression, value of the key for an object, cast)]`` for one sort."""
    if sort.field in COLUMNS:
        return [(sort.field, lambda obj, f=sort.field: obj.get(f), "")]
    x = field_value(sort.field, params)
    string = f"COALESCE(CASE WHEN jsonb_typeof({x}) = 'string' THEN {x} #>> '{{}}' END, '') COLLATE \"C\""
    number = f"COALESCE(CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x} #>> '{{}}')::numeric END, 0)"
    other = f"COALESCE(CASE WHEN jsonb_typeof({x}) IN ('boolean', 'array', 'object') THEN {x} END, 'null'::jsonb)"

    def value(obj, field=sort.field):
        return resolve(obj, field)

    return [
        (_rank_sql(x), lambda obj: _rank_of(value(obj)), ""),
        (string, lambda obj: v if isinstance(v := value(obj), str) else "", ""),
        (number, lambda obj: v if _json_type(v := value(obj)) == "number" else 0, "numeric"),
        (other, lambda obj: dumps(v) if _rank_of(v := value(obj)) in (3, 4, 5) else "null", "jsonb"),
    ]


def order_and_keyset(sorting, after, params):
    """The ORDER BY clause, and the WHERE clause selecting rows after ``after``."""
    keys = []
    for sort in sorting:
        keys.extend((expr, value, cast, sort.descending) for expr, value, cast in sort_keys(sort, params))
    if not (sorting and sorting[0].field == "last_modified"):
        # Timestamps are unique within a parent: after one, an id tie-break is
        # useless, and leaving it out lets the timestamp index give the order.
        keys.append(("id", lambda obj: obj.get("id", ""), "", False))
    order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, _, _, desc in keys)
    if after is None:
        return order, "TRUE"
    bound = []
    for expr, value, cast, desc in keys:
        placeholder = params.add(value(after))
        bound.append((expr, f"CAST({placeholder} AS {cast})" if cast else placeholder, desc))
    # k1 > v1 OR (k1 = v1 AND (k2 > v2 OR (k2 = v2 AND ...))): each key
    # appears twice, so the SQL grows linearly with the number of keys (the
    # flat OR of prefixes grows with its square).
    expr, placeholder, desc = bound[-1]
    after_keys = f"{expr} {'<' if desc else '>'} {placeholder}"
    for expr, placeholder, desc in reversed(bound[:-1]):
        after_keys = f"({expr} {'<' if desc else '>'} {placeholder} OR ({expr} = {placeholder} AND {after_keys}))"
    first_expr, first_placeholder, first_desc = bound[0]
    # A redundant bound on the leading key lets an index serve the range.
    leading = f"{first_expr} {'<=' if first_desc else '>='} {first_placeholder}"
    return order, f"({leading} AND {after_keys})"
